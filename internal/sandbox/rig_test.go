package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

// rig is a sandbox mounted under /sandbox/github/ as ai3 dev mounts it, with
// a recording webhook sink and a timer the test fires by hand.
type rig struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	srv   *httptest.Server
	base  string // the stand-in's root URL
	timer *manualTimer
	// minted is the answer of the last installation token request.
	minted result

	mu    sync.Mutex
	hooks []hook
}

type hook struct {
	event, id, key string
	payload        map[string]any
	raw            []byte
}

func newRig(t *testing.T, mutate ...func(*sandbox.Config)) *rig {
	t.Helper()
	r := &rig{t: t, timer: &manualTimer{}}
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	r.base = r.srv.URL + "/sandbox/github"
	cfg := sandbox.Config{BaseURL: r.base, InstallationID: 77, AfterFunc: r.timer.AfterFunc, Deliver: r.deliver}
	for _, m := range mutate {
		m(&cfg)
	}
	sb, err := sandbox.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	r.sb = sb
	mux.Handle("/sandbox/github/", http.StripPrefix("/sandbox/github", sb))
	return r
}

func (r *rig) deliver(ctx context.Context, event, id string, payload []byte) {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		r.t.Errorf("webhook %s is not JSON: %v", event, err)
	}
	r.mu.Lock()
	r.hooks = append(r.hooks, hook{event: event, id: id, key: sandbox.OrderKey(ctx), payload: m, raw: payload})
	r.mu.Unlock()
}

func (r *rig) webhooks() []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hook(nil), r.hooks...)
}

// installationToken mints an installation token through the API, as
// internal/githubapp does (an App JWT).
func (r *rig) installationToken() string {
	r.t.Helper()
	key, err := jwt.ParseRSAPrivateKeyFromPEM(r.sb.AppPrivateKey())
	if err != nil {
		r.t.Fatal(err)
	}
	now := time.Now()
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{Issuer: strconv.FormatInt(r.sb.AppID(), 10),
		IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute))}).SignedString(key)
	if err != nil {
		r.t.Fatal(err)
	}
	res := r.do("POST", "app/installations/77/access_tokens", "Bearer "+signed, nil)
	if res.status != 201 {
		r.t.Fatalf("installation token: %d %s", res.status, res.raw)
	}
	r.minted = res
	return "token " + res.obj()["token"].(string)
}

// userToken is a user-to-server token for a sandbox user.
func (r *rig) userToken(login string) string {
	return "Bearer " + r.sb.IssueUserToken(login).AccessToken
}

type result struct {
	method, path string // path relative to the API root
	status       int
	header       http.Header
	raw          []byte
}

func (x result) obj() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(x.raw, &m)
	return m
}

func (x result) list() []map[string]any {
	var l []map[string]any
	_ = json.Unmarshal(x.raw, &l)
	return l
}

// do calls the REST API (path relative to /api/v3/) with an Authorization
// header value and a JSON body.
func (r *rig) do(method, path, auth string, body any) result {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+"/api/v3/"+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p, _, _ := strings.Cut(path, "?")
	return result{method: method, path: "/" + p, status: resp.StatusCode, header: resp.Header, raw: raw}
}

// manualTimer holds scheduled functions until the test fires them.
type manualTimer struct {
	mu      sync.Mutex
	pending []func()
	delays  []time.Duration
}

func (m *manualTimer) AfterFunc(d time.Duration, f func()) {
	m.mu.Lock()
	m.pending = append(m.pending, f)
	m.delays = append(m.delays, d)
	m.mu.Unlock()
}

// fire runs what is scheduled now (not what those functions schedule) and
// reports how many ran.
func (m *manualTimer) fire() int {
	m.mu.Lock()
	fs := m.pending
	m.pending, m.delays = nil, nil
	m.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs)
}
