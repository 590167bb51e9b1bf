package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

var secret = []byte("It's a Secret to Everybody")

// rig is a receiver wired to in-memory ports, with a clock the test moves.
type rig struct {
	r       *webhook.Receiver
	archive *memArchive
	bus     *memBus
	claims  *memClaims
	now     time.Time
	mu      sync.Mutex
}

func newRig(t testing.TB) *rig {
	t.Helper()
	g := &rig{archive: &memArchive{}, bus: &memBus{}, claims: &memClaims{}, now: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)}
	r, err := webhook.New(context.Background(), webhook.Config{
		Secrets:   staticSecrets{secrets: [][]byte{secret}},
		Claims:    g.claims,
		Archive:   g.archive,
		Publisher: g.bus,
		Now:       g.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.r = r
	return g
}

func (g *rig) clock() time.Time { g.mu.Lock(); defer g.mu.Unlock(); return g.now }
func (g *rig) advance(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now = g.now.Add(d)
}

const issuePayload = `{"action":"created","installation":{"id":42},"repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"},"comment":{"body":"@ai3-mvp run ci"}}`

// delivery returns a correctly signed JSON delivery of body.
func delivery(id, body string) webhook.Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(webhook.EventHeader, "issue_comment")
	h.Set(webhook.DeliveryHeader, id)
	h.Set(webhook.HookIDHeader, "123")
	h.Set(webhook.SignatureHeader, webhook.Sign(secret, []byte(body)))
	return webhook.Request{Method: http.MethodPost, Header: h, Body: strings.NewReader(body), ContentLength: int64(len(body))}
}

func decode(t testing.TB, resp webhook.Response) webhook.Answer {
	t.Helper()
	var a webhook.Answer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		t.Fatalf("response body %q is not JSON: %v", resp.Body, err)
	}
	return a
}

func TestAcceptsPublishesAndDeduplicates(t *testing.T) {
	g := newRig(t)
	ctx := context.Background()
	resp := g.r.Handle(ctx, delivery("d-1", issuePayload))
	if a := decode(t, resp); resp.Status != 200 || !a.OK || a.Delivery != "d-1" || a.Duplicate {
		t.Fatalf("first delivery = %d %s", resp.Status, resp.Body)
	}
	envs := g.bus.envelopes()
	if len(envs) != 1 {
		t.Fatalf("published %d envelopes, want 1", len(envs))
	}
	env := envs[0]
	want := events.Envelope{
		DeliveryID: "d-1", Event: "issue_comment", Action: "created", HookID: "123", InstallationID: 42,
		Repository: "acme/widgets", Sender: "octocat", ReceivedAt: g.clock(), PayloadComplete: true,
		S3Reference: &events.Ref{Bucket: "mem", Key: "2026/11/28/issue_comment/123/d-1.json"},
	}
	got := *env
	got.Payload = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("envelope = %+v (ref %+v)\nwant       %+v (ref %+v)", got, *got.S3Reference, want, *want.S3Reference)
	}
	if string(env.Payload) != issuePayload {
		t.Fatalf("inline payload = %s", env.Payload)
	}
	if b, _ := g.archive.Get(ctx, *env.S3Reference); string(b) != issuePayload {
		t.Fatalf("archived payload = %s", b)
	}

	g.advance(time.Hour)
	resp = g.r.Handle(ctx, delivery("d-1", issuePayload))
	if a := decode(t, resp); resp.Status != 200 || !a.OK || !a.Duplicate {
		t.Fatalf("redelivery = %d %s, want 200 duplicate", resp.Status, resp.Body)
	}
	if n := len(g.bus.envelopes()); n != 1 {
		t.Fatalf("redelivery published again: %d envelopes", n)
	}

	// The same delivery id on another hook is a separate delivery.
	other := delivery("d-1", issuePayload)
	other.Header.Set(webhook.HookIDHeader, "456")
	if resp := g.r.Handle(ctx, other); resp.Status != 200 || decode(t, resp).Duplicate {
		t.Fatalf("delivery to a second hook = %d %s, want 200 not duplicate", resp.Status, resp.Body)
	}
}

func TestFormEncodedBody(t *testing.T) {
	g := newRig(t)
	body := url.Values{"payload": {issuePayload}}.Encode()
	req := delivery("d-form", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := g.r.Handle(context.Background(), req)
	if resp.Status != 200 {
		t.Fatalf("form delivery = %d %s", resp.Status, resp.Body)
	}
	if envs := g.bus.envelopes(); len(envs) != 1 || string(envs[0].Payload) != issuePayload {
		t.Fatalf("form delivery published %v, want the decoded payload", envs)
	}
}

func TestLargePayloadTravelsByReference(t *testing.T) {
	g := newRig(t)
	body := `{"action":"big","padding":"` + strings.Repeat("x", events.InlineLimit) + `"}`
	if resp := g.r.Handle(context.Background(), delivery("d-big", body)); resp.Status != 200 {
		t.Fatalf("large delivery = %d %s", resp.Status, resp.Body)
	}
	env := g.bus.envelopes()[0]
	if env.PayloadComplete || env.Payload != nil || env.S3Reference == nil {
		t.Fatalf("large envelope: complete=%v inline=%d ref=%v; want reference only", env.PayloadComplete, len(env.Payload), env.S3Reference)
	}
	got, err := events.Load(context.Background(), g.archive, env)
	if err != nil || string(got) != body {
		t.Fatalf("Load = %d bytes, %v; want the whole payload", len(got), err)
	}
}

func TestRotationAcceptsEitherSecret(t *testing.T) {
	bus := &memBus{}
	r, err := webhook.New(context.Background(), webhook.Config{
		Secrets: staticSecrets{secrets: [][]byte{[]byte("new"), secret}},
		Claims:  &memClaims{}, Archive: &memArchive{}, Publisher: bus,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range [][]byte{[]byte("new"), secret} {
		req := delivery(fmt.Sprint("rot-", i), issuePayload)
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(key, []byte(issuePayload)))
		if resp := r.Handle(context.Background(), req); resp.Status != 200 {
			t.Fatalf("signed with secret %d: %d %s", i, resp.Status, resp.Body)
		}
	}
}

func TestNewRefusesMissingOrEmptySecret(t *testing.T) {
	for name, src := range map[string]webhook.SecretSource{
		"empty list":      staticSecrets{},
		"empty secret":    staticSecrets{secrets: [][]byte{{}}},
		"unreadable":      staticSecrets{err: errors.New("access denied")},
		"file with blank": webhook.CacheSecrets(staticSecrets{secrets: nil}, time.Minute, nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := webhook.New(context.Background(), webhook.Config{Secrets: src, Claims: &memClaims{}, Archive: &memArchive{}, Publisher: &memBus{}})
			if err == nil {
				t.Fatal("New accepted a receiver without a usable secret")
			}
		})
	}
}

func TestSecretUnavailableAtRunTime(t *testing.T) {
	src := &flakySecrets{secrets: [][]byte{secret}}
	bus := &memBus{}
	claims := &memClaims{}
	r, err := webhook.New(context.Background(), webhook.Config{Secrets: src, Claims: claims, Archive: &memArchive{}, Publisher: bus})
	if err != nil {
		t.Fatal(err)
	}
	src.set(errors.New("throttled"))
	resp := r.Handle(context.Background(), delivery("d-s", issuePayload))
	if a := decode(t, resp); resp.Status != 503 || a.Error != "secret_unavailable" {
		t.Fatalf("with the secret unreadable = %d %s, want 503 secret_unavailable", resp.Status, resp.Body)
	}
	if len(bus.envelopes()) != 0 || claims.len() != 0 {
		t.Fatal("a delivery was recorded while its signature could not be checked")
	}
}

type flakySecrets struct {
	mu      sync.Mutex
	secrets [][]byte
	err     error
}

func (f *flakySecrets) set(err error) { f.mu.Lock(); defer f.mu.Unlock(); f.err = err }
func (f *flakySecrets) Secrets(ctx context.Context) ([][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets, f.err
}

// errReader fails mid-body, like a client that hangs up.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestChunkedBodyOverLimit(t *testing.T) {
	g := newRig(t)
	body := bytes.Repeat([]byte(" "), webhook.DefaultMaxBody+1)
	req := delivery("d-huge", string(body))
	req.ContentLength = -1
	if resp := g.r.Handle(context.Background(), req); resp.Status != 413 {
		t.Fatalf("chunked 25 MB + 1 body = %d, want 413", resp.Status)
	}
}

// The wire shape of answers is part of the contract with GitHub's delivery
// log and operators' tooling.
func TestAnswerShapes(t *testing.T) {
	g := newRig(t)
	ok := g.r.Handle(context.Background(), delivery("shape-1", issuePayload))
	dup := g.r.Handle(context.Background(), delivery("shape-1", issuePayload))
	bad := delivery("shape-2", issuePayload)
	bad.Header.Set(webhook.SignatureHeader, "sha256=00")
	refused := g.r.Handle(context.Background(), bad)
	for _, tc := range []struct {
		resp webhook.Response
		want string
	}{
		{ok, `{"ok":true,"delivery":"shape-1","duplicate":false}` + "\n"},
		{dup, `{"ok":true,"delivery":"shape-1","duplicate":true}` + "\n"},
		{refused, `{"ok":false,"error":"bad_signature","message":"X-Hub-Signature-256 does not match the payload"}` + "\n"},
	} {
		if string(tc.resp.Body) != tc.want {
			t.Errorf("answer %s, want %s", tc.resp.Body, tc.want)
		}
	}
}

// TestSameDeliveryIDUnderTwoHooks: the claim key holds the hook id, so one
// delivery id under two hooks is two deliveries; their payloads are archived
// apart, neither overwriting the other.
func TestSameDeliveryIDUnderTwoHooks(t *testing.T) {
	g := newRig(t)
	bodies := map[string]string{"123": issuePayload, "456": strings.Replace(issuePayload, "@ai3-mvp", "@ai3-mvp please", 1)}
	for hook, body := range bodies {
		req := delivery("same-id", body)
		req.Header.Set(webhook.HookIDHeader, hook)
		if resp := g.r.Handle(context.Background(), req); resp.Status != 200 {
			t.Fatalf("hook %s: %d %s", hook, resp.Status, resp.Body)
		}
	}
	envs := g.bus.envelopes()
	if len(envs) != 2 || envs[0].S3Reference.Key == envs[1].S3Reference.Key {
		t.Fatalf("published %d envelopes with keys %v; want two with distinct archive keys", len(envs), envs)
	}
	for _, env := range envs {
		got, err := g.archive.Get(context.Background(), *env.S3Reference)
		if err != nil || string(got) != bodies[env.HookID] {
			t.Fatalf("hook %s's archived payload = %q, %v; want its own", env.HookID, got, err)
		}
	}
}
