// Package githubapp holds ai3's go-github clients: installation tokens minted
// from the App's JWT, user clients on vault tokens, and the authorization
// check every command runs.
package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
)

// InstallationToken is a short-lived (one hour) App installation token.
type InstallationToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// InstallationTokens hands out installation tokens. In AWS only the
// credentials Lambda mints them (it alone may read the App key); other
// functions reach it through this port.
type InstallationTokens interface {
	InstallationToken(ctx context.Context, installationID int64) (InstallationToken, error)
}

// KeySource returns the App's PEM-encoded RSA private key (Secrets Manager,
// or a 0600 file in the embedded shape).
type KeySource func(ctx context.Context) ([]byte, error)

// Minter mints installation tokens with the App's JWT (RS256) and caches each
// until RefreshBefore of its life remains. It is safe for concurrent use;
// concurrent callers for one installation share one mint.
type Minter struct {
	AppID int64
	Key   KeySource
	// APIURL is the REST API root; default https://api.github.com/.
	APIURL string
	// HTTPClient defaults to one with a 15-second timeout.
	HTTPClient *http.Client
	// RefreshBefore defaults to 5 minutes.
	RefreshBefore time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[tokenKey]InstallationToken
}

// tokenKey is what a cached token was minted for: an installation and the
// permissions asked for (canonical; "" for all the App was granted).
type tokenKey struct {
	installation int64
	perms        string
}

// InstallationToken returns a cached token or mints a new one.
func (m *Minter) InstallationToken(ctx context.Context, installationID int64) (InstallationToken, error) {
	return m.token(ctx, tokenKey{installation: installationID}, nil)
}

// token returns the token cached for key while more than RefreshBefore of
// its life remains, or mints one with opts (nil: every permission the App
// was granted) and caches it.
func (m *Minter) token(ctx context.Context, key tokenKey, opts *github.InstallationTokenOptions) (InstallationToken, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	early := m.RefreshBefore
	if early == 0 {
		early = 5 * time.Minute
	}
	// One lock for lookup and mint: mints happen about once an hour per
	// installation, and holding it makes concurrent callers share the mint.
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.cache[key]; ok && t.ExpiresAt.Sub(now()) > early {
		return t, nil
	}
	t, err := m.mint(ctx, key.installation, opts)
	if err != nil {
		return InstallationToken{}, err
	}
	if m.cache == nil {
		m.cache = map[tokenKey]InstallationToken{}
	}
	m.cache[key] = t
	return t, nil
}

func (m *Minter) mint(ctx context.Context, installationID int64, opts *github.InstallationTokenOptions) (InstallationToken, error) {
	pemKey, err := m.Key(ctx)
	if err != nil {
		return InstallationToken{}, fmt.Errorf("read the App private key: %w", err)
	}
	hc := m.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	atr, err := ghinstallation.NewAppsTransport(base, m.AppID, pemKey)
	if err != nil {
		return InstallationToken{}, fmt.Errorf("parse the GitHub App private key: %w", err)
	}
	apiURL := apiRoot(m.APIURL)
	atr.BaseURL = strings.TrimSuffix(apiURL, "/")
	client, err := newClient(&http.Client{Transport: atr, Timeout: hc.Timeout}, apiURL)
	if err != nil {
		return InstallationToken{}, err
	}
	tok, _, err := client.Apps.CreateInstallationToken(ctx, installationID, opts)
	if err != nil {
		return InstallationToken{}, fmt.Errorf("mint installation token for installation %d: %w", installationID, err)
	}
	return InstallationToken{Token: tok.GetToken(), ExpiresAt: tok.GetExpiresAt().Time}, nil
}

func apiRoot(apiURL string) string {
	if apiURL == "" {
		return "https://api.github.com/"
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return apiURL
}

func newClient(hc *http.Client, apiURL string) (*github.Client, error) {
	c := github.NewClient(hc)
	u, err := url.Parse(apiRoot(apiURL))
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL %q: %w", apiURL, err)
	}
	c.BaseURL = u
	return c, nil
}

// tokenTransport authenticates each request with a token fetched per request.
type tokenTransport struct {
	token func(ctx context.Context) (string, error)
	base  http.RoundTripper
}

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// InstallationClient returns a go-github client acting as the installation.
func InstallationClient(src InstallationTokens, installationID int64, apiURL string) (*github.Client, error) {
	return newClient(&http.Client{Timeout: 15 * time.Second, Transport: tokenTransport{token: func(ctx context.Context) (string, error) {
		t, err := src.InstallationToken(ctx, installationID)
		return t.Token, err
	}}}, apiURL)
}

// UserTokens hands out a user's (refreshed) access token: the token vault.
type UserTokens interface {
	Token(ctx context.Context, userID int64) (string, error)
}

// UserClient returns a go-github client acting as the user, so GitHub's audit
// log names them. Each request asks the vault, which refreshes when needed.
func UserClient(vault UserTokens, userID int64, apiURL string) (*github.Client, error) {
	return newClient(&http.Client{Timeout: 15 * time.Second, Transport: tokenTransport{token: func(ctx context.Context) (string, error) {
		return vault.Token(ctx, userID)
	}}}, apiURL)
}

// Clients hands out go-github clients for the bot's two identities: a user
// (their vault token, refreshed on use) and the App's installation.
type Clients struct {
	Users         UserTokens
	Installations InstallationTokens
	// APIURL is the REST API root; default https://api.github.com/.
	APIURL string
}

// User returns a client acting as the user.
func (c Clients) User(_ context.Context, userID int64) (*github.Client, error) {
	return UserClient(c.Users, userID, c.APIURL)
}

// Installation returns a client acting as the installation.
func (c Clients) Installation(_ context.Context, installationID int64) (*github.Client, error) {
	if installationID == 0 {
		return nil, errors.New("no installation id: the event did not come through the App")
	}
	return InstallationClient(c.Installations, installationID, c.APIURL)
}
