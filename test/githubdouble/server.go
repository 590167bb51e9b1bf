// Package githubdouble is the tests' GitHub: the production GitHub stand-in
// (internal/sandbox) served by an httptest server for one test. It answers
// the OAuth web and device flows (with GitHub's errors inside HTTP 200 bodies
// and single-use rotating refresh tokens), GET /user, organization
// memberships, repository permissions, App installation access tokens,
// repositories, issues, pull requests, comments, reactions, GitHub Actions
// runs and deployments, in the GitHub Enterprise Server layout: web
// endpoints at the root, the REST API under /api/v3/.
//
// Tests create one with New, seed it (AddUser, SetMembership, SetPermission,
// InstallApp, CreateRepo, CreatePull, …), drive it (SignIn, ApproveDevice,
// CommentAs, …) and read what happened (Count, Writes, Runs, Webhooks). Every
// method of sandbox.Sandbox is available on Server.
package githubdouble

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

// Server is the GitHub double. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL (the "GitHub Enterprise Server" address).
	URL string
	// ClientID and ClientSecret are the OAuth app's credentials.
	ClientID, ClientSecret string

	*sandbox.Sandbox
	srv *httptest.Server

	mu       sync.Mutex
	webhooks []Webhook
	forward  func(ctx context.Context, event, deliveryID string, payload []byte)
}

// User is a GitHub account known to the double.
type User = sandbox.User

// Webhook is one webhook the double sent.
type Webhook struct {
	Event, DeliveryID string
	Payload           []byte
}

// Option adjusts a Server.
type Option func(*sandbox.Config, *Server)

// WithClock makes the double read time from now (share it with the code
// under test to move time forward).
func WithClock(now func() time.Time) Option {
	return func(c *sandbox.Config, _ *Server) { c.Now = now }
}

// WithTokenLifetimes sets the access and refresh token lifetimes (GitHub:
// 8 hours and about 6 months).
func WithTokenLifetimes(access, refresh time.Duration) Option {
	return func(c *sandbox.Config, _ *Server) { c.AccessTTL, c.RefreshTTL = access, refresh }
}

// WithDeviceInterval sets the device flow's poll interval in seconds (GitHub: 5).
func WithDeviceInterval(seconds int) Option {
	return func(c *sandbox.Config, _ *Server) { c.DeviceInterval = seconds }
}

// WithTokenDelay makes every token endpoint answer after d, widening race windows.
func WithTokenDelay(d time.Duration) Option {
	return func(c *sandbox.Config, _ *Server) { c.TokenDelay = d }
}

// WithRunDelays sets how long a dispatched workflow run stays queued and
// then in progress (the double's default: 10 ms each).
func WithRunDelays(start, finish time.Duration) Option {
	return func(c *sandbox.Config, _ *Server) { c.RunStart, c.RunFinish = start, finish }
}

// WithTimer drives the Actions simulation with afterFunc instead of real
// timers (it must not run f before returning).
func WithTimer(afterFunc func(d time.Duration, f func())) Option {
	return func(c *sandbox.Config, _ *Server) { c.AfterFunc = afterFunc }
}

// WithWebhookSink passes every webhook the double sends to deliver too (for
// instance an sandbox.HTTPSink's Deliver, to reach a receiver).
func WithWebhookSink(deliver func(ctx context.Context, event, deliveryID string, payload []byte)) Option {
	return func(_ *sandbox.Config, s *Server) { s.forward = deliver }
}

// WithConfig adjusts the stand-in's configuration directly.
func WithConfig(f func(*sandbox.Config)) Option {
	return func(c *sandbox.Config, _ *Server) { f(c) }
}

// New starts a double for the test; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	// The stand-in needs its own URL, so the server listens first and serves
	// only once the stand-in exists (a request arriving early waits).
	s.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(s.srv.Close)
	base := "http://" + s.srv.Listener.Addr().String()
	cfg := sandbox.Config{
		BaseURL: base, ClientID: "Iv1.double0client", ClientSecret: "double-client-secret",
		RunStart: 10 * time.Millisecond, RunFinish: 10 * time.Millisecond,
		Deliver: s.record,
	}
	for _, o := range opts {
		o(&cfg, s)
	}
	sb, err := sandbox.Open(cfg)
	if err != nil {
		t.Fatalf("githubdouble: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	s.Sandbox = sb
	s.srv.Config.Handler = sb
	s.srv.Start()
	s.URL, s.ClientID, s.ClientSecret = s.srv.URL, cfg.ClientID, cfg.ClientSecret
	return s
}

func (s *Server) record(ctx context.Context, event, deliveryID string, payload []byte) {
	s.mu.Lock()
	s.webhooks = append(s.webhooks, Webhook{Event: event, DeliveryID: deliveryID, Payload: payload})
	forward := s.forward
	s.mu.Unlock()
	if forward != nil {
		forward(ctx, event, deliveryID, payload)
	}
}

// Webhooks returns the webhooks the double sent so far, oldest first.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Webhook(nil), s.webhooks...)
}

// String names the double and its address.
func (s *Server) String() string { return "githubdouble at " + s.URL }
