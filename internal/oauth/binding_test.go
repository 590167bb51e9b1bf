package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// TestLoginCSRFIsRefused: an attacker starts a login in their own browser,
// authorizes with their own GitHub account and hands the victim the callback
// link. The victim's browser did not start that login, so the callback
// refuses it and connects nobody.
func TestLoginCSRFIsRefused(t *testing.T) {
	cases := []struct {
		name   string
		victim func(r *rig) *http.Client
	}{
		{"victim without a login cookie", func(*rig) *http.Client { return newBrowser() }},
		{"victim with a login of their own in progress", func(r *rig) *http.Client {
			b := newBrowser()
			if st, _, _ := browse(t, b, r.app.URL+"/oauth/login"); st != http.StatusFound {
				t.Fatalf("victim's own login = %d", st)
			}
			return b
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "")
			r.gh.SignIn("mallory")
			link := r.login(t) // the attacker's browser, the attacker's code
			status, body, _ := browse(t, c.victim(r), link.String())
			if status != http.StatusBadRequest || !strings.Contains(body, "not started in this browser") {
				t.Fatalf("callback in the victim's browser = %d %q, want 400 refusing it", status, body)
			}
			if _, err := r.store.Get(context.Background(), r.gh.AddUser("mallory").ID); !errors.Is(err, tokens.ErrNotFound) {
				t.Fatalf("the attacker's account was connected (Get = %v)", err)
			}
		})
	}
}

// TestLoginCookie checks the cookie that binds a login to its browser: a
// __Host- cookie, Secure, where the server is reached over TLS; HttpOnly,
// SameSite=Lax, path / and living as long as the state in both cases; and
// cleared by the callback.
func TestLoginCookie(t *testing.T) {
	cases := []struct {
		name       string
		redirect   string
		tls        bool
		wantName   string
		wantSecure bool
	}{
		{"plain HTTP (ai3 dev on loopback)", "http://127.0.0.1:3000/oauth/callback", false, oauth.PlainCookieName, false},
		{"https redirect URL (API Gateway)", "https://ai3.example/oauth/callback", false, oauth.SecureCookieName, true},
		{"served over TLS", "", true, oauth.SecureCookieName, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "")
			r.web.RedirectURL = c.redirect
			req := httptest.NewRequest("GET", "/oauth/login", nil)
			if !c.tls {
				req.TLS = nil
			} else {
				req = httptest.NewRequest("GET", "https://ai3.example/oauth/login", nil)
			}
			rec := httptest.NewRecorder()
			r.web.Login(rec, req)
			cookies := rec.Result().Cookies()
			if rec.Code != http.StatusFound || len(cookies) != 1 {
				t.Fatalf("login = %d with cookies %v, want 302 and one cookie", rec.Code, cookies)
			}
			ck := cookies[0]
			if ck.Name != c.wantName || ck.Secure != c.wantSecure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode ||
				ck.Path != "/" || ck.Domain != "" || ck.MaxAge != int(oauth.StateTTL/time.Second) || len(ck.Value) < 43 {
				t.Fatalf("cookie %s, want %s (Secure=%v) HttpOnly SameSite=Lax Path=/ host-only Max-Age=600 with 32 random bytes",
					rec.Header().Get("Set-Cookie"), c.wantName, c.wantSecure)
			}
			var stored string
			if err := r.db.QueryRow(`SELECT browser FROM oauth_states`).Scan(&stored); err != nil || stored != oauth.BrowserKey(ck.Value) || strings.Contains(stored, ck.Value) {
				t.Fatalf("stored browser key %q, %v; want the cookie's hash, not the cookie", stored, err)
			}
		})
	}
	t.Run("the callback clears it", func(t *testing.T) {
		r := newRig(t, "")
		r.gh.SignIn("octocat")
		resp, err := r.browser.Get(r.login(t).String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
			t.Fatalf("callback = %d setting %v, want 200 clearing the login cookie", resp.StatusCode, resp.Header["Set-Cookie"])
		}
	})
}

// TestLoginRateLimit: 1,000 logins started from one address store at most
// the limiter's burst of states; the rest answer 429 with Retry-After, and
// another address is not affected.
func TestLoginRateLimit(t *testing.T) {
	r := newRig(t, "")
	const burst = 10
	r.web.Limiter = oauth.NewLimiter(6*time.Second, burst)
	codes := map[int]int{}
	for range 1000 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/oauth/login", nil)
		req.RemoteAddr = "198.51.100.7:40000"
		r.web.Login(rec, req)
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	var rows int
	if err := r.db.QueryRow(`SELECT count(*) FROM oauth_states`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != burst || codes[http.StatusFound] != burst || codes[http.StatusTooManyRequests] != 1000-burst {
		t.Fatalf("%d state rows, answers %v; want %d rows, %d redirects and the rest 429", rows, codes, burst, burst)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/oauth/login", nil)
	req.RemoteAddr = "203.0.113.9:40000"
	if r.web.Login(rec, req); rec.Code != http.StatusFound {
		t.Fatalf("another address = %d, want 302", rec.Code)
	}
	r.clk.Advance(6 * time.Second)
	rec = httptest.NewRecorder()
	req.RemoteAddr = "198.51.100.7:40001"
	if r.web.Login(rec, req); rec.Code != http.StatusFound {
		t.Fatalf("after waiting = %d, want 302", rec.Code)
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l := oauth.NewLimiter(time.Second, 3)
	steps := []struct {
		client string
		at     time.Duration
		want   time.Duration
	}{
		{"a", 0, 0}, {"a", 0, 0}, {"a", 0, 0},
		{"a", 0, time.Second}, // burst spent
		{"b", 0, 0},           // clients are independent
		{"a", 500 * time.Millisecond, time.Second / 2}, // half refilled
		{"a", time.Second, 0},                          // one more per second
		{"a", time.Second, time.Second},                // and only one
		{"a", 10 * time.Second, 0},                     // full again after a pause
		{"a", 10 * time.Second, 0}, {"a", 10 * time.Second, 0},
		{"a", 10 * time.Second, time.Second},
	}
	for i, s := range steps {
		if got := l.Allow(s.client, t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d (%s at %v) = %v, want %v", i, s.client, s.at, got, s.want)
		}
	}
}

func TestClientKey(t *testing.T) {
	cases := map[string]string{
		"198.51.100.7:4000":           "198.51.100.7",
		"[2001:db8:1:2:3:4:5:6]:4000": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ff::1]:1":      "2001:db8:1:2::/64",
		"[::ffff:192.0.2.1]:80":       "192.0.2.1",
		"203.0.113.5":                 "203.0.113.5", // API Gateway's source IP has no port
	}
	for addr, want := range cases {
		if got := oauth.ClientKey(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}
