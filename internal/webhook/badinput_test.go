package webhook_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// TestBadInput is the bad-input matrix: each malformed request gets its own
// status and error code, and leaves nothing claimed, archived or published.
func TestBadInput(t *testing.T) {
	signed := func(body string) func(*webhook.Request) {
		return func(r *webhook.Request) {
			r.Body, r.ContentLength = strings.NewReader(body), int64(len(body))
			r.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, []byte(body)))
		}
	}
	cases := []struct {
		name   string
		mutate func(*webhook.Request)
		status int
		code   string
	}{
		{"GET", func(r *webhook.Request) { r.Method = http.MethodGet }, 405, "method_not_allowed"},
		{"PUT", func(r *webhook.Request) { r.Method = http.MethodPut }, 405, "method_not_allowed"},
		{"no Content-Type", func(r *webhook.Request) { r.Header.Del("Content-Type") }, 415, "unsupported_media_type"},
		{"text/plain", func(r *webhook.Request) { r.Header.Set("Content-Type", "text/plain") }, 415, "unsupported_media_type"},
		{"malformed Content-Type", func(r *webhook.Request) { r.Header.Set("Content-Type", "application/json; =") }, 415, "unsupported_media_type"},
		{"no X-GitHub-Event", func(r *webhook.Request) { r.Header.Del(webhook.EventHeader) }, 400, "missing_header"},
		{"no X-GitHub-Delivery", func(r *webhook.Request) { r.Header.Del(webhook.DeliveryHeader) }, 400, "missing_header"},
		{"no X-GitHub-Hook-ID", func(r *webhook.Request) { r.Header.Del(webhook.HookIDHeader) }, 400, "missing_header"},
		{"delivery id with a path", func(r *webhook.Request) { r.Header.Set(webhook.DeliveryHeader, "../../etc/passwd") }, 400, "bad_header"},
		{"event with a slash", func(r *webhook.Request) { r.Header.Set(webhook.EventHeader, "issues/x") }, 400, "bad_header"},
		{"announced length over 25 MB", func(r *webhook.Request) { r.ContentLength = webhook.DefaultMaxBody + 1 }, 413, "too_large"},
		{"body shorter than announced", func(r *webhook.Request) { r.ContentLength += 10 }, 400, "bad_body"},
		{"body longer than announced", func(r *webhook.Request) { r.ContentLength -= 10 }, 400, "bad_body"},
		{"body read fails", func(r *webhook.Request) { r.Body, r.ContentLength = errReader{}, -1 }, 400, "bad_body"},
		{"no signature", func(r *webhook.Request) { r.Header.Del(webhook.SignatureHeader) }, 401, "bad_signature"},
		{"SHA-1 signature only", func(r *webhook.Request) {
			r.Header.Del(webhook.SignatureHeader)
			r.Header.Set("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")
		}, 401, "bad_signature"},
		{"signature by another secret", func(r *webhook.Request) {
			r.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte("wrong"), []byte(issuePayload)))
		}, 401, "bad_signature"},
		{"signature without prefix", func(r *webhook.Request) {
			r.Header.Set(webhook.SignatureHeader, strings.TrimPrefix(r.Header.Get(webhook.SignatureHeader), "sha256="))
		}, 401, "bad_signature"},
		{"signature not hex", func(r *webhook.Request) { r.Header.Set(webhook.SignatureHeader, "sha256="+strings.Repeat("zz", 32)) }, 401, "bad_signature"},
		{"signature truncated", func(r *webhook.Request) {
			r.Header.Set(webhook.SignatureHeader, r.Header.Get(webhook.SignatureHeader)[:40])
		}, 401, "bad_signature"},
		{"body changed after signing", func(r *webhook.Request) {
			b := strings.Replace(issuePayload, "octocat", "mallory", 1)
			r.Body, r.ContentLength = strings.NewReader(b), int64(len(b))
		}, 401, "bad_signature"},
		{"truncated JSON", signed(`{"action":"created"`), 400, "bad_payload"},
		{"JSON array", signed(`[1,2,3]`), 400, "bad_payload"},
		{"JSON null", signed(`null`), 400, "bad_payload"},
		{"empty body", signed(``), 400, "bad_payload"},
		{"trailing garbage", signed(`{"action":"x"} {}`), 400, "bad_payload"},
		{"form without payload field", func(r *webhook.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signed(url.Values{"other": {issuePayload}}.Encode())(r)
		}, 400, "bad_payload"},
		{"form with bad escaping", func(r *webhook.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signed("payload=%zz")(r)
		}, 400, "bad_payload"},
		{"form payload not JSON", func(r *webhook.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signed(url.Values{"payload": {"hello"}}.Encode())(r)
		}, 400, "bad_payload"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t)
			req := delivery("d-bad", issuePayload)
			tc.mutate(&req)
			resp := g.r.Handle(context.Background(), req)
			a := decode(t, resp)
			if resp.Status != tc.status || a.Error != tc.code || a.OK || a.Message == "" {
				t.Fatalf("got %d %s, want %d with error %q and a message", resp.Status, resp.Body, tc.status, tc.code)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != http.MethodPost {
				t.Fatalf("405 without Allow: POST (got %v)", resp.Header)
			}
			if g.claims.len() != 0 || g.archive.len() != 0 || len(g.bus.envelopes()) != 0 {
				t.Fatalf("bad input left state: %d claims, %d archived, %d published", g.claims.len(), g.archive.len(), len(g.bus.envelopes()))
			}
		})
	}
}
