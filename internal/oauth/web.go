package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Saver stores a logged-in user's grant (the token vault).
type Saver interface {
	Save(ctx context.Context, user tokens.User, g tokens.Grant) error
}

// Web serves the OAuth web flow: GET /oauth/login and GET /oauth/callback.
type Web struct {
	Client *Client
	Nonces NonceStore
	Tokens Saver
	// RedirectURL is the callback's public URL, sent to GitHub. Empty lets
	// GitHub use the app's registered callback URL.
	RedirectURL string
	Scopes      []string
	// Limiter, when set, bounds how many logins one client may start (each
	// stores a state until it expires); excess answers 429.
	Limiter *Limiter
	Log     *slog.Logger     // default slog.Default()
	Now     func() time.Time // default time.Now
}

// Login cookie names. Served over TLS (or behind an https redirect URL, as
// API Gateway is) the cookie is __Host-ai3-login: Secure, host-only, path
// /. Over plain HTTP (ai3 dev on loopback) browsers refuse a __Host- cookie,
// which must be Secure, so it is ai3-login with the same other attributes.
const (
	SecureCookieName = "__Host-ai3-login"
	PlainCookieName  = "ai3-login"
)

// secure reports whether the browser reaches this server over TLS.
func (h *Web) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(h.RedirectURL), "https://")
}

func (h *Web) cookieName(r *http.Request) string {
	if h.secure(r) {
		return SecureCookieName
	}
	return PlainCookieName
}

// setLoginCookie binds a login to the browser: value "" clears the cookie.
func (h *Web) setLoginCookie(w http.ResponseWriter, r *http.Request, value string) {
	c := &http.Cookie{Name: h.cookieName(r), Value: value, Path: "/", HttpOnly: true,
		Secure: h.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int(StateTTL / time.Second)}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// requestID names one answer in the log, so a page can say which line
// explains it without showing the details.
func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Mount registers the two routes on mux.
func (h *Web) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth/login", h.Login)
	mux.HandleFunc("GET /oauth/callback", h.Callback)
}

func (h *Web) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func (h *Web) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// Login stores a fresh state nonce with its PKCE verifier and the hash of a
// new login cookie for StateTTL, sets that cookie and redirects to GitHub's
// authorize page.
func (h *Web) Login(w http.ResponseWriter, r *http.Request) {
	if h.Limiter != nil {
		if wait := h.Limiter.Allow(ClientKey(r), h.now()); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			page(w, http.StatusTooManyRequests, "Too many logins", "Too many logins were started from your address. Wait a minute and try again.")
			return
		}
	}
	state, verifier := newState()
	browser := newBrowserSecret()
	n := Nonce{Verifier: verifier, Browser: BrowserKey(browser), ExpiresAt: h.now().Add(StateTTL)}
	if err := h.Nonces.Put(r.Context(), StateKey(state), n); err != nil {
		id := requestID()
		h.log().ErrorContext(r.Context(), "store login state", "request_id", id, "err", err)
		page(w, http.StatusInternalServerError, "Login is unavailable", "The server could not start a login. Try again in a minute. (request "+id+")")
		return
	}
	h.setLoginCookie(w, r, browser)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.Client.AuthorizeURL(state, challenge(verifier), h.RedirectURL, h.Scopes), http.StatusFound)
}

// Callback consumes the state (once), checks the login cookie of the browser
// that started the login, exchanges the code, learns the user and stores the
// tokens. Any refusal answers a page that says what happened and stores
// nothing; server-side failures show a request id and log the details.
func (h *Web) Callback(w http.ResponseWriter, r *http.Request) {
	ctx, q := r.Context(), r.URL.Query()
	w.Header().Set("Referrer-Policy", "no-referrer")
	id := requestID()
	state := q.Get("state")
	if state == "" {
		page(w, http.StatusBadRequest, "Login failed", "The link has no state. Start again from the login link.")
		return
	}
	n, err := h.Nonces.Consume(ctx, StateKey(state), h.now())
	if err != nil {
		status, msg := http.StatusBadRequest, ""
		switch {
		case errors.Is(err, ErrStateExpired):
			msg = "This login link has expired (logins must finish within 10 minutes). Start again from the login link."
		case errors.Is(err, ErrStateUsed):
			msg = "This login link was already used. Start again from the login link."
		case errors.Is(err, ErrStateUnknown):
			msg = "This login link was not issued by this server. Start again from the login link."
		default:
			status, msg = http.StatusInternalServerError, "The server could not check the login. Try again in a minute. (request "+id+")"
			h.log().ErrorContext(ctx, "consume login state", "request_id", id, "err", err)
		}
		page(w, status, "Login failed", msg)
		return
	}
	h.setLoginCookie(w, r, "") // the state is spent: its cookie is no use
	// Login CSRF: a login link someone else started (their state, their
	// code) must not connect their GitHub account in this browser.
	var browser string
	if c, err := r.Cookie(h.cookieName(r)); err == nil {
		browser = c.Value
	}
	if browser == "" || n.Browser == "" || subtle.ConstantTimeCompare([]byte(BrowserKey(browser)), []byte(n.Browser)) != 1 {
		h.log().WarnContext(ctx, "login callback from a browser that did not start the login", "request_id", id, "cookie_present", browser != "")
		page(w, http.StatusBadRequest, "Login failed", "This login was not started in this browser (or its cookie was blocked). Start again from the login link, in this browser.")
		return
	}
	if e := q.Get("error"); e != "" {
		page(w, http.StatusBadRequest, "Login cancelled", "GitHub did not authorize the app ("+e+"). Start again from the login link.")
		return
	}
	code := q.Get("code")
	if code == "" {
		page(w, http.StatusBadRequest, "Login failed", "GitHub sent no code. Start again from the login link.")
		return
	}
	g, err := h.Client.Exchange(ctx, code, n.Verifier, h.RedirectURL)
	var oe *Error
	switch {
	case errors.As(err, &oe) && oe.Code == "incorrect_client_credentials":
		h.log().ErrorContext(ctx, "GitHub refused our OAuth client credentials: check GITHUB_CLIENT_ID and the client secret", "request_id", id, "err", err)
		page(w, http.StatusBadGateway, "Login is misconfigured", "GitHub refused this server's OAuth credentials. Tell the operator (request "+id+").")
		return
	case errors.As(err, &oe):
		page(w, http.StatusBadRequest, "Login failed", "GitHub refused the login ("+oe.Code+"). Start again from the login link.")
		return
	case err != nil:
		h.log().ErrorContext(ctx, "exchange code", "request_id", id, "err", err)
		page(w, http.StatusBadGateway, "Login failed", "GitHub could not be reached. Try again in a minute. (request "+id+")")
		return
	}
	u, err := h.Client.User(ctx, g.AccessToken)
	if err != nil {
		h.log().ErrorContext(ctx, "read user after login", "request_id", id, "err", err)
		page(w, http.StatusBadGateway, "Login failed", "GitHub did not say who you are. Try again in a minute. (request "+id+")")
		return
	}
	if err := h.Tokens.Save(ctx, u, g); err != nil {
		h.log().ErrorContext(ctx, "store user token", "request_id", id, "login", u.Login, "err", err)
		page(w, http.StatusInternalServerError, "Login failed", "The server could not store your token. Try again in a minute. (request "+id+")")
		return
	}
	h.log().InfoContext(ctx, "user logged in", "user_id", u.ID, "login", u.Login)
	page(w, http.StatusOK, "Connected", "ai3 now acts on GitHub as @"+u.Login+". You can close this page.")
}

// Unavailable answers every request with a 503 page saying why (OAuth is not
// configured).
func Unavailable(why string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusServiceUnavailable, "Login is disabled", why)
	}
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ai3 · {{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

func page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Title, Message string }{title, msg})
}
