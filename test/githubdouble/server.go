// Package githubdouble is an in-process stand-in for GitHub over HTTP: the
// OAuth web and device flows (with GitHub's errors inside HTTP 200 bodies and
// single-use rotating refresh tokens), GET /user, organization memberships,
// repository permissions and App installation access tokens. Response shapes
// follow GitHub's. It serves the GitHub Enterprise Server layout: web
// endpoints at the root, the REST API under /api/v3/.
//
// Tests create one with New, seed it (AddUser, SetMembership, SetPermission,
// InstallApp), drive it (SignIn, ApproveDevice, …) and read counters (Count).
package githubdouble

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Server is the GitHub double. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL (the "GitHub Enterprise Server" address).
	URL string
	// ClientID and ClientSecret are the OAuth app's credentials.
	ClientID, ClientSecret string

	srv *httptest.Server
	mux *http.ServeMux

	mu         sync.Mutex
	now        func() time.Time
	accessTTL  time.Duration
	refreshTTL time.Duration
	interval   int // device flow poll interval in seconds
	delay      time.Duration
	nextUserID int64
	signedIn   string
	users      map[string]*User // by login
	codes      map[string]*code
	access     map[string]*issued
	refresh    map[string]*issued
	devices    map[string]*device // by device code
	members    map[string]map[string]membership
	perms      map[string]map[string]string
	appID      int64
	appKey     *rsa.PrivateKey
	installs   map[int64]bool
	instTokens map[string]time.Time
	counts     map[string]int
	failNext   map[string]string // grant kind → error code to answer once
}

// User is a GitHub account known to the double.
type User struct {
	ID    int64
	Login string
}

type code struct {
	user                   string
	challenge, redirectURI string
	expires                time.Time
	used                   bool
}

type issued struct {
	user    string
	expires time.Time
	used    bool
	scope   string
}

type device struct {
	userCode string
	user     string
	state    string // pending, approved, denied
	interval int
	expires  time.Time
	lastPoll time.Time
	redeemed bool
	scope    string
}

type membership struct{ state, role string }

// Option adjusts a Server.
type Option func(*Server)

// WithClock makes the double read time from now (share it with the code
// under test to move time forward).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenLifetimes sets the access and refresh token lifetimes (GitHub:
// 8 hours and about 6 months).
func WithTokenLifetimes(access, refresh time.Duration) Option {
	return func(s *Server) { s.accessTTL, s.refreshTTL = access, refresh }
}

// SetTokenLifetimes changes the lifetimes of tokens issued from now on.
func (s *Server) SetTokenLifetimes(access, refresh time.Duration) {
	s.mu.Lock()
	s.accessTTL, s.refreshTTL = access, refresh
	s.mu.Unlock()
}

// WithDeviceInterval sets the device flow's poll interval in seconds (GitHub: 5).
func WithDeviceInterval(seconds int) Option { return func(s *Server) { s.interval = seconds } }

// WithTokenDelay makes every token endpoint answer after d, widening race windows.
func WithTokenDelay(d time.Duration) Option { return func(s *Server) { s.delay = d } }

// New starts a double for the test; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("githubdouble: app key: %v", err)
	}
	s := &Server{
		ClientID: "Iv1.double0client", ClientSecret: "double-client-secret",
		now: time.Now, accessTTL: 8 * time.Hour, refreshTTL: 4380 * time.Hour, interval: 5,
		nextUserID: 1000, users: map[string]*User{}, codes: map[string]*code{}, access: map[string]*issued{},
		refresh: map[string]*issued{}, devices: map[string]*device{}, members: map[string]map[string]membership{},
		perms: map[string]map[string]string{}, appID: 4242, appKey: key, installs: map[int64]bool{},
		instTokens: map[string]time.Time{}, counts: map[string]int{}, failNext: map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.routes(s.mux)
	s.srv = httptest.NewServer(s.mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// HandleFunc adds an endpoint to the double (pattern as for http.ServeMux,
// e.g. "POST /api/v3/repos/{owner}/{repo}/issues/{n}/comments"). Handlers can
// authenticate callers with UserFor and IsInstallation.
func (s *Server) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// UserFor returns the user whose unexpired user-to-server token authorizes r.
func (s *Server) UserFor(r *http.Request) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.userByToken(r)
	if !ok || u == nil {
		return User{}, false
	}
	return *u, true
}

// IsInstallation reports whether r carries an unexpired installation token.
func (s *Server) IsInstallation(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.installationAuth(r)
}

// APIURL is the REST API root (GHES layout), with a trailing slash.
func (s *Server) APIURL() string { return s.URL + "/api/v3/" }

// AddUser creates an account (or returns the existing one) with a fresh id.
func (s *Server) AddUser(login string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[login]; ok {
		return *u
	}
	s.nextUserID++
	u := &User{ID: s.nextUserID, Login: login}
	s.users[login] = u
	return *u
}

// SignIn makes login the browser's signed-in user: GET /login/oauth/authorize
// then approves immediately for them.
func (s *Server) SignIn(login string) {
	s.AddUser(login)
	s.mu.Lock()
	s.signedIn = login
	s.mu.Unlock()
}

// SetMembership sets login's membership of org: state "active" or "pending",
// role "member" or "admin". An empty state removes it.
func (s *Server) SetMembership(org, login, state, role string) {
	s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.members[org] == nil {
		s.members[org] = map[string]membership{}
	}
	if state == "" {
		delete(s.members[org], login)
		return
	}
	s.members[org][login] = membership{state, role}
}

// SetPermission sets login's role on repo ("owner/name"): admin, maintain,
// write, triage, read or none.
func (s *Server) SetPermission(repo, login, role string) {
	s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perms[repo] == nil {
		s.perms[repo] = map[string]string{}
	}
	s.perms[repo][login] = role
}

// InstallApp installs the App on an account as installation id.
func (s *Server) InstallApp(id int64) {
	s.mu.Lock()
	s.installs[id] = true
	s.mu.Unlock()
}

// AppID is the GitHub App's id.
func (s *Server) AppID() int64 { return s.appID }

// AppPrivateKey is the App's RSA private key as PEM (what GitHub lets an
// owner download), for the code under test to sign JWTs with.
func (s *Server) AppPrivateKey() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.appKey)})
}

// FailNextToken makes the next token request of a grant kind ("code",
// "refresh", "device") answer GitHub's 200-with-error body with errCode.
func (s *Server) FailNextToken(kind, errCode string) {
	s.mu.Lock()
	s.failNext[kind] = errCode
	s.mu.Unlock()
}

// Count returns how many requests of a kind were served: "token.code",
// "token.refresh", "token.device", "device.code", "user", "membership",
// "permission", "installation_token".
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

// IssueCode returns an authorization code for login, as the authorize page
// would after approval (challenge is the PKCE S256 challenge or "").
func (s *Server) IssueCode(login, challenge, redirectURI string) string {
	s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := randomToken("")[:20]
	s.codes[c] = &code{user: login, challenge: challenge, redirectURI: redirectURI, expires: s.now().Add(10 * time.Minute)}
	return c
}

// ExpireAccessToken makes a previously issued access token expire now.
func (s *Server) ExpireAccessToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.access[token]; ok {
		a.expires = s.now()
	}
}

func randomToken(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func (s *Server) issuePair(login, scope string) map[string]any {
	now := s.now()
	at, rt := randomToken("ghu_"), randomToken("ghr_")
	s.access[at] = &issued{user: login, expires: now.Add(s.accessTTL), scope: scope}
	s.refresh[rt] = &issued{user: login, expires: now.Add(s.refreshTTL), scope: scope}
	return map[string]any{
		"access_token": at, "expires_in": int(s.accessTTL.Seconds()),
		"refresh_token": rt, "refresh_token_expires_in": int(s.refreshTTL.Seconds()),
		"scope": scope, "token_type": "bearer",
	}
}

func (s *Server) userByToken(r *http.Request) (*User, bool) {
	h := r.Header.Get("Authorization")
	var tok string
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if len(h) > len(p) && h[:len(p)] == p {
			tok = h[len(p):]
		}
	}
	a, ok := s.access[tok]
	if !ok || !s.now().Before(a.expires) {
		return nil, false
	}
	return s.users[a.user], true
}

// String names the double and its address.
func (s *Server) String() string { return fmt.Sprintf("githubdouble at %s", s.URL) }
