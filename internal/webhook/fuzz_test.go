package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// FuzzVerifySignature: a signature is accepted exactly when it is the
// HMAC-SHA256 of the body under the secret, and any change to the body
// rejects it.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("secret"), []byte(`{"a":1}`), "sha256=")
	f.Add([]byte("k"), []byte(""), "sha1=abc")
	f.Add([]byte(""), []byte("x"), webhook.Sign(nil, []byte("x")))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		want := webhook.Sign(secret, body)
		err := webhook.VerifySignature([][]byte{secret}, body, header)
		if err == nil && (len(secret) == 0 || !strings.EqualFold(header, want) || !strings.HasPrefix(header, "sha256=")) {
			t.Fatalf("accepted header %q; the signature is %q", header, want)
		}
		if len(secret) == 0 {
			if webhook.VerifySignature([][]byte{secret}, body, want) == nil {
				t.Fatal("an empty secret accepted a signature")
			}
			return
		}
		if err := webhook.VerifySignature([][]byte{[]byte("other"), secret}, body, want); err != nil {
			t.Fatalf("rejected the correct signature: %v", err)
		}
		changed := append(bytes.Clone(body), 'x')
		if webhook.VerifySignature([][]byte{secret}, changed, want) == nil {
			t.Fatal("accepted the signature for a changed body")
		}
	})
}

// FuzzParsePayload: parsing never panics and only ever returns something that
// starts like a JSON object.
func FuzzParsePayload(f *testing.F) {
	f.Add(false, []byte(`{"action":"opened"}`))
	f.Add(true, []byte(`payload=%7B%22a%22%3A1%7D`))
	f.Add(true, []byte(`payload=%zz`))
	f.Add(false, []byte(` [1]`))
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		mt := "application/json"
		if form {
			mt = "application/x-www-form-urlencoded"
		}
		p, err := webhook.ParsePayload(mt, body)
		if err != nil {
			return
		}
		if t := bytes.TrimLeft(p, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			panic("ParsePayload returned a non-object")
		}
	})
}

// FuzzHandleBody: any correctly signed body is either accepted (and then its
// archived payload is valid JSON and one envelope is published) or refused
// with 400; it never causes a 5xx, a panic, or a partial record.
func FuzzHandleBody(f *testing.F) {
	f.Add(false, []byte(issuePayload))
	f.Add(true, []byte("payload="+issuePayload))
	f.Add(false, []byte(`{"repository":{"full_name":7}}`))
	f.Add(false, []byte(`{"installation":{"id":"x"}}`))
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		g := newRig(t)
		req := delivery("d-fuzz", string(body))
		if form {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp := g.r.Handle(context.Background(), req)
		switch resp.Status {
		case http.StatusOK:
			envs := g.bus.envelopes()
			if len(envs) != 1 || envs[0].S3Reference == nil {
				t.Fatalf("accepted but published %d envelopes", len(envs))
			}
			archived, err := g.archive.Get(context.Background(), *envs[0].S3Reference)
			if err != nil || !json.Valid(archived) {
				t.Fatalf("accepted payload archived as %q (%v)", archived, err)
			}
		case http.StatusBadRequest:
			if g.claims.len()+g.archive.len()+len(g.bus.envelopes()) != 0 {
				t.Fatal("a refused body left state behind")
			}
		default:
			t.Fatalf("signed body answered %d %s", resp.Status, resp.Body)
		}
	})
}
