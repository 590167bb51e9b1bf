package sandbox

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The JSON objects GitHub sends, built from the state. Field sets follow
// GitHub's REST description and webhook schemas (the tests check both); the
// webhook schemas allow no extra field, so objects here carry only fields
// both accept.

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func apiError(message string) map[string]string {
	return map[string]string{"message": message, "documentation_url": "https://docs.github.com/rest"}
}

func notFound(w http.ResponseWriter) { writeJSON(w, http.StatusNotFound, apiError("Not Found")) }

func badCredentials(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, apiError("Bad credentials"))
}

func forbidden(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusForbidden, apiError(message))
}

// validationFailed is GitHub's 422 for a request body it refuses.
func validationFailed(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
		"errors": []map[string]string{{"resource": "Request", "code": "invalid", "message": message}}})
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0:%s%d", kind, id)))
}

// fakeSHA is a stable 40-hex commit id for a name.
func fakeSHA(name string) string {
	sum := sha1.Sum([]byte(name))
	return hex.EncodeToString(sum[:])
}

// api and web build URLs under the REST root and the web root.
func (s *Sandbox) api(parts ...string) string {
	return s.cfg.BaseURL + "/api/v3/" + strings.Join(parts, "/")
}

func (s *Sandbox) web(parts ...string) string { return s.cfg.BaseURL + "/" + strings.Join(parts, "/") }

func (s *Sandbox) userJSON(u *User) map[string]any {
	typ, login := "User", u.Login
	if u.Bot {
		typ = "Bot"
	}
	esc := url.PathEscape(login) // "ai3-mvp[bot]" → "ai3-mvp%5Bbot%5D", as GitHub writes it
	au := s.api("users", esc)
	return map[string]any{
		"login": login, "id": u.ID, "node_id": nodeID("U_", u.ID), "avatar_url": s.web("avatars", "u", fmt.Sprint(u.ID)),
		"gravatar_id": "", "url": au, "html_url": s.web(esc), "followers_url": au + "/followers",
		"following_url": au + "/following{/other_user}", "gists_url": au + "/gists{/gist_id}",
		"starred_url": au + "/starred{/owner}{/repo}", "subscriptions_url": au + "/subscriptions",
		"organizations_url": au + "/orgs", "repos_url": au + "/repos", "events_url": au + "/events{/privacy}",
		"received_events_url": au + "/received_events", "type": typ, "site_admin": false,
	}
}

// userByLogin is userJSON for a login, creating the account if needed; under s.mu.
func (s *Sandbox) userByLogin(login string) map[string]any { return s.userJSON(s.addUser(login)) }

// privateUserJSON is GET /user's answer for the token's owner.
func (s *Sandbox) privateUserJSON(u *User) map[string]any {
	m := s.userJSON(u)
	created := stamp(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	for k, v := range map[string]any{"name": u.Login, "company": nil, "blog": "", "location": nil, "email": nil, "hireable": nil,
		"bio": nil, "twitter_username": nil, "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": created, "updated_at": created, "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0,
		"disk_usage": 0, "collaborators": 0, "two_factor_authentication": true,
		"plan": map[string]any{"name": "free", "space": 976562499, "private_repos": 10000, "collaborators": 0}} {
		m[k] = v
	}
	return m
}

func (s *Sandbox) orgID(org string) int64 { return int64(len(org))*1_000_003 + 7 }

func (s *Sandbox) orgJSON(org string) map[string]any {
	au := s.api("orgs", org)
	return map[string]any{
		"login": org, "id": s.orgID(org), "node_id": nodeID("O_", s.orgID(org)), "url": au, "repos_url": au + "/repos",
		"events_url": au + "/events", "hooks_url": au + "/hooks", "issues_url": au + "/issues",
		"members_url": au + "/members{/member}", "public_members_url": au + "/public_members{/member}",
		"avatar_url": s.web("avatars", "o", org), "description": "ai3 sandbox organization",
	}
}

// ownerJSON is a repository's owner: the organization (as a user-shaped
// account of type Organization) or a user.
func (s *Sandbox) ownerJSON(login string) map[string]any {
	if u, ok := s.st.Users[login]; ok && login != s.cfg.Org {
		return s.userJSON(u)
	}
	m := s.userJSON(&User{ID: s.orgID(login), Login: login})
	m["type"] = "Organization"
	return m
}

// repoJSON is a repository as webhooks carry it.
func (s *Sandbox) repoJSON(r *repo) map[string]any {
	full := r.fullName()
	au := s.api("repos", r.Owner, r.Name)
	host := strings.TrimPrefix(strings.TrimPrefix(s.cfg.BaseURL, "http://"), "https://")
	host, _, _ = strings.Cut(host, "/")
	m := map[string]any{
		"id": r.ID, "node_id": nodeID("R_", r.ID), "name": r.Name, "full_name": full, "private": true,
		"owner": s.ownerJSON(r.Owner), "html_url": s.web(r.Owner, r.Name), "description": nil, "fork": false, "url": au,
		"forks_url": au + "/forks", "keys_url": au + "/keys{/key_id}", "collaborators_url": au + "/collaborators{/collaborator}",
		"teams_url": au + "/teams", "hooks_url": au + "/hooks", "issue_events_url": au + "/issues/events{/number}",
		"events_url": au + "/events", "assignees_url": au + "/assignees{/user}", "branches_url": au + "/branches{/branch}",
		"tags_url": au + "/tags", "blobs_url": au + "/git/blobs{/sha}", "git_tags_url": au + "/git/tags{/sha}",
		"git_refs_url": au + "/git/refs{/sha}", "trees_url": au + "/git/trees{/sha}", "statuses_url": au + "/statuses/{sha}",
		"languages_url": au + "/languages", "stargazers_url": au + "/stargazers", "contributors_url": au + "/contributors",
		"subscribers_url": au + "/subscribers", "subscription_url": au + "/subscription", "commits_url": au + "/commits{/sha}",
		"git_commits_url": au + "/git/commits{/sha}", "comments_url": au + "/comments{/number}",
		"issue_comment_url": au + "/issues/comments{/number}", "contents_url": au + "/contents/{+path}",
		"compare_url": au + "/compare/{base}...{head}", "merges_url": au + "/merges",
		"archive_url": au + "/{archive_format}{/ref}", "downloads_url": au + "/downloads", "issues_url": au + "/issues{/number}",
		"pulls_url": au + "/pulls{/number}", "milestones_url": au + "/milestones{/number}",
		"notifications_url": au + "/notifications{?since,all,participating}", "labels_url": au + "/labels{/name}",
		"releases_url": au + "/releases{/id}", "deployments_url": au + "/deployments",
		"created_at": stamp(r.CreatedAt), "updated_at": stamp(r.CreatedAt), "pushed_at": stamp(r.CreatedAt),
		"git_url": "git://" + host + "/" + full + ".git", "ssh_url": "git@" + host + ":" + full + ".git",
		"clone_url": s.web(full) + ".git", "svn_url": s.web(full), "homepage": nil, "size": 0, "stargazers_count": 0,
		"watchers_count": 0, "language": "Go", "has_issues": true, "has_projects": false, "has_downloads": true,
		"has_wiki": false, "has_pages": false, "has_discussions": false, "forks_count": 0, "mirror_url": nil,
		"archived": false, "disabled": false, "open_issues_count": s.openIssues(r), "license": nil, "forks": 0,
		"open_issues": s.openIssues(r), "watchers": 0, "default_branch": r.DefaultBranch, "is_template": false,
		"web_commit_signoff_required": false, "topics": []string{}, "visibility": "private", "custom_properties": map[string]any{},
		"allow_forking": false,
	}
	return m
}

// fullRepoJSON is GET /repos/{owner}/{repo}'s answer.
func (s *Sandbox) fullRepoJSON(r *repo) map[string]any {
	m := s.repoJSON(r)
	m["network_count"] = 0
	m["subscribers_count"] = 0
	m["allow_squash_merge"] = true
	m["allow_merge_commit"] = true
	m["allow_rebase_merge"] = true
	m["delete_branch_on_merge"] = false
	if r.Owner == s.cfg.Org {
		m["organization"] = s.ownerJSON(r.Owner)
	}
	return m
}

func (s *Sandbox) openIssues(r *repo) int {
	n := 0
	for _, is := range r.Issues {
		if is.State == "open" {
			n++
		}
	}
	return n
}

func (s *Sandbox) labelsJSON(r *repo, names []string) []map[string]any {
	out := []map[string]any{}
	for _, n := range names {
		id := int64(0)
		for _, c := range r.fullName() + ":" + n {
			id = id*31 + int64(c)
		}
		if id < 0 {
			id = -id
		}
		out = append(out, map[string]any{"id": id, "node_id": nodeID("LA_", id), "url": s.api("repos", r.Owner, r.Name, "labels", n),
			"name": n, "color": "ededed", "default": false, "description": nil})
	}
	return out
}

func (s *Sandbox) association(login string) string {
	if m, ok := s.membershipOf(s.cfg.Org, login); ok && m.State == "active" {
		return "MEMBER"
	}
	return "NONE"
}

func (s *Sandbox) issueJSON(r *repo, is *issue) map[string]any {
	au := s.api("repos", r.Owner, r.Name, "issues", fmt.Sprint(is.Number))
	kind := "issues"
	if is.PR != nil {
		kind = "pull"
	}
	m := map[string]any{
		"url": au, "repository_url": s.api("repos", r.Owner, r.Name), "labels_url": au + "/labels{/name}",
		"comments_url": au + "/comments", "events_url": au + "/events", "html_url": s.web(r.Owner, r.Name, kind, fmt.Sprint(is.Number)),
		"id": is.ID, "node_id": nodeID("I_", is.ID), "number": is.Number, "title": is.Title, "user": s.userByLogin(is.User),
		"labels": s.labelsJSON(r, is.Labels), "state": is.State, "locked": false, "assignee": nil, "assignees": []any{},
		"milestone": nil, "comments": is.Comments, "created_at": stamp(is.CreatedAt), "updated_at": stamp(is.UpdatedAt),
		"closed_at": nil, "author_association": s.association(is.User), "active_lock_reason": nil, "body": nilIfEmpty(is.Body),
		"reactions": reactionsJSON(au+"/reactions", nil), "timeline_url": au + "/timeline", "performed_via_github_app": nil,
		"state_reason": nil,
	}
	if is.PR != nil {
		pu := s.api("repos", r.Owner, r.Name, "pulls", fmt.Sprint(is.Number))
		html := s.web(r.Owner, r.Name, "pull", fmt.Sprint(is.Number))
		m["pull_request"] = map[string]any{"url": pu, "html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": nil}
		m["draft"] = is.PR.Draft
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// reactionsJSON is a reaction rollup: counts per content.
func reactionsJSON(self string, by map[string][]string) map[string]any {
	m := map[string]any{"url": self}
	total := 0
	for _, c := range reactionContents {
		m[c] = len(by[c])
		total += len(by[c])
	}
	m["total_count"] = total
	return m
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

// appJSON is the App object (performed_via_github_app).
func (s *Sandbox) appJSON() map[string]any {
	created := stamp(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	return map[string]any{
		"id": s.cfg.AppID, "slug": s.cfg.AppSlug, "node_id": nodeID("A_", s.cfg.AppID), "owner": s.ownerJSON(s.cfg.Org),
		"name": s.cfg.AppName, "description": "CI/CD from GitHub comments", "external_url": s.cfg.BaseURL,
		"html_url": s.web("apps", s.cfg.AppSlug), "created_at": created, "updated_at": created,
		"permissions": map[string]string{"actions": "write", "contents": "write", "deployments": "write", "issues": "write",
			"members": "read", "metadata": "read", "pull_requests": "write"},
		"events": []string{"commit_comment", "issue_comment", "pull_request_review_comment", "workflow_run"},
	}
}
