package sandbox_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// schemaCase is one body for test/tools/validate-github.mjs.
type schemaCase struct {
	Name   string          `json:"name"`
	Kind   string          `json:"kind"` // rest or webhook
	Method string          `json:"method,omitempty"`
	Path   string          `json:"path,omitempty"`
	Status int             `json:"status,omitempty"`
	Event  string          `json:"event,omitempty"`
	Body   json.RawMessage `json:"body"`
}

type schemaResult struct {
	Name   string   `json:"name"`
	OK     bool     `json:"ok"`
	Schema string   `json:"schema"`
	Errors []string `json:"errors"`
}

// validateGitHub runs the validator once over every case.
func validateGitHub(t *testing.T, cases []schemaCase) map[string]schemaResult {
	t.Helper()
	for _, pkg := range []string{"@octokit/openapi", "@octokit/webhooks-schemas", "ajv", "ajv-formats"} {
		testenv.NodePackageDir(t, pkg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "install Node.js")
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(cases)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(testenv.RepoRoot(), "test", "tools", "validate-github.mjs")
	out, err := exec.Command(node, script, file).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("validate-github.mjs: %v\n%s", err, stderr)
	}
	var results []schemaResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("validator output: %v\n%s", err, out)
	}
	byName := map[string]schemaResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	return byName
}

// TestShapesMatchGitHubSchemas drives every endpoint of the stand-in and
// checks each answer against GitHub's OpenAPI description and each webhook
// against GitHub's webhook schemas, in one run of the validator. A body
// that is deliberately wrong must be refused, so the check can fail.
func TestShapesMatchGitHubSchemas(t *testing.T) {
	r := newRig(t)
	const repo = "ai3-sandbox/app"
	if err := r.sb.CreateRepo(repo, sandbox.RepoOptions{}); err != nil {
		t.Fatal(err)
	}
	issueN, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{Title: "Flaky test", User: "bob", Labels: []string{"bug"}})
	pullN, err := r.sb.CreatePull(repo, sandbox.PullOptions{Title: "Add cache", User: "bob", Head: "feature", Additions: 10,
		Deletions: 2, ChangedFiles: 3, Labels: []string{"enhancement"}})
	if err != nil {
		t.Fatal(err)
	}
	reviewID, _ := r.sb.CreateReviewComment(repo, pullN, "bob", "main.go", 12, "Why this?")
	r.sb.EnsureUser("bob")
	alice, inst := r.userToken("alice"), r.installationToken()
	rp := "repos/" + repo + "/"

	var results []result
	call := func(method, path, auth string, body any, want int) result {
		t.Helper()
		res := r.do(method, path, auth, body)
		if res.status != want {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.status, want, res.raw)
		}
		results = append(results, res)
		return res
	}
	results = append(results, r.minted) // POST /app/installations/{id}/access_tokens
	call("GET", "user", alice, nil, 200)
	call("GET", "orgs/ai3-sandbox/memberships/alice", inst, nil, 200)
	call("GET", "orgs/ai3-sandbox/memberships/nobody", inst, nil, 404)
	call("GET", rp+"collaborators/alice/permission", inst, nil, 200)
	call("GET", "repos/"+repo, alice, nil, 200)
	call("GET", "repos/ai3-sandbox/missing", alice, nil, 404)
	call("GET", rp+fmt.Sprintf("issues/%d", issueN), alice, nil, 200)
	call("GET", rp+fmt.Sprintf("issues/%d", pullN), alice, nil, 200)
	call("GET", rp+fmt.Sprintf("pulls/%d", pullN), inst, nil, 200)
	// GitHub's description marks the {ref} of .../git/ref/{ref} as
	// x-multi-segment, which the validator does not know: it checks a git
	// ref read as the same operation with the ref's slashes escaped.
	gitRef := func(ref, auth string, want int) result {
		t.Helper()
		res := call("GET", rp+"git/ref/"+ref, auth, nil, want)
		results[len(results)-1].path = "/" + rp + "git/ref/" + strings.ReplaceAll(ref, "/", "%2F")
		return res
	}
	gitRef("heads/feature", alice, 200)
	if err := r.sb.PushBranch(repo, "feature", strings.Repeat("cd", 20)); err != nil {
		t.Fatal(err)
	}
	if moved := gitRef("heads/feature", inst, 200); moved.obj()["object"].(map[string]any)["sha"] != strings.Repeat("cd", 20) {
		t.Errorf("after a push the branch reads %s", moved.raw)
	}
	gitRef("tags/v1.0", alice, 404)
	byUser := call("POST", rp+fmt.Sprintf("issues/%d/comments", issueN), alice, map[string]string{"body": "@ai3-mvp run checks"}, 201)
	call("POST", rp+fmt.Sprintf("issues/%d/comments", pullN), inst, map[string]string{"body": "status"}, 201)
	call("POST", rp+fmt.Sprintf("issues/%d/comments", issueN), alice, map[string]string{}, 422)
	call("GET", rp+fmt.Sprintf("issues/%d/comments?per_page=1", issueN), alice, nil, 200)
	cid := fmt.Sprint(byUser.obj()["id"])
	call("GET", rp+"issues/comments/"+cid, alice, nil, 200)
	call("GET", rp+"issues/comments/999999", alice, nil, 404)
	call("PATCH", rp+"issues/comments/"+cid, alice, map[string]string{"body": "@ai3-mvp run ci"}, 200)
	for _, kind := range []string{"issues/comments/" + cid, fmt.Sprintf("pulls/comments/%d", reviewID)} {
		call("POST", rp+kind+"/reactions", alice, map[string]string{"content": "eyes"}, 201)
		call("POST", rp+kind+"/reactions", alice, map[string]string{"content": "eyes"}, 200)
	}
	call("GET", rp+fmt.Sprintf("pulls/comments/%d", reviewID), alice, nil, 200)
	call("POST", rp+fmt.Sprintf("pulls/%d/comments/%d/replies", pullN, reviewID), alice, map[string]string{"body": "Because."}, 201)
	call("POST", rp+fmt.Sprintf("pulls/%d/comments", pullN), alice, map[string]any{"body": "Also because.", "in_reply_to": reviewID}, 201)
	call("POST", rp+fmt.Sprintf("pulls/%d/comments", pullN), alice, map[string]any{"body": "Typo", "commit_id": strings.Repeat("ab", 20),
		"path": "main.go", "line": 2}, 201)
	call("POST", rp+fmt.Sprintf("pulls/%d/comments", pullN), alice, map[string]any{"body": "Where?"}, 422)
	if _, err := r.sb.ReviewCommentAs(repo, pullN, "bob", "main.go", 20, "@ai3-mvp help"); err != nil {
		t.Fatal(err)
	}
	call("GET", rp+fmt.Sprintf("pulls/%d/comments?per_page=2", pullN), alice, nil, 200)
	call("GET", rp+fmt.Sprintf("pulls/%d/comments?since=2000-01-01T00:00:00Z", pullN), inst, nil, 200)
	sha := strings.Repeat("ab", 20)
	cc := call("POST", rp+"commits/"+sha+"/comments", alice, map[string]any{"body": "Nice commit", "path": "main.go", "line": 3}, 201)
	call("GET", rp+fmt.Sprintf("comments/%v", cc.obj()["id"]), alice, nil, 200)
	call("POST", rp+fmt.Sprintf("comments/%v/reactions", cc.obj()["id"]), inst, map[string]string{"content": "rocket"}, 201)
	if _, err := r.sb.CommitCommentAs(repo, sha, "bob", "@ai3-mvp help"); err != nil {
		t.Fatal(err)
	}
	call("GET", rp+"commits/"+sha+"/comments?per_page=1&page=2", alice, nil, 200)
	call("GET", rp+"commits/"+sha+"/comments", inst, nil, 200)
	call("POST", rp+"actions/workflows/ci.yml/dispatches", alice, map[string]any{"ref": "main", "inputs": map[string]any{"ai3_run": "job-1"}}, 204)
	det := call("POST", rp+"actions/workflows/ci.yml/dispatches", inst, map[string]any{"ref": "main", "return_run_details": true}, 200)
	call("GET", rp+"actions/runs?event=workflow_dispatch&per_page=5", alice, nil, 200)
	call("GET", rp+"actions/workflows/ci.yml/runs?event=workflow_dispatch&per_page=5", alice, nil, 200)
	call("GET", rp+fmt.Sprintf("actions/runs/%v", det.obj()["workflow_run_id"]), alice, nil, 200)
	dep := call("POST", rp+"deployments", alice, map[string]any{"ref": "main", "environment": "staging"}, 201)
	call("GET", rp+"deployments", alice, nil, 200)
	call("POST", rp+fmt.Sprintf("deployments/%v/statuses", dep.obj()["id"]), alice, map[string]any{"state": "success",
		"log_url": "https://ci.example.com/1", "environment_url": "https://staging.example.com"}, 201)
	call("DELETE", rp+"issues/comments/"+cid, alice, nil, 204)
	for r.timer.fire() > 0 { // queued → in_progress → completed
	}
	if _, err := r.sb.CommentAs(repo, issueN, "bob", "@ai3-mvp help"); err != nil {
		t.Fatal(err)
	}

	var cases []schemaCase
	for i, res := range results {
		cases = append(cases, schemaCase{Name: fmt.Sprintf("rest %d %s %s %d", i, res.method, res.path, res.status), Kind: "rest",
			Method: res.method, Path: res.path, Status: res.status, Body: orNull(res.raw)})
	}
	seen := map[string]bool{}
	for i, h := range r.webhooks() {
		seen[h.event+"."+fmt.Sprint(h.payload["action"])] = true
		cases = append(cases, schemaCase{Name: fmt.Sprintf("webhook %d %s %v", i, h.event, h.payload["action"]), Kind: "webhook", Event: h.event, Body: h.raw})
	}
	for _, want := range []string{"issue_comment.created", "issue_comment.edited", "issue_comment.deleted", "pull_request_review_comment.created",
		"commit_comment.created", "workflow_run.requested", "workflow_run.in_progress", "workflow_run.completed"} {
		if !seen[want] {
			t.Errorf("no %s webhook was sent", want)
		}
	}
	// Deliberately wrong: a comment whose id is a string, a webhook with a
	// field GitHub never sends.
	wrongHook := strings.Replace(string(r.webhooks()[0].raw), `"action":`, `"unexpected":1,"action":`, 1)
	cases = append(cases,
		schemaCase{Name: "wrong rest", Kind: "rest", Method: "GET", Path: "/repos/o/r/issues/comments/1", Status: 200, Body: json.RawMessage(`{"id":"1"}`)},
		schemaCase{Name: "wrong webhook", Kind: "webhook", Event: r.webhooks()[0].event, Body: json.RawMessage(wrongHook)})

	got := validateGitHub(t, cases)
	for _, c := range cases {
		res, ok := got[c.Name]
		wantOK := !strings.HasPrefix(c.Name, "wrong")
		switch {
		case !ok:
			t.Errorf("%s: the validator gave no answer", c.Name)
		case res.OK != wantOK:
			t.Errorf("%s: valid=%v, want %v (schema %s): %v", c.Name, res.OK, wantOK, res.Schema, res.Errors)
		}
	}
	t.Logf("%d REST answers and %d webhooks checked against GitHub's schemas", len(results), len(r.webhooks()))
}

func orNull(b []byte) json.RawMessage {
	if len(strings.TrimSpace(string(b))) == 0 {
		return json.RawMessage("null")
	}
	return b
}
