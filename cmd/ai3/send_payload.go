package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// commentPayload is the body GitHub sends for a new comment on an issue or
// pull request (issue_comment, action "created"): every field GitHub's
// schema (@octokit/webhooks-schemas) requires, shaped as in GitHub's own
// examples, with stable ids derived from the names so repeated sends
// describe the same repository, issue and user.
type commentPayload struct {
	Repo   string // owner/name
	Issue  int
	User   string
	Body   string
	Web    string // web root, e.g. https://github.com
	API    string // REST root, e.g. https://api.github.com
	PR     bool   // the issue is a pull request
	At     time.Time
	Action string // default "created"
}

// JSON renders the payload.
func (p commentPayload) JSON() ([]byte, error) {
	owner, name, ok := strings.Cut(p.Repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q: want owner/name", p.Repo)
	}
	web := strings.TrimSuffix(orDefault(p.Web, "https://github.com"), "/")
	api := strings.TrimSuffix(orDefault(p.API, "https://api.github.com"), "/")
	at := p.At.UTC().Format(time.RFC3339)
	repoAPI := api + "/repos/" + p.Repo
	issueAPI := fmt.Sprintf("%s/issues/%d", repoAPI, p.Issue)
	htmlKind := "issues"
	if p.PR {
		htmlKind = "pull"
	}
	commentID := stableID("comment", p.Repo, fmt.Sprint(p.Issue), p.User, p.Body, at)
	issue := map[string]any{
		"url": issueAPI, "repository_url": repoAPI, "labels_url": issueAPI + "/labels{/name}",
		"comments_url": issueAPI + "/comments", "events_url": issueAPI + "/events",
		"html_url": fmt.Sprintf("%s/%s/%s/%d", web, p.Repo, htmlKind, p.Issue),
		"id":       stableID("issue", p.Repo, fmt.Sprint(p.Issue)), "node_id": nodeIDOf("I_", p.Repo, p.Issue),
		"number": p.Issue, "title": fmt.Sprintf("Issue %d", p.Issue), "user": userObject(owner, web, api),
		"labels": []any{}, "state": "open", "locked": false, "assignee": nil, "assignees": []any{}, "milestone": nil,
		"comments": 1, "created_at": at, "updated_at": at, "closed_at": nil, "author_association": "OWNER",
		"active_lock_reason": nil, "body": nil, "reactions": reactionsObject(issueAPI + "/reactions"),
		"timeline_url": issueAPI + "/timeline", "performed_via_github_app": nil, "state_reason": nil,
	}
	if p.PR {
		pr := fmt.Sprintf("%s/pulls/%d", repoAPI, p.Issue)
		issue["pull_request"] = map[string]any{"url": pr, "html_url": issue["html_url"],
			"diff_url": issue["html_url"].(string) + ".diff", "patch_url": issue["html_url"].(string) + ".patch", "merged_at": nil}
	}
	commentAPI := fmt.Sprintf("%s/issues/comments/%d", repoAPI, commentID)
	comment := map[string]any{
		"url": commentAPI, "html_url": fmt.Sprintf("%s#issuecomment-%d", issue["html_url"], commentID),
		"issue_url": issueAPI, "id": commentID, "node_id": nodeIDOf("IC_", p.Repo, int(commentID%1e9)),
		"user": userObject(p.User, web, api), "created_at": at, "updated_at": at,
		"author_association": association(p.User, owner), "performed_via_github_app": nil, "body": p.Body,
		"reactions": reactionsObject(commentAPI + "/reactions"),
	}
	body := map[string]any{
		"action": orDefault(p.Action, "created"), "issue": issue, "comment": comment,
		"repository": repositoryObject(owner, name, web, api, at), "sender": userObject(p.User, web, api),
	}
	return json.Marshal(body)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func association(user, owner string) string {
	if strings.EqualFold(user, owner) {
		return "OWNER"
	}
	return "MEMBER"
}

// stableID is a positive id derived from names (GitHub's are positive 64-bit).
func stableID(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64()>>12) + 1 // keep it well inside JavaScript's safe integers
}

func nodeIDOf(prefix, repo string, n int) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s#%d", repo, n)))
}

func userObject(login, web, api string) map[string]any {
	u := api + "/users/" + login
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	return map[string]any{
		"login": login, "id": stableID("user", login), "node_id": nodeIDOf("U_", login, 0),
		"avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "gravatar_id": "", "url": u,
		"html_url": web + "/" + login, "followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs", "repos_url": u + "/repos",
		"events_url": u + "/events{/privacy}", "received_events_url": u + "/received_events", "type": typ, "site_admin": false,
	}
}

func reactionsObject(url string) map[string]any {
	r := map[string]any{"url": url, "total_count": 0}
	for _, k := range []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"} {
		r[k] = 0
	}
	return r
}

// repositoryObject is a public repository as webhooks describe it.
func repositoryObject(owner, name, web, api, at string) map[string]any {
	full := owner + "/" + name
	base := api + "/repos/" + full
	r := map[string]any{
		"id": stableID("repo", full), "node_id": nodeIDOf("R_", full, 0), "name": name, "full_name": full,
		"private": false, "owner": userObject(owner, web, api), "html_url": web + "/" + full, "description": nil,
		"fork": false, "url": base, "created_at": at, "updated_at": at, "pushed_at": at,
		"git_url": "git://" + hostOf(web) + "/" + full + ".git", "ssh_url": "git@" + hostOf(web) + ":" + full + ".git",
		"clone_url": web + "/" + full + ".git", "svn_url": web + "/" + full, "homepage": nil, "size": 0,
		"stargazers_count": 0, "watchers_count": 0, "language": nil, "has_issues": true, "has_projects": true,
		"has_downloads": true, "has_wiki": true, "has_pages": false, "forks_count": 0, "mirror_url": nil,
		"archived": false, "disabled": false, "open_issues_count": 1, "license": nil, "forks": 0, "open_issues": 1,
		"watchers": 0, "default_branch": "main", "is_template": false, "web_commit_signoff_required": false,
		"topics": []any{}, "visibility": "public", "custom_properties": map[string]any{},
	}
	// The URL templates GitHub lists for every repository.
	for _, f := range []string{"forks", "keys{/key_id}", "collaborators{/collaborator}", "teams", "hooks",
		"issues/events{/number}", "events", "assignees{/user}", "branches{/branch}", "tags", "git/blobs{/sha}",
		"git/tags{/sha}", "git/refs{/sha}", "git/trees{/sha}", "statuses/{sha}", "languages", "stargazers",
		"contributors", "subscribers", "subscription", "commits{/sha}", "git/commits{/sha}", "comments{/number}",
		"issues/comments{/number}", "contents/{+path}", "compare/{base}...{head}", "merges", "{archive_format}{/ref}",
		"downloads", "issues{/number}", "pulls{/number}", "milestones{/number}",
		"notifications{?since,all,participating}", "labels{/name}", "releases{/id}", "deployments"} {
		r[urlFieldName(f)] = base + "/" + f
	}
	return r
}

// urlFieldName names a repository URL template's field as GitHub does
// ("git/blobs{/sha}" → blobs_url, "issues/comments{/number}" → issue_comment_url).
func urlFieldName(tmpl string) string {
	path, _, _ := strings.Cut(tmpl, "{")
	path = strings.TrimSuffix(path, "/")
	switch path {
	case "":
		return "archive_url"
	case "issues/events":
		return "issue_events_url"
	case "issues/comments":
		return "issue_comment_url"
	case "git/blobs", "git/trees":
		return strings.TrimPrefix(path, "git/") + "_url"
	case "git/tags", "git/refs", "git/commits":
		return strings.ReplaceAll(path, "/", "_") + "_url"
	}
	return path + "_url"
}

func hostOf(web string) string {
	_, rest, _ := strings.Cut(web, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}
