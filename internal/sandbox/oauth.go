package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authorize approves at once for the signed-in user and redirects back with
// a code, as GitHub does for an already-authorized app.
func (s *Sandbox) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	login := s.st.SignedIn
	s.mu.Unlock()
	switch {
	case q.Get("client_id") != s.cfg.ClientID:
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	case login == "":
		http.Error(w, "nobody is signed in to the GitHub sandbox (SignIn)", http.StatusUnauthorized)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	c := s.IssueCode(login, q.Get("code_challenge"), redirect)
	v := u.Query()
	v.Set("code", c)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Sandbox) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if s.cfg.TokenDelay > 0 {
		time.Sleep(s.cfg.TokenDelay)
	}
	s.mu.Lock()
	body := s.grant(r.Form)
	s.changed()
	s.mu.Unlock()
	answer(w, r, body)
}

// grant runs under s.mu and returns GitHub's body: tokens or an error, both
// with HTTP 200.
func (s *Sandbox) grant(f url.Values) map[string]any {
	kind := map[string]string{"": "code", "authorization_code": "code", "refresh_token": "refresh",
		"urn:ietf:params:oauth:grant-type:device_code": "device"}[f.Get("grant_type")]
	if kind == "" {
		return oauthError("unsupported_grant_type", "The grant type is not supported.")
	}
	s.st.Counts["token."+kind]++
	if f.Get("client_id") != s.cfg.ClientID {
		return oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
	}
	if kind != "device" && f.Get("client_secret") != s.cfg.ClientSecret {
		return oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
	}
	if e, ok := s.st.FailNext[kind]; ok {
		delete(s.st.FailNext, kind)
		return oauthError(e, "Injected by the test.")
	}
	now := s.now()
	switch kind {
	case "code":
		c, ok := s.st.Codes[f.Get("code")]
		if !ok || c.Used || !now.Before(c.Expires) {
			return oauthError("bad_verification_code", "The code passed is incorrect or expired.")
		}
		if ru := f.Get("redirect_uri"); ru != "" && ru != c.RedirectURI {
			return oauthError("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		}
		if c.Challenge != "" {
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.Challenge {
				return oauthError("bad_verification_code", "The code_verifier does not match the code_challenge.")
			}
		}
		c.Used = true
		return s.issuePair(c.User, "").body()
	case "refresh":
		old, ok := s.st.Refresh[f.Get("refresh_token")]
		if !ok || old.Used || !now.Before(old.Expires) {
			return oauthError("bad_refresh_token", "The refresh token passed is incorrect or expired.")
		}
		old.Used = true // single use: a second attempt with it fails
		return s.issuePair(old.User, old.Scope).body()
	default:
		return s.pollDevice(f.Get("device_code"), now)
	}
}

func (s *Sandbox) pollDevice(deviceCode string, now time.Time) map[string]any {
	d, ok := s.st.Devices[deviceCode]
	switch {
	case !ok:
		return oauthError("incorrect_device_code", "The device_code provided is not valid.")
	case d.Redeemed || !now.Before(d.Expires):
		return oauthError("expired_token", "The device_code has expired.")
	case d.State == "denied":
		return oauthError("access_denied", "The authorization request was denied.")
	}
	tooSoon := !d.LastPoll.IsZero() && now.Sub(d.LastPoll) < time.Duration(d.Interval)*time.Second
	d.LastPoll = now
	if tooSoon {
		d.Interval += 5
		e := oauthError("slow_down", "Too many requests have been made in the same timeframe.")
		e["interval"] = d.Interval
		return e
	}
	if d.State == "pending" {
		return oauthError("authorization_pending", "The authorization request is still pending.")
	}
	d.Redeemed = true
	return s.issuePair(d.User, d.Scope).body()
}

func (s *Sandbox) deviceCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Counts["device.code"]++
	s.changed()
	if r.Form.Get("client_id") != s.cfg.ClientID {
		answer(w, r, oauthError("incorrect_client_credentials", "The client_id is not valid."))
		return
	}
	dc := randomToken("")
	raw := strings.ToUpper(randomToken("")[:8])
	d := &device{UserCode: raw[:4] + "-" + raw[4:], State: "pending", Interval: s.cfg.DeviceInterval,
		Expires: s.now().Add(15 * time.Minute), Scope: r.Form.Get("scope")}
	s.st.Devices[dc] = d
	answer(w, r, map[string]any{
		"device_code": dc, "user_code": d.UserCode, "verification_uri": s.cfg.BaseURL + "/login/device",
		"expires_in": 900, "interval": d.Interval,
	})
}

// Grant is an OAuth user-to-server grant, as the token endpoint issues it.
type Grant struct {
	AccessToken      string
	RefreshToken     string
	Expiry           time.Time // of the access token
	RefreshExpiry    time.Time
	Scope, TokenType string

	issued time.Time
}

func (g Grant) body() map[string]any {
	return map[string]any{
		"access_token": g.AccessToken, "expires_in": int(g.Expiry.Sub(g.issued).Round(time.Second).Seconds()),
		"refresh_token": g.RefreshToken, "refresh_token_expires_in": int(g.RefreshExpiry.Sub(g.issued).Round(time.Second).Seconds()),
		"scope": g.Scope, "token_type": g.TokenType,
	}
}

// issuePair mints a ghu_/ghr_ pair for login; under s.mu.
func (s *Sandbox) issuePair(login, scope string) Grant {
	now := s.now()
	g := Grant{AccessToken: randomToken("ghu_"), RefreshToken: randomToken("ghr_"), Expiry: now.Add(s.cfg.AccessTTL),
		RefreshExpiry: now.Add(s.cfg.RefreshTTL), Scope: scope, TokenType: "bearer", issued: now}
	s.st.Access[g.AccessToken] = &grantRecord{User: login, Expires: g.Expiry, Scope: scope}
	s.st.Refresh[g.RefreshToken] = &grantRecord{User: login, Expires: g.RefreshExpiry, Scope: scope}
	s.changed()
	return g
}

// IssueUserToken returns a fresh OAuth grant for login, as the web flow
// would after the user approved: for `ai3 dev` to store in its vault for
// sandbox users. An unknown login becomes a sandbox user (EnsureUser); a
// known one keeps its memberships and permissions.
func (s *Sandbox) IssueUserToken(login string) Grant {
	s.mu.Lock()
	_, known := s.st.Users[login]
	s.mu.Unlock()
	if !known {
		s.EnsureUser(login)
	}
	s.mu.Lock()
	g := s.issuePair(login, "")
	s.mu.Unlock()
	s.save()
	return g
}

// SignIn makes login the browser's signed-in user: GET /login/oauth/authorize
// then approves immediately for them.
func (s *Sandbox) SignIn(login string) {
	s.mu.Lock()
	s.addUser(login)
	s.st.SignedIn = login
	s.changed()
	s.mu.Unlock()
	s.save()
}

// IssueCode returns an authorization code for login, as the authorize page
// would after approval (challenge is the PKCE S256 challenge or "").
func (s *Sandbox) IssueCode(login, challenge, redirectURI string) string {
	s.mu.Lock()
	s.addUser(login)
	c := randomToken("")[:20]
	s.st.Codes[c] = &authCode{User: login, Challenge: challenge, RedirectURI: redirectURI, Expires: s.now().Add(10 * time.Minute)}
	s.changed()
	s.mu.Unlock()
	s.save()
	return c
}

// ExpireAccessToken makes a previously issued access token expire now.
func (s *Sandbox) ExpireAccessToken(token string) {
	s.mu.Lock()
	if a, ok := s.st.Access[token]; ok {
		a.Expires = s.now()
		s.changed()
	}
	s.mu.Unlock()
	s.save()
}

// SetTokenLifetimes changes the lifetimes of OAuth tokens issued from now on.
func (s *Sandbox) SetTokenLifetimes(access, refresh time.Duration) {
	s.mu.Lock()
	s.cfg.AccessTTL, s.cfg.RefreshTTL = access, refresh
	s.mu.Unlock()
}

// FailNextToken makes the next token request of a grant kind ("code",
// "refresh", "device") answer GitHub's 200-with-error body with errCode.
func (s *Sandbox) FailNextToken(kind, errCode string) {
	s.mu.Lock()
	s.st.FailNext[kind] = errCode
	s.changed()
	s.mu.Unlock()
}

// ApproveDevice approves a device flow's user code as login.
func (s *Sandbox) ApproveDevice(userCode, login string) error {
	s.AddUser(login)
	return s.setDevice(userCode, func(d *device) { d.State, d.User = "approved", login })
}

// DenyDevice makes the user cancel the device flow (access_denied).
func (s *Sandbox) DenyDevice(userCode string) error {
	return s.setDevice(userCode, func(d *device) { d.State = "denied" })
}

// ExpireDevice makes the device code expire (expired_token).
func (s *Sandbox) ExpireDevice(userCode string) error {
	return s.setDevice(userCode, func(d *device) { d.Expires = s.now() })
}

// LastUserCode returns the user code of the most recent device flow, as the
// person would read it from the terminal.
func (s *Sandbox) LastUserCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last *device
	for _, d := range s.st.Devices {
		if last == nil || d.Expires.After(last.Expires) {
			last = d
		}
	}
	if last == nil {
		return ""
	}
	return last.UserCode
}

func (s *Sandbox) setDevice(userCode string, f func(*device)) error {
	s.mu.Lock()
	var found *device
	for _, d := range s.st.Devices {
		if d.UserCode == userCode {
			found = d
		}
	}
	if found != nil {
		f(found)
		s.changed()
	}
	s.mu.Unlock()
	if found == nil {
		return fmt.Errorf("sandbox: no device flow with user code %q", userCode)
	}
	s.save()
	return nil
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

func oauthError(code, desc string) map[string]any {
	return map[string]any{"error": code, "error_description": desc,
		"error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + strings.ReplaceAll(code, "_", "-")}
}

// answer writes body as JSON when asked (Accept: application/json), else
// form-encoded like GitHub's default; always HTTP 200.
func answer(w http.ResponseWriter, r *http.Request, body map[string]any) {
	if strings.Contains(r.Header.Get("Accept"), "json") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	v := url.Values{}
	for k, x := range body {
		v.Set(k, fmt.Sprint(x))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	fmt.Fprint(w, v.Encode())
}
