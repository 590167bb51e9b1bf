package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

func (s *Sandbox) getRepo(q *repoRequest) {
	m := s.fullRepoJSON(q.rp)
	if q.c.kind == "user" {
		m["permissions"] = permissionsJSON(s.roleOf(q.rp.fullName(), q.c.user.Login))
	}
	writeJSON(q.w, http.StatusOK, m)
}

func (s *Sandbox) getIssue(q *repoRequest) {
	if is := q.issue(); is != nil {
		writeJSON(q.w, http.StatusOK, s.issueJSON(q.rp, is))
	}
}

func (s *Sandbox) getPull(q *repoRequest) {
	is := q.issue()
	switch {
	case is == nil:
	case is.PR == nil:
		notFound(q.w) // an issue, not a pull request
	default:
		writeJSON(q.w, http.StatusOK, s.pullJSON(q.rp, is))
	}
}

// getGitRef answers GET /repos/{owner}/{repo}/git/ref/heads/{branch}: the
// branch's head (see PushBranch). The stand-in has no tags: any other ref is
// not found.
func (s *Sandbox) getGitRef(q *repoRequest) {
	rp := q.rp
	branch, ok := strings.CutPrefix(q.r.PathValue("ref"), "heads/")
	if !ok || branch == "" {
		notFound(q.w)
		return
	}
	sha := rp.branchHead(branch)
	writeJSON(q.w, http.StatusOK, map[string]any{
		"ref":     "refs/heads/" + branch,
		"node_id": base64.StdEncoding.EncodeToString([]byte("0:REF_" + rp.fullName() + ":refs/heads/" + branch)),
		"url":     s.api("repos", rp.Owner, rp.Name, "git", "refs", "heads", branch),
		"object":  map[string]any{"type": "commit", "sha": sha, "url": s.api("repos", rp.Owner, rp.Name, "git", "commits", sha)},
	})
}

// pullHookJSON is a pull request as webhooks carry it; under s.mu.
func (s *Sandbox) pullHookJSON(rp *repo, is *issue) map[string]any {
	num := fmt.Sprint(is.Number)
	au := s.api("repos", rp.Owner, rp.Name, "pulls", num)
	html := s.web(rp.Owner, rp.Name, "pull", num)
	issueURL := s.api("repos", rp.Owner, rp.Name, "issues", num)
	statuses := s.api("repos", rp.Owner, rp.Name, "statuses", is.PR.HeadSHA)
	ref := func(branch, sha string) map[string]any {
		return map[string]any{"label": rp.Owner + ":" + branch, "ref": branch, "sha": sha, "user": s.ownerJSON(rp.Owner), "repo": s.repoJSON(rp)}
	}
	link := func(u string) map[string]string { return map[string]string{"href": u} }
	return map[string]any{
		"url": au, "id": is.PR.ID, "node_id": nodeID("PR_", is.PR.ID), "html_url": html, "diff_url": html + ".diff",
		"patch_url": html + ".patch", "issue_url": issueURL, "number": is.Number, "state": is.State, "locked": false,
		"title": is.Title, "user": s.userByLogin(is.User), "body": nilIfEmpty(is.Body), "created_at": stamp(is.CreatedAt),
		"updated_at": stamp(is.UpdatedAt), "closed_at": nil, "merged_at": nil, "merge_commit_sha": nil, "assignee": nil,
		"assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{}, "labels": s.labelsJSON(rp, is.Labels),
		"milestone": nil, "draft": is.PR.Draft, "commits_url": au + "/commits", "review_comments_url": au + "/comments",
		"review_comment_url": s.api("repos", rp.Owner, rp.Name, "pulls", "comments{/number}"),
		"comments_url":       issueURL + "/comments", "statuses_url": statuses,
		"head": ref(is.PR.HeadRef, is.PR.HeadSHA), "base": ref(is.PR.BaseRef, is.PR.BaseSHA),
		"_links": map[string]any{"self": link(au), "html": link(html), "issue": link(issueURL), "comments": link(issueURL + "/comments"),
			"review_comments": link(au + "/comments"), "review_comment": link(s.api("repos", rp.Owner, rp.Name, "pulls", "comments{/number}")),
			"commits": link(au + "/commits"), "statuses": link(statuses)},
		"author_association": s.association(is.User), "auto_merge": nil, "active_lock_reason": nil,
	}
}

// pullJSON is GET /repos/{owner}/{repo}/pulls/{n}'s answer; under s.mu.
func (s *Sandbox) pullJSON(rp *repo, is *issue) map[string]any {
	m := s.pullHookJSON(rp, is)
	review := 0
	for _, c := range s.st.Comments {
		if c.Kind == kindReview && c.Repo == rp.fullName() && c.Number == is.Number {
			review++
		}
	}
	for k, v := range map[string]any{"merged": false, "mergeable": is.PR.Mergeable, "rebaseable": is.PR.Mergeable,
		"mergeable_state": is.PR.MergeableState, "merged_by": nil, "comments": is.Comments, "review_comments": review,
		"maintainer_can_modify": false, "commits": 1, "additions": is.PR.Additions, "deletions": is.PR.Deletions,
		"changed_files": is.PR.ChangedFiles} {
		m[k] = v
	}
	return m
}
