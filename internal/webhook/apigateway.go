package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// HandleAPIGateway answers an API Gateway REST proxy event (the receiver
// Lambda's handler). Base64 bodies are decoded; single- and multi-value
// headers are merged and matched case-insensitively. It never returns an
// error: every failure is an HTTP answer.
func (r *Receiver) HandleAPIGateway(ctx context.Context, ev lambdaevents.APIGatewayProxyRequest) (lambdaevents.APIGatewayProxyResponse, error) {
	req := Request{Method: ev.HTTPMethod, Header: gatewayHeader(ev)}
	if ev.IsBase64Encoded {
		body, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return gatewayResponse(failure(http.StatusBadRequest, "bad_body", "body is not valid base64")), nil
		}
		req.Body, req.ContentLength = bytes.NewReader(body), int64(len(body))
	} else {
		req.Body, req.ContentLength = strings.NewReader(ev.Body), int64(len(ev.Body))
	}
	return gatewayResponse(r.Handle(ctx, req)), nil
}

func gatewayResponse(resp Response) lambdaevents.APIGatewayProxyResponse {
	out := lambdaevents.APIGatewayProxyResponse{
		StatusCode: resp.Status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(resp.Body),
	}
	for k, v := range resp.Header {
		out.Headers[k] = strings.Join(v, ", ")
	}
	return out
}

// gatewayHeader merges an event's headers into an http.Header, which
// canonicalises names so lookups ignore case.
func gatewayHeader(ev lambdaevents.APIGatewayProxyRequest) http.Header {
	h := make(http.Header, len(ev.Headers)+len(ev.MultiValueHeaders))
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	return h
}
