package webhook_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

func TestHTTPTransport(t *testing.T) {
	g := newRig(t)
	srv := httptest.NewServer(webhook.HTTPHandler(g.r))
	defer srv.Close()

	post := func(body string, header map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		for k, v := range header {
			req.Header[k] = []string{v} // as sent, not canonicalised by us
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Lower-case header names, as HTTP/2 clients and proxies send them.
	resp := post(issuePayload, map[string]string{
		"content-type":        "application/json; charset=utf-8",
		"x-github-event":      "issue_comment",
		"x-github-delivery":   "h-1",
		"x-github-hook-id":    "9",
		"x-hub-signature-256": webhook.Sign(secret, []byte(issuePayload)),
	})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST = %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var a webhook.Answer
	if err := json.Unmarshal(body, &a); err != nil || !a.OK || a.Delivery != "h-1" {
		t.Fatalf("answer %s: %v", body, err)
	}

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET = %d Allow=%q, want 405 Allow=POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestAPIGatewayTransport(t *testing.T) {
	sig := webhook.Sign(secret, []byte(issuePayload))
	cases := []struct {
		name   string
		event  lambdaevents.APIGatewayProxyRequest
		status int
		code   string
	}{
		{"plain body, lower-case headers", lambdaevents.APIGatewayProxyRequest{
			HTTPMethod: "POST", Body: issuePayload,
			Headers: map[string]string{"content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": "a-1", "x-github-hook-id": "9", "x-hub-signature-256": sig},
		}, 200, ""},
		{"base64 body, mixed-case headers", lambdaevents.APIGatewayProxyRequest{
			HTTPMethod: "POST", Body: base64.StdEncoding.EncodeToString([]byte(issuePayload)), IsBase64Encoded: true,
			Headers: map[string]string{"Content-Type": "application/json", "X-GitHub-Event": "issue_comment", "X-GITHUB-DELIVERY": "a-2", "X-Github-Hook-Id": "9", "X-Hub-Signature-256": sig},
		}, 200, ""},
		{"multi-value headers only", lambdaevents.APIGatewayProxyRequest{
			HTTPMethod: "POST", Body: issuePayload,
			MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}, "X-GitHub-Event": {"issue_comment"}, "X-GitHub-Delivery": {"a-3"}, "X-GitHub-Hook-ID": {"9"}, "X-Hub-Signature-256": {sig}},
		}, 200, ""},
		{"invalid base64", lambdaevents.APIGatewayProxyRequest{
			HTTPMethod: "POST", Body: "%%%", IsBase64Encoded: true,
			Headers: map[string]string{"content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": "a-4", "x-github-hook-id": "9", "x-hub-signature-256": sig},
		}, 400, "bad_body"},
		{"base64 body signed as text", lambdaevents.APIGatewayProxyRequest{
			HTTPMethod: "POST", Body: base64.StdEncoding.EncodeToString([]byte(issuePayload)), IsBase64Encoded: true,
			Headers: map[string]string{"content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": "a-5", "x-github-hook-id": "9",
				"x-hub-signature-256": webhook.Sign(secret, []byte(base64.StdEncoding.EncodeToString([]byte(issuePayload))))},
		}, 401, "bad_signature"},
		{"GET", lambdaevents.APIGatewayProxyRequest{HTTPMethod: "GET"}, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t)
			resp, err := g.r.HandleAPIGateway(context.Background(), tc.event)
			if err != nil {
				t.Fatalf("HandleAPIGateway returned an error (Lambda would answer 502): %v", err)
			}
			var a webhook.Answer
			if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			if resp.StatusCode != tc.status || a.Error != tc.code || resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("= %d %v %s, want %d %q", resp.StatusCode, resp.Headers, resp.Body, tc.status, tc.code)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.status == 200]; len(g.bus.envelopes()) != want {
				t.Fatalf("published %d envelopes, want %d", len(g.bus.envelopes()), want)
			}
		})
	}
}

// A client that stops sending mid-body is cut off after BodyTimeout with 400,
// and nothing is recorded. The answer names no socket address: it gives a
// request id, under which the log has the details.
func TestHTTPTransportSlowBody(t *testing.T) {
	bus := &memBus{}
	var logs testenv.SyncBuffer
	r, err := webhook.New(context.Background(), webhook.Config{
		Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: &memClaims{}, Archive: &memArchive{}, Publisher: bus,
		BodyTimeout: 200 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.HTTPHandler(r))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: issues\r\n"+
		"X-GitHub-Delivery: slow-1\r\nX-GitHub-Hook-ID: 1\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n%s",
		webhook.Sign(secret, []byte(issuePayload)), len(issuePayload), issuePayload[:10])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 {
		t.Fatalf("stalled body = %d, want 400", resp.StatusCode)
	}
	if len(bus.envelopes()) != 0 {
		t.Fatal("a stalled delivery was published")
	}
	var a map[string]any
	_ = json.Unmarshal(body, &a)
	id, _ := a["request_id"].(string)
	if strings.Contains(string(body), "127.0.0.1") || strings.Contains(string(body), "tcp") || id == "" {
		t.Fatalf("answer %s: want no socket address, and a request id", body)
	}
	if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "timeout") {
		t.Fatalf("the log lacks the details under %s:\n%s", id, logs.String())
	}
}
