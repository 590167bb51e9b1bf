package httpgw_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sbalswa/ai3-mvp/internal/aws/httpgw"
)

func TestHandlerRoundTrip(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "%s %s state=%s multi=%v accept=%s body=%s", r.Method, r.URL.Path, r.URL.Query().Get("state"),
			r.URL.Query()["m"], r.Header.Get("accept"), b)
	})
	cases := []struct {
		name string
		ev   events.APIGatewayProxyRequest
		want string
	}{
		{"query, headers, plain body", events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/oauth/callback",
			QueryStringParameters: map[string]string{"state": "s1"}, MultiValueQueryStringParameters: map[string][]string{"m": {"1", "2"}},
			Headers: map[string]string{"Accept": "text/html"}, Body: "x"}, "GET /oauth/callback state=s1 multi=[1 2] accept=text/html body=x"},
		{"base64 body", events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/p", IsBase64Encoded: true,
			Body: base64.StdEncoding.EncodeToString([]byte("hello"))}, "POST /p state= multi=[] accept= body=hello"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := httpgw.Handler(h)(context.Background(), c.ev)
			if err != nil || resp.StatusCode != http.StatusTeapot || resp.Body != c.want || len(resp.MultiValueHeaders["Set-Cookie"]) != 2 {
				t.Fatalf("got %d %q %v (err %v), want 418 %q", resp.StatusCode, resp.Body, resp.MultiValueHeaders, err, c.want)
			}
		})
	}
	resp, _ := httpgw.Handler(h)(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/", IsBase64Encoded: true, Body: "%%%"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad base64 = %d, want 400", resp.StatusCode)
	}
}
