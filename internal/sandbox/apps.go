package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

func (s *Sandbox) routes() {
	m := s.mux
	m.HandleFunc("GET /login/oauth/authorize", s.authorize)
	m.HandleFunc("POST /login/oauth/access_token", s.accessToken)
	m.HandleFunc("POST /login/device/code", s.deviceCode)
	m.HandleFunc("GET /api/v3/user", s.getUser)
	m.HandleFunc("GET /api/v3/orgs/{org}/memberships/{user}", s.getMembership)
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/collaborators/{user}/permission", s.getPermission)
	m.HandleFunc("POST /api/v3/app/installations/{id}/access_tokens", s.installationToken)

	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}", s.repoRoute(readAccess, s.getRepo))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/issues/{n}", s.repoRoute(readAccess, s.getIssue))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/pulls/{n}", s.repoRoute(readAccess, s.getPull))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/git/ref/{ref...}", s.repoRoute(readAccess, s.getGitRef))

	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/issues/{n}/comments", repoRouteJSON(s, readAccess, s.createIssueComment))
	// .../issues/{n}/comments and .../issues/comments/{id} overlap for
	// ServeMux; one pattern serves both, as GitHub's router does.
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/issues/{a}/{b}", s.issueSubresource)
	m.HandleFunc("PATCH /api/v3/repos/{owner}/{repo}/issues/comments/{id}", repoRouteJSON(s, readAccess, s.editIssueComment))
	m.HandleFunc("DELETE /api/v3/repos/{owner}/{repo}/issues/comments/{id}", s.repoRoute(readAccess, s.deleteIssueComment))
	// .../pulls/{n}/comments and .../pulls/comments/{id} overlap the same way.
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/pulls/{a}/{b}", s.pullSubresource)
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/pulls/{n}/comments", repoRouteJSON(s, readAccess, s.createReviewComment))
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/pulls/{n}/comments/{id}/replies", repoRouteJSON(s, readAccess, s.replyReviewComment))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/comments/{id}", s.getComment(kindCommit))
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/commits/{sha}/comments", repoRouteJSON(s, readAccess, s.createCommitComment))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/commits/{sha}/comments", s.repoRoute(readAccess, s.listCommitComments))
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/issues/comments/{id}/reactions", s.react(kindIssue))
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/pulls/comments/{id}/reactions", s.react(kindReview))
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/comments/{id}/reactions", s.react(kindCommit))

	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", repoRouteJSON(s, writeAccess, s.dispatch))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/actions/runs", s.repoRoute(readAccess, s.listRuns))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/actions/workflows/{workflow}/runs", s.repoRoute(readAccess, s.listRuns))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/actions/runs/{id}", s.repoRoute(readAccess, s.getRun))

	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/deployments", repoRouteJSON(s, writeAccess, s.createDeployment))
	m.HandleFunc("GET /api/v3/repos/{owner}/{repo}/deployments", s.repoRoute(readAccess, s.listDeployments))
	m.HandleFunc("POST /api/v3/repos/{owner}/{repo}/deployments/{id}/statuses", repoRouteJSON(s, writeAccess, s.createDeploymentStatus))

	// Not GitHub's: what was written through the API, for scripts and tests.
	m.HandleFunc("GET /_sandbox/writes", s.getWrites)
	m.HandleFunc("/api/v3/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
}

// caller is who a request's token speaks for.
type caller struct {
	kind         string // "user" or "installation"
	user         *User  // the person (user token) or the App's bot (installation token)
	installation int64
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "bearer ", "token ", "Token "} {
		if t, ok := strings.CutPrefix(h, p); ok {
			return t
		}
	}
	return ""
}

// callerOf authenticates r by its user-to-server or installation token;
// under s.mu.
func (s *Sandbox) callerOf(r *http.Request) (caller, bool) {
	tok := bearer(r)
	if tok == "" {
		return caller{}, false
	}
	now := s.now()
	if a, ok := s.st.Access[tok]; ok && now.Before(a.Expires) {
		if u := s.st.Users[a.User]; u != nil {
			return caller{kind: "user", user: u}, true
		}
	}
	if it, ok := s.st.InstTokens[tok]; ok && now.Before(it.Expires) {
		return caller{kind: "installation", user: s.botUser(), installation: it.Installation}, true
	}
	return caller{}, false
}

// botUser is the App's own account; under s.mu.
func (s *Sandbox) botUser() *User {
	login := s.cfg.AppSlug + "[bot]"
	if u, ok := s.st.Users[login]; ok {
		return u
	}
	u := s.addUser(login)
	u.Bot = true
	return u
}

// UserFor returns the user whose unexpired user-to-server token authorizes r.
func (s *Sandbox) UserFor(r *http.Request) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callerOf(r)
	if !ok || c.kind != "user" {
		return User{}, false
	}
	return *c.user, true
}

// IsInstallation reports whether r carries an unexpired installation token.
func (s *Sandbox) IsInstallation(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callerOf(r)
	return ok && c.kind == "installation"
}

func (s *Sandbox) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Counts["user"]++ // counters are saved with the next change
	c, ok := s.callerOf(r)
	if !ok || c.kind != "user" {
		badCredentials(w)
		return
	}
	writeJSON(w, http.StatusOK, s.privateUserJSON(c.user))
}

func (s *Sandbox) getMembership(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Counts["membership"]++ // counters are saved with the next change
	if c, ok := s.callerOf(r); !ok || c.kind != "installation" {
		badCredentials(w)
		return
	}
	org, login := r.PathValue("org"), r.PathValue("user")
	m, ok := s.membershipOf(org, login)
	u := s.st.Users[login]
	if !ok || u == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url": s.api("orgs", org, "memberships", login), "state": m.State, "role": m.Role,
		"organization_url": s.api("orgs", org), "organization": s.orgJSON(org), "user": s.userJSON(u),
	})
}

// rolePermission maps a repository role to the legacy "permission" field.
var rolePermission = map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none"}

// permissionsJSON is the "permissions" object GitHub shows for a role on a
// repository (a collaborator's, or the caller's own on GET /repos/{owner}/{repo}).
func permissionsJSON(role string) map[string]bool {
	return map[string]bool{"admin": role == "admin", "maintain": role == "admin" || role == "maintain",
		"push": canWrite(role), "triage": role != "read" && role != "none", "pull": role != "none"}
}

func (s *Sandbox) getPermission(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Counts["permission"]++ // counters are saved with the next change
	if c, ok := s.callerOf(r); !ok || c.kind != "installation" {
		badCredentials(w)
		return
	}
	login := r.PathValue("user")
	u := s.st.Users[login]
	if u == nil {
		notFound(w)
		return
	}
	role := s.roleOf(r.PathValue("owner")+"/"+r.PathValue("repo"), login)
	user := s.userJSON(u)
	user["permissions"] = permissionsJSON(role)
	user["role_name"] = role
	writeJSON(w, http.StatusOK, map[string]any{"permission": rolePermission[role], "role_name": role, "user": user})
}

// installationToken checks the App JWT (RS256, signed by the App's key,
// issuer = App id, at most 10 minutes long) and mints a one-hour ghs_ token.
func (s *Sandbox) installationToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Counts["installation_token"]++
	s.changed()
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSON(w, http.StatusUnauthorized, apiError("A JSON web token could not be decoded"))
		return
	}
	claims := &jwt.RegisteredClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &s.appKey.PublicKey, nil })
	// JWT signers use the wall clock, so the JWT is checked against it too;
	// the token's own expiry follows the stand-in's clock.
	wall, now := time.Now(), s.now()
	switch {
	case err != nil:
		writeJSON(w, http.StatusUnauthorized, apiError("A JSON web token could not be decoded"))
		return
	case claims.Issuer != strconv.FormatInt(s.cfg.AppID, 10):
		writeJSON(w, http.StatusUnauthorized, apiError("'Issuer' claim ('iss') must be an Integer"))
		return
	case claims.ExpiresAt == nil || claims.ExpiresAt.Time.Before(wall) || claims.ExpiresAt.Time.Sub(wall) > 10*time.Minute+time.Minute:
		writeJSON(w, http.StatusUnauthorized, apiError("'Expiration time' claim ('exp') is too far in the future"))
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !s.st.Installs[id] {
		notFound(w)
		return
	}
	tok, exp := randomToken("ghs_"), now.Add(time.Hour).Truncate(time.Second)
	s.st.InstTokens[tok] = &instToken{Installation: id, Expires: exp}
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": exp.UTC().Format(time.RFC3339),
		"permissions": map[string]string{"members": "read", "metadata": "read", "contents": "write", "issues": "write",
			"pull_requests": "write", "actions": "write", "deployments": "write"},
		"repository_selection": "all",
	})
}
