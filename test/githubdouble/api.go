package githubdouble

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
}

func badCredentials(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
}

func userJSON(u *User) map[string]any {
	return map[string]any{"login": u.Login, "id": u.ID, "node_id": "U_" + strconv.FormatInt(u.ID, 10), "type": "User", "site_admin": false}
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts["user"]++
	u, ok := s.userByToken(r)
	if !ok {
		badCredentials(w)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(u))
}

// installationAuth reports whether the request carries an unexpired
// installation token. Runs under s.mu.
func (s *Server) installationAuth(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	if !ok {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	exp, ok := s.instTokens[tok]
	return ok && s.now().Before(exp)
}

func (s *Server) getMembership(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts["membership"]++
	if !s.installationAuth(r) {
		badCredentials(w)
		return
	}
	org, login := r.PathValue("org"), r.PathValue("user")
	m, ok := s.members[org][login]
	u := s.users[login]
	if !ok || u == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url": s.APIURL() + "orgs/" + org + "/memberships/" + login, "state": m.state, "role": m.role,
		"organization": map[string]any{"login": org}, "user": userJSON(u),
	})
}

// rolePermission maps a repository role to the legacy "permission" field.
var rolePermission = map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none"}

func (s *Server) getPermission(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts["permission"]++
	if !s.installationAuth(r) {
		badCredentials(w)
		return
	}
	login := r.PathValue("user")
	u := s.users[login]
	if u == nil {
		notFound(w)
		return
	}
	role, ok := s.perms[r.PathValue("owner")+"/"+r.PathValue("repo")][login]
	if !ok {
		role = "none"
	}
	writeJSON(w, http.StatusOK, map[string]any{"permission": rolePermission[role], "role_name": role, "user": userJSON(u)})
}

// installationToken checks the App JWT (RS256, signed by the App's key,
// issuer = App id, at most 10 minutes long) and mints a one-hour ghs_ token.
func (s *Server) installationToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts["installation_token"]++
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
		return
	}
	claims := &jwt.RegisteredClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &s.appKey.PublicKey, nil })
	// JWT signers use the wall clock, so the JWT is checked against it too;
	// the token's own expiry follows the double's clock.
	wall, now := time.Now(), s.now()
	switch {
	case err != nil:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
		return
	case claims.Issuer != strconv.FormatInt(s.appID, 10):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "'Issuer' claim ('iss') must be an Integer"})
		return
	case claims.ExpiresAt == nil || claims.ExpiresAt.Time.Before(wall) || claims.ExpiresAt.Time.Sub(wall) > 10*time.Minute+time.Minute:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "'Expiration time' claim ('exp') is too far in the future"})
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !s.installs[id] {
		notFound(w)
		return
	}
	tok, exp := randomToken("ghs_"), now.Add(time.Hour).Truncate(time.Second)
	s.instTokens[tok] = exp
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": exp.UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"members": "read", "metadata": "read", "contents": "write", "issues": "write"},
		"repository_selection": "all",
	})
}
