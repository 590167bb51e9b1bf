package oauth

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
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
	Log         *slog.Logger     // default slog.Default()
	Now         func() time.Time // default time.Now
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

// Login stores a fresh state nonce with its PKCE verifier for StateTTL and
// redirects to GitHub's authorize page.
func (h *Web) Login(w http.ResponseWriter, r *http.Request) {
	state, verifier := newState()
	if err := h.Nonces.Put(r.Context(), StateKey(state), Nonce{Verifier: verifier, ExpiresAt: h.now().Add(StateTTL)}); err != nil {
		h.log().ErrorContext(r.Context(), "store login state", "err", err)
		page(w, http.StatusInternalServerError, "Login is unavailable", "The server could not start a login. Try again in a minute.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.Client.AuthorizeURL(state, challenge(verifier), h.RedirectURL, h.Scopes), http.StatusFound)
}

// Callback consumes the state (once), exchanges the code, learns the user
// and stores the tokens. Any refusal answers a page that says what happened
// and stores nothing.
func (h *Web) Callback(w http.ResponseWriter, r *http.Request) {
	ctx, q := r.Context(), r.URL.Query()
	w.Header().Set("Referrer-Policy", "no-referrer")
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
			status, msg = http.StatusInternalServerError, "The server could not check the login. Try again in a minute."
			h.log().ErrorContext(ctx, "consume login state", "err", err)
		}
		page(w, status, "Login failed", msg)
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
		h.log().ErrorContext(ctx, "GitHub refused our OAuth client credentials: check GITHUB_CLIENT_ID and the client secret", "err", err)
		page(w, http.StatusBadGateway, "Login is misconfigured", "GitHub refused this server's OAuth credentials. Tell the operator.")
		return
	case errors.As(err, &oe):
		page(w, http.StatusBadRequest, "Login failed", "GitHub refused the login ("+oe.Code+"). Start again from the login link.")
		return
	case err != nil:
		h.log().ErrorContext(ctx, "exchange code", "err", err)
		page(w, http.StatusBadGateway, "Login failed", "GitHub could not be reached. Try again in a minute.")
		return
	}
	u, err := h.Client.User(ctx, g.AccessToken)
	if err != nil {
		h.log().ErrorContext(ctx, "read user after login", "err", err)
		page(w, http.StatusBadGateway, "Login failed", "GitHub did not say who you are. Try again in a minute.")
		return
	}
	if err := h.Tokens.Save(ctx, u, g); err != nil {
		h.log().ErrorContext(ctx, "store user token", "login", u.Login, "err", err)
		page(w, http.StatusInternalServerError, "Login failed", "The server could not store your token. Try again in a minute.")
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
