// Package sandbox is a GitHub stand-in: an http.Handler that answers
// GitHub's REST paths and OAuth endpoints with GitHub's shapes and, like
// GitHub, announces its own writes as signed webhooks. `ai3 dev` serves it in
// sandbox mode (mounted under /sandbox/github/) and the tests' GitHub double
// (test/githubdouble) is a thin wrapper around it.
//
// It serves the GitHub Enterprise Server layout relative to its own root:
// web endpoints (/login/oauth/authorize, /login/oauth/access_token,
// /login/device/code) at the root and the REST API under /api/v3/. Every URL
// it returns in JSON is built from Config.BaseURL, the public address of that
// root.
//
// What it knows: users and their OAuth grants (web and device flows, GitHub's
// errors in HTTP 200 bodies, single-use rotating refresh tokens), organization
// memberships, repository permissions, the App's installations and their
// tokens (JWT-authenticated), repositories, issues and pull requests, issue,
// review and commit comments and their reactions, GitHub Actions workflow
// runs (a dispatch is answered by workflow_run webhooks requested →
// in_progress → completed) and deployments. Each write made through the API
// is recorded with who made it (Writes). With Config.DataDir set, the state
// is kept in a JSON snapshot written atomically after each change and loaded
// by Open.
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config says how a Sandbox behaves. Only BaseURL is required.
type Config struct {
	// BaseURL is the public URL of the stand-in's root, without a trailing
	// slash (e.g. "http://127.0.0.1:3000/sandbox/github"); the REST API is at
	// BaseURL + "/api/v3/".
	BaseURL string
	// DataDir, when set, is where the state is persisted (github-sandbox.json).
	DataDir string
	// Org is the organization sandbox users belong to (default "ai3-sandbox").
	Org string
	// AppID, AppSlug and AppName describe the GitHub App (defaults 4242,
	// "ai3-mvp", "ai3"). Comments written with an installation token are
	// signed by AppSlug + "[bot]".
	AppID            int64
	AppSlug, AppName string
	// ClientID and ClientSecret are the App's OAuth credentials (defaults are
	// fixed sandbox values).
	ClientID, ClientSecret string
	// AutoCreate makes every repository and issue a request names exist
	// (created on first use) instead of answering 404, so a sandbox needs
	// no seeding; `ai3 dev` sets it, the tests' double does not.
	AutoCreate bool
	// InstallationID, when set, is an installation of the App on Org that
	// exists from the start.
	InstallationID int64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AfterFunc runs f after d; it drives the Actions simulation (default
	// time.AfterFunc). Tests pass their own to make runs advance at once.
	AfterFunc func(d time.Duration, f func())
	// RunStart and RunFinish are how long a dispatched workflow run stays
	// queued and then in progress (defaults 1 s and 2 s).
	RunStart, RunFinish time.Duration
	// Deliver receives the webhooks the stand-in sends (nil drops them). It
	// is called after the write is stored, in the order the events happened
	// for one issue or run (the context carries that order's key: OrderKey).
	Deliver func(ctx context.Context, event, deliveryID string, payload []byte)
	// AccessTTL and RefreshTTL are the OAuth token lifetimes (GitHub: 8 hours
	// and about 6 months).
	AccessTTL, RefreshTTL time.Duration
	// DeviceInterval is the device flow's poll interval in seconds (GitHub: 5).
	DeviceInterval int
	// TokenDelay makes every token endpoint answer after this long.
	TokenDelay time.Duration
	// Logger receives the stand-in's own log lines (default slog.Default()).
	Logger *slog.Logger
}

// Sandbox is the GitHub stand-in. All methods are safe for concurrent use.
type Sandbox struct {
	cfg    Config
	mux    *http.ServeMux
	log    *slog.Logger
	appKey *rsa.PrivateKey

	mu       sync.Mutex
	st       *state
	gen      uint64 // changes made to st
	faults   []*fault
	writes   []Write
	closed   bool
	inflight sync.WaitGroup // scheduled run transitions

	saveMu   sync.Mutex
	savedGen uint64
}

// Open creates a Sandbox, loading the state persisted in cfg.DataDir if any.
func Open(cfg Config) (*Sandbox, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("sandbox: Config.BaseURL is required (the public URL of the stand-in's root)")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	setDefaults(&cfg)
	s := &Sandbox{cfg: cfg, log: cfg.Logger, st: newState()}
	if cfg.DataDir != "" {
		st, err := load(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		if st != nil {
			s.st = st
		}
	}
	if err := s.ensureAppKey(); err != nil {
		return nil, err
	}
	if cfg.InstallationID != 0 {
		s.st.Installs[cfg.InstallationID] = true
	}
	s.mux = http.NewServeMux()
	s.routes()
	s.gen++
	if err := s.persist(s.gen); err != nil {
		return nil, err
	}
	s.resumeRuns()
	return s, nil
}

func setDefaults(cfg *Config) {
	if cfg.Org == "" {
		cfg.Org = "ai3-sandbox"
	}
	if cfg.AppID == 0 {
		cfg.AppID = 4242
	}
	if cfg.AppSlug == "" {
		cfg.AppSlug = "ai3-mvp"
	}
	if cfg.AppName == "" {
		cfg.AppName = "ai3"
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "Iv1.sandbox0client"
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = "sandbox-client-secret"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	if cfg.RunStart == 0 {
		cfg.RunStart = time.Second
	}
	if cfg.RunFinish == 0 {
		cfg.RunFinish = 2 * time.Second
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 8 * time.Hour
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 4380 * time.Hour
	}
	if cfg.DeviceInterval == 0 {
		cfg.DeviceInterval = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
}

func (s *Sandbox) ensureAppKey() error {
	if s.st.AppKeyPEM != "" {
		k, err := parseKey(s.st.AppKeyPEM)
		if err != nil {
			return fmt.Errorf("sandbox: persisted App key: %w", err)
		}
		s.appKey = k
		return nil
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("sandbox: App key: %w", err)
	}
	s.appKey = k
	s.st.AppKeyPEM = string(keyPEM(k))
	return nil
}

// Close stops the Actions simulation (runs in progress resume at the next
// Open) and waits for transitions already running.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	return nil
}

// ClientID is the App's OAuth client id.
func (s *Sandbox) ClientID() string { return s.cfg.ClientID }

// ClientSecret is the App's OAuth client secret.
func (s *Sandbox) ClientSecret() string { return s.cfg.ClientSecret }

// BaseURL is the stand-in's root URL (no trailing slash).
func (s *Sandbox) BaseURL() string { return s.cfg.BaseURL }

// APIURL is the REST API root (GHES layout), with a trailing slash.
func (s *Sandbox) APIURL() string { return s.cfg.BaseURL + "/api/v3/" }

// Org is the sandbox users' organization.
func (s *Sandbox) Org() string { return s.cfg.Org }

// HandleFunc adds an endpoint (pattern as for http.ServeMux, relative to the
// stand-in's root, e.g. "GET /api/v3/whoami"). Handlers can authenticate
// callers with UserFor and IsInstallation.
func (s *Sandbox) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// ServeHTTP answers a request. An injected failure (FailNext) answers first
// (after its delay, if it has one);
// otherwise the handler's answer is held back until the state it changed is
// persisted, so an answered write survives a crash.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f := s.takeFault(r); f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if f.Status != 0 {
			f.write(w)
			return
		}
	}
	buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	s.mux.ServeHTTP(buf, r)
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	if err := s.persist(gen); err != nil {
		s.log.Error("sandbox: persist state", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError("The sandbox could not save its state."))
		return
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
	for _, ev := range buf.events {
		s.deliver(ev)
	}
}

// bufferedResponse holds an answer until the state behind it is saved.
type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
	events []event // webhooks to deliver once the answer is out
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// changed marks the state as changed; call it with s.mu held.
func (s *Sandbox) changed() { s.gen++ }

// save persists the state as it is now; for the Go API's seeding methods.
func (s *Sandbox) save() {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	if err := s.persist(gen); err != nil {
		s.log.Error("sandbox: persist state", "err", err)
	}
}

// now reads the clock.
func (s *Sandbox) now() time.Time { return s.cfg.Now() }

// String names the stand-in and its address.
func (s *Sandbox) String() string { return "GitHub sandbox at " + s.cfg.BaseURL }
