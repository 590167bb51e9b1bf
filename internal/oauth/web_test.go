package oauth_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

type rig struct {
	db      *sql.DB
	browser *http.Client // keeps cookies, follows no redirects
	gh      *githubdouble.Server
	clk     *testenv.Clock
	store   *vault.TokenStore
	vault   *tokens.Vault
	app     *httptest.Server
	web     *oauth.Web
}

func newRig(t *testing.T, secret string) *rig {
	t.Helper()
	ctx := context.Background()
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(t, githubdouble.WithClock(clk.Now))
	if secret == "" {
		secret = gh.ClientSecret
	}
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	nonces, err := vault.NewNonceStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := vault.NewTokenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	client := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID, ClientSecret: secret, Now: clk.Now})
	v := tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: client, Now: clk.Now, Log: slog.New(slog.DiscardHandler)})
	r := &rig{db: db, browser: newBrowser(), gh: gh, clk: clk, store: store, vault: v}
	mux := http.NewServeMux()
	r.app = httptest.NewServer(mux)
	t.Cleanup(r.app.Close)
	r.web = &oauth.Web{Client: client, Nonces: nonces, Tokens: v, RedirectURL: r.app.URL + "/oauth/callback",
		Scopes: []string{"repo"}, Now: clk.Now, Log: slog.New(slog.DiscardHandler)}
	r.web.Mount(mux)
	return r
}

// newBrowser is a client that keeps cookies like a browser and shows each
// redirect instead of following it.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (r *rig) get(t *testing.T, u string) (int, string, *url.URL) {
	t.Helper()
	return browse(t, r.browser, u)
}

func browse(t *testing.T, browser *http.Client, u string) (int, string, *url.URL) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc, _ := resp.Location()
	return resp.StatusCode, string(b), loc
}

// login walks /oauth/login → GitHub authorize and returns the callback URL
// GitHub redirects the browser to.
func (r *rig) login(t *testing.T) *url.URL {
	t.Helper()
	status, _, authorize := r.get(t, r.app.URL+"/oauth/login")
	if status != http.StatusFound || authorize == nil {
		t.Fatalf("/oauth/login = %d, want 302", status)
	}
	q := authorize.Query()
	if len(q.Get("state")) != 43 || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Fatalf("authorize URL lacks a 32-byte state or PKCE S256: %s", authorize)
	}
	if !strings.HasPrefix(authorize.String(), r.gh.URL+"/login/oauth/authorize?") {
		t.Fatalf("redirected to %s, want the configured GitHub base URL", authorize)
	}
	status, _, callback := r.get(t, authorize.String())
	if status != http.StatusFound {
		t.Fatalf("authorize = %d", status)
	}
	return callback
}

func TestWebFlowConnectsTheAccount(t *testing.T) {
	r := newRig(t, "")
	r.gh.SignIn("octocat")
	status, body, _ := r.get(t, r.login(t).String())
	if status != http.StatusOK || !strings.Contains(body, "@octocat") {
		t.Fatalf("callback = %d %q, want 200 naming @octocat", status, body)
	}
	u := r.gh.AddUser("octocat")
	tok, err := r.vault.Token(context.Background(), u.ID)
	if err != nil || !strings.HasPrefix(tok, "ghu_") {
		t.Fatalf("vault token after login = %q, %v", tok, err)
	}
}

func TestCallbackRefusals(t *testing.T) {
	cases := []struct {
		name       string
		secret     string
		callback   func(t *testing.T, r *rig) string
		wantStatus int
		wantText   string
	}{
		{"forged state", "", func(t *testing.T, r *rig) string {
			cb := r.login(t)
			q := cb.Query()
			q.Set("state", "Zm9yZ2VkLXN0YXRlLXRoYXQtd2FzLW5ldmVyLWlzc3VlZC14")
			cb.RawQuery = q.Encode()
			return cb.String()
		}, 400, "not issued by this server"},
		{"missing state", "", func(t *testing.T, r *rig) string { return r.app.URL + "/oauth/callback?code=abc" }, 400, "no state"},
		{"expired state", "", func(t *testing.T, r *rig) string {
			cb := r.login(t)
			r.clk.Advance(oauth.StateTTL + time.Second)
			return cb.String()
		}, 400, "expired"},
		{"reused state", "", func(t *testing.T, r *rig) string {
			cb := r.login(t)
			if status, _, _ := r.get(t, cb.String()); status != 200 {
				t.Fatalf("first use = %d", status)
			}
			if err := r.vault.Delete(context.Background(), r.gh.AddUser("octocat").ID); err != nil {
				t.Fatal(err)
			}
			return cb.String()
		}, 400, "already used"},
		{"bad_verification_code", "", func(t *testing.T, r *rig) string {
			cb := r.login(t)
			q := cb.Query()
			q.Set("code", "not-a-code")
			cb.RawQuery = q.Encode()
			return cb.String()
		}, 400, "bad_verification_code"},
		{"code issued for another PKCE challenge", "", func(t *testing.T, r *rig) string {
			cb := r.login(t)
			q := cb.Query()
			q.Set("code", r.gh.IssueCode("octocat", "someone-elses-challenge", r.web.RedirectURL))
			cb.RawQuery = q.Encode()
			return cb.String()
		}, 400, "bad_verification_code"},
		{"incorrect_client_credentials", "wrong-secret", func(t *testing.T, r *rig) string { return r.login(t).String() }, 502, "refused this server"},
		{"user cancelled on GitHub", "", func(t *testing.T, r *rig) string {
			cb := r.login(t)
			q := cb.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			cb.RawQuery = q.Encode()
			return cb.String()
		}, 400, "access_denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.secret)
			r.gh.SignIn("octocat")
			status, body, _ := r.get(t, c.callback(t, r))
			if status != c.wantStatus || !strings.Contains(body, c.wantText) {
				t.Fatalf("callback = %d %q, want %d containing %q", status, body, c.wantStatus, c.wantText)
			}
			if _, err := r.store.Get(context.Background(), r.gh.AddUser("octocat").ID); !errors.Is(err, tokens.ErrNotFound) {
				t.Fatalf("a refused callback stored a token (Get = %v)", err)
			}
		})
	}
}

func TestUnavailableAnswers503(t *testing.T) {
	rec := httptest.NewRecorder()
	oauth.Unavailable("OAuth is not configured: set GITHUB_CLIENT_ID")(rec, httptest.NewRequest("GET", "/oauth/login", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "GITHUB_CLIENT_ID") {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestCallbackPageEscapesWhatGitHubSent(t *testing.T) {
	r := newRig(t, "")
	r.gh.SignIn("octocat")
	cb := r.login(t)
	q := cb.Query()
	q.Del("code")
	q.Set("error", `<script>alert(1)</script>`)
	cb.RawQuery = q.Encode()
	status, body, _ := r.get(t, cb.String())
	if status != 400 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("got %d %q, want 400 with the error escaped", status, body)
	}
}
