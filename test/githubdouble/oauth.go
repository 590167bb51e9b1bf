package githubdouble

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.accessToken)
	mux.HandleFunc("POST /login/device/code", s.deviceCode)
	mux.HandleFunc("GET /api/v3/user", s.getUser)
	mux.HandleFunc("GET /api/v3/orgs/{org}/memberships/{user}", s.getMembership)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{repo}/collaborators/{user}/permission", s.getPermission)
	mux.HandleFunc("POST /api/v3/app/installations/{id}/access_tokens", s.installationToken)
}

// authorize approves at once for the signed-in user and redirects back with
// a code, as GitHub does for an already-authorized app.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	login := s.signedIn
	s.mu.Unlock()
	switch {
	case q.Get("client_id") != s.ClientID:
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	case login == "":
		http.Error(w, "nobody is signed in to the double (call SignIn)", http.StatusUnauthorized)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	c := s.IssueCode(login, q.Get("code_challenge"), redirect)
	u, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("code", c)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	s.mu.Lock()
	body := s.grant(r.Form)
	s.mu.Unlock()
	answer(w, r, body)
}

// grant runs under s.mu and returns GitHub's body: tokens or an error, both
// with HTTP 200.
func (s *Server) grant(f url.Values) map[string]any {
	kind := map[string]string{"": "code", "authorization_code": "code", "refresh_token": "refresh",
		"urn:ietf:params:oauth:grant-type:device_code": "device"}[f.Get("grant_type")]
	if kind == "" {
		return oauthError("unsupported_grant_type", "The grant type is not supported.")
	}
	s.counts["token."+kind]++
	if f.Get("client_id") != s.ClientID {
		return oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
	}
	if kind != "device" && f.Get("client_secret") != s.ClientSecret {
		return oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
	}
	if e, ok := s.failNext[kind]; ok {
		delete(s.failNext, kind)
		return oauthError(e, "Injected by the test.")
	}
	now := s.now()
	switch kind {
	case "code":
		c, ok := s.codes[f.Get("code")]
		if !ok || c.used || !now.Before(c.expires) {
			return oauthError("bad_verification_code", "The code passed is incorrect or expired.")
		}
		if ru := f.Get("redirect_uri"); ru != "" && ru != c.redirectURI {
			return oauthError("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				return oauthError("bad_verification_code", "The code_verifier does not match the code_challenge.")
			}
		}
		c.used = true
		return s.issuePair(c.user, "")
	case "refresh":
		old, ok := s.refresh[f.Get("refresh_token")]
		if !ok || old.used || !now.Before(old.expires) {
			return oauthError("bad_refresh_token", "The refresh token passed is incorrect or expired.")
		}
		old.used = true // single use: a second attempt with it fails
		return s.issuePair(old.user, old.scope)
	default:
		return s.pollDevice(f.Get("device_code"), now)
	}
}

func (s *Server) pollDevice(deviceCode string, now time.Time) map[string]any {
	d, ok := s.devices[deviceCode]
	switch {
	case !ok:
		return oauthError("incorrect_device_code", "The device_code provided is not valid.")
	case d.redeemed || !now.Before(d.expires):
		return oauthError("expired_token", "The device_code has expired.")
	case d.state == "denied":
		return oauthError("access_denied", "The authorization request was denied.")
	}
	tooSoon := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < time.Duration(d.interval)*time.Second
	d.lastPoll = now
	if tooSoon {
		d.interval += 5
		e := oauthError("slow_down", "Too many requests have been made in the same timeframe.")
		e["interval"] = d.interval
		return e
	}
	if d.state == "pending" {
		return oauthError("authorization_pending", "The authorization request is still pending.")
	}
	d.redeemed = true
	return s.issuePair(d.user, d.scope)
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts["device.code"]++
	if r.Form.Get("client_id") != s.ClientID {
		answer(w, r, oauthError("incorrect_client_credentials", "The client_id is not valid."))
		return
	}
	dc := randomToken("")
	raw := strings.ToUpper(randomToken("")[:8])
	d := &device{userCode: raw[:4] + "-" + raw[4:], state: "pending", interval: s.interval,
		expires: s.now().Add(15 * time.Minute), scope: r.Form.Get("scope")}
	s.devices[dc] = d
	answer(w, r, map[string]any{
		"device_code": dc, "user_code": d.userCode, "verification_uri": s.URL + "/login/device",
		"expires_in": 900, "interval": d.interval,
	})
}

func (s *Server) deviceByUserCode(userCode string) *device {
	for _, d := range s.devices {
		if d.userCode == userCode {
			return d
		}
	}
	return nil
}

// ApproveDevice approves a device flow's user code as login.
func (s *Server) ApproveDevice(userCode, login string) error {
	s.AddUser(login)
	return s.setDevice(userCode, func(d *device) { d.state, d.user = "approved", login })
}

// DenyDevice makes the user cancel the device flow (access_denied).
func (s *Server) DenyDevice(userCode string) error {
	return s.setDevice(userCode, func(d *device) { d.state = "denied" })
}

// ExpireDevice makes the device code expire (expired_token).
func (s *Server) ExpireDevice(userCode string) error {
	return s.setDevice(userCode, func(d *device) { d.expires = s.now() })
}

// LastUserCode returns the user code of the most recent device flow, as the
// person would read it from the terminal.
func (s *Server) LastUserCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last *device
	for _, d := range s.devices {
		if last == nil || d.expires.After(last.expires) {
			last = d
		}
	}
	if last == nil {
		return ""
	}
	return last.userCode
}

func (s *Server) setDevice(userCode string, f func(*device)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deviceByUserCode(userCode)
	if d == nil {
		return fmt.Errorf("githubdouble: no device flow with user code %q", userCode)
	}
	f(d)
	return nil
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
