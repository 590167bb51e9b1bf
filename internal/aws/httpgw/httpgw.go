// Package httpgw runs a net/http handler behind API Gateway's REST proxy
// integration, so the OAuth Lambdas serve the same handlers `ai3 dev` does.
package httpgw

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Handler adapts h to a Lambda handler for API Gateway REST proxy events.
func Handler(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		req, err := Request(ctx, ev)
		if err != nil {
			return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest, Body: err.Error()}, nil
		}
		w := &recorder{header: http.Header{}}
		h.ServeHTTP(w, req)
		return w.response(), nil
	}
}

// Request converts a proxy event to an *http.Request.
func Request(ctx context.Context, ev events.APIGatewayProxyRequest) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("body is not valid base64: %w", err)
		}
	}
	q := url.Values{}
	for k, vs := range ev.MultiValueQueryStringParameters {
		q[k] = append(q[k], vs...)
	}
	for k, v := range ev.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	u := &url.URL{Path: ev.Path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, ev.HTTPMethod, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if req.Header.Get(k) == "" {
			req.Header.Set(k, v)
		}
	}
	req.Host = req.Header.Get("Host")
	req.RemoteAddr = ev.RequestContext.Identity.SourceIP
	return req, nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) response() events.APIGatewayProxyResponse {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	out := events.APIGatewayProxyResponse{StatusCode: r.status, MultiValueHeaders: map[string][]string{}}
	for k, vs := range r.header {
		out.MultiValueHeaders[k] = vs
	}
	ct := r.header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || r.body.Len() == 0 {
		out.Body = r.body.String()
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(r.body.Bytes()), true
	}
	return out
}
