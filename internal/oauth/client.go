// Package oauth obtains users' GitHub tokens: the web flow (login redirect
// with a single-use state nonce and PKCE, callback with code exchange), the
// device flow for the CLI, and the refresh call the token vault rotates with.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Config names the OAuth client and the GitHub it talks to.
type Config struct {
	// BaseURL is GitHub's web address: https://github.com or a GitHub
	// Enterprise Server address. Default https://github.com.
	BaseURL string
	// APIURL is the REST API root. Default: https://api.github.com/ for
	// github.com, BaseURL + /api/v3/ otherwise.
	APIURL       string
	ClientID     string
	ClientSecret string
	// HTTPClient defaults to a client with a 15-second timeout.
	HTTPClient *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
}

// Client calls GitHub's OAuth endpoints. It implements tokens.Refresher.
type Client struct{ cfg Config }

// NewClient returns a Client with cfg's defaults filled in.
func NewClient(cfg Config) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://github.com"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.APIURL == "" {
		cfg.APIURL = cfg.BaseURL + "/api/v3/"
		if cfg.BaseURL == "https://github.com" {
			cfg.APIURL = "https://api.github.com/"
		}
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}
}

// Error is an OAuth error GitHub returned (inside an HTTP 200 body, as GitHub
// does), such as bad_verification_code or incorrect_client_credentials.
type Error struct {
	Code        string
	Description string
	URI         string
}

// Error names GitHub's error code and description.
func (e *Error) Error() string {
	return fmt.Sprintf("GitHub OAuth error %s: %s", e.Code, e.Description)
}

// Unwrap lets callers test a refused refresh token with
// errors.Is(err, tokens.ErrRefreshRejected).
func (e *Error) Unwrap() error {
	if e.Code == "bad_refresh_token" {
		return tokens.ErrRefreshRejected
	}
	return nil
}

// tokenResponse is GitHub's access_token answer, success or error.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	Scope                 string `json:"scope"`
	TokenType             string `json:"token_type"`
	Error                 string `json:"error"`
	ErrorDescription      string `json:"error_description"`
	ErrorURI              string `json:"error_uri"`
	Interval              int    `json:"interval"`
}

// Exchange trades an authorization code (and its PKCE verifier) for tokens,
// through golang.org/x/oauth2.
func (c *Client) Exchange(ctx context.Context, code, verifier, redirectURI string) (tokens.Grant, error) {
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := c.oauth2Config(redirectURI).Exchange(c.httpContext(ctx), code, opts...)
	if err != nil {
		return tokens.Grant{}, fmt.Errorf("exchange authorization code: %w", githubError(err))
	}
	return c.grant(tok), nil
}

// Refresh trades a refresh token for a new pair (the old refresh token stops
// working), through golang.org/x/oauth2. A refused token yields an error
// wrapping tokens.ErrRefreshRejected.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (tokens.Grant, error) {
	tok, err := c.oauth2Config("").TokenSource(c.httpContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return tokens.Grant{}, fmt.Errorf("refresh user token: %w", githubError(err))
	}
	return c.grant(tok), nil
}

// oauth2Config is GitHub's token endpoint for x/oauth2: the client's id and
// secret go in the form, as GitHub expects.
func (c *Client) oauth2Config(redirectURI string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: c.cfg.BaseURL + "/login/oauth/authorize",
			TokenURL: c.cfg.BaseURL + "/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams}}
}

func (c *Client) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTPClient)
}

// githubError turns x/oauth2's RetrieveError into *Error. GitHub answers
// OAuth errors inside HTTP 200 bodies; x/oauth2 reports those with the code
// GitHub sent, which callers test (bad_verification_code,
// incorrect_client_credentials, bad_refresh_token → tokens.ErrRefreshRejected).
func githubError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return &Error{Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
	}
	return err
}

// grant reads GitHub's token answer; lifetimes count from the client's
// clock (cfg.Now), with GitHub's refresh_token_expires_in and scope.
func (c *Client) grant(tok *oauth2.Token) tokens.Grant {
	now := c.cfg.Now()
	g := tokens.Grant{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if n := extraSeconds(tok, "expires_in"); n > 0 {
		g.AccessExpiresAt = now.Add(time.Duration(n) * time.Second)
	}
	if n := extraSeconds(tok, "refresh_token_expires_in"); n > 0 {
		g.RefreshExpiresAt = now.Add(time.Duration(n) * time.Second)
	}
	if s, _ := tok.Extra("scope").(string); s != "" {
		g.Scopes = strings.Split(s, ",")
	}
	return g
}

// extraSeconds reads a number of seconds from the token answer's raw fields.
func extraSeconds(tok *oauth2.Token, name string) int64 {
	switch v := tok.Extra(name).(type) { // int64 from a form-encoded answer, float64 from JSON
	case int64:
		return v
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// token posts to /login/oauth/access_token. It returns *Error for GitHub's
// 200-with-error bodies, plus the interval GitHub sent with slow_down.
func (c *Client) token(ctx context.Context, form url.Values) (tokens.Grant, int, error) {
	var tr tokenResponse
	if err := c.post(ctx, c.cfg.BaseURL+"/login/oauth/access_token", form, &tr); err != nil {
		return tokens.Grant{}, 0, err
	}
	if tr.Error != "" {
		return tokens.Grant{}, tr.Interval, &Error{Code: tr.Error, Description: tr.ErrorDescription, URI: tr.ErrorURI}
	}
	if tr.AccessToken == "" {
		return tokens.Grant{}, 0, errors.New("GitHub answered without an access token")
	}
	now := c.cfg.Now()
	g := tokens.Grant{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken}
	if tr.ExpiresIn > 0 {
		g.AccessExpiresAt = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshTokenExpiresIn > 0 {
		g.RefreshExpiresAt = now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second)
	}
	if tr.Scope != "" {
		g.Scopes = strings.Split(tr.Scope, ",")
	}
	return g, 0, nil
}

func (c *Client) post(ctx context.Context, endpoint string, form url.Values, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return c.do(req, into)
}

func (c *Client) do(req *http.Request, into any) error {
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("call GitHub: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read GitHub's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &m)
		return fmt.Errorf("%s %s: HTTP %d %s", req.Method, req.URL.Path, resp.StatusCode, tokens.Redact(m.Message))
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("decode GitHub's answer from %s: %w", req.URL.Path, err)
	}
	return nil
}

// User returns the account an access token belongs to (GET /user).
func (c *Client) User(ctx context.Context, accessToken string) (tokens.User, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"user", nil)
	if err != nil {
		return tokens.User{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	var u struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	}
	if err := c.do(req, &u); err != nil {
		return tokens.User{}, fmt.Errorf("learn the user: %w", err)
	}
	if u.ID <= 0 || u.Login == "" {
		return tokens.User{}, errors.New("learn the user: GitHub's /user answer has no id or login")
	}
	return tokens.User{ID: u.ID, Login: u.Login}, nil
}

// AuthorizeURL is GitHub's authorize page for a state and PKCE challenge.
func (c *Client) AuthorizeURL(state, codeChallenge, redirectURI string, scopes []string) string {
	q := url.Values{"client_id": {c.cfg.ClientID}, "state": {state},
		"code_challenge": {codeChallenge}, "code_challenge_method": {"S256"}}
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	return c.cfg.BaseURL + "/login/oauth/authorize?" + q.Encode()
}
