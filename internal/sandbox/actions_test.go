package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

func (r *rig) runHooks() []hook {
	var out []hook
	for _, h := range r.webhooks() {
		if h.event == "workflow_run" {
			out = append(out, h)
		}
	}
	return out
}

func runOf(h hook) map[string]any { return h.payload["workflow_run"].(map[string]any) }

// TestDispatchPlaysActions checks a dispatch's run: requested at once, then
// in_progress and completed as the timer fires, with the conclusion set per
// workflow or per run, and the display title carrying the ai3_run input.
func TestDispatchPlaysActions(t *testing.T) {
	cases := []struct {
		name           string
		perWorkflow    string
		perRun         string
		wantConclusion string
	}{
		{"default success", "", "", "success"},
		{"workflow set to failure", "failure", "", "failure"},
		{"run set to cancelled over the workflow's", "failure", "cancelled", "cancelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			if err := r.sb.AddWorkflow(repo, "ci.yml", "CI"); err != nil {
				t.Fatal(err)
			}
			if c.perWorkflow != "" {
				r.sb.SetConclusion(repo, "ci.yml", c.perWorkflow)
			}
			res := r.do("POST", "repos/"+repo+"/actions/workflows/ci.yml/dispatches", r.userToken("alice"),
				map[string]any{"ref": "main", "inputs": map[string]any{"ai3_run": "ai3#42"}, "return_run_details": true})
			if res.status != 200 {
				t.Fatalf("dispatch: %d %s", res.status, res.raw)
			}
			id := int64(res.obj()["workflow_run_id"].(float64))
			if c.perRun != "" {
				if err := r.sb.SetRunConclusion(id, c.perRun); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"requested/queued"}
			check := func() {
				t.Helper()
				hooks := r.runHooks()
				if len(hooks) != len(want) {
					t.Fatalf("%d workflow_run webhooks, want %d", len(hooks), len(want))
				}
				h := hooks[len(hooks)-1]
				if got := fmt.Sprintf("%v/%v", h.payload["action"], runOf(h)["status"]); got != want[len(want)-1] {
					t.Errorf("webhook %d: %s, want %s", len(hooks), got, want[len(want)-1])
				}
				if runOf(h)["id"] != float64(id) || runOf(h)["display_title"] != "CI ai3#42" || runOf(h)["name"] != "CI" ||
					h.key != fmt.Sprintf("run/%d", id) || runOf(h)["actor"].(map[string]any)["login"] != "alice" {
					t.Errorf("run: %v, key %q", runOf(h), h.key)
				}
			}
			check()
			if r.timer.delays[0] != time.Second {
				t.Errorf("queued for %s, want the default 1s", r.timer.delays[0])
			}
			r.timer.fire()
			want = append(want, "in_progress/in_progress")
			check()
			r.timer.fire()
			want = append(want, "completed/completed")
			check()
			if got := runOf(r.runHooks()[2])["conclusion"]; got != c.wantConclusion {
				t.Errorf("conclusion %v, want %s", got, c.wantConclusion)
			}
			if r.timer.fire() != 0 {
				t.Error("a completed run scheduled more")
			}
			runs := r.sb.Runs()
			if len(runs) != 1 || runs[0].Conclusion != c.wantConclusion || runs[0].Inputs["ai3_run"] != "ai3#42" {
				t.Errorf("Runs: %+v", runs)
			}
		})
	}
}

// TestListRunsFilters checks GET .../actions/runs with status, branch,
// created and per_page, newest first.
func TestListRunsFilters(t *testing.T) {
	r := newRig(t)
	if err := r.sb.CreateRepo(repo, sandbox.RepoOptions{}); err != nil {
		t.Fatal(err)
	}
	tok := r.userToken("alice")
	for _, ref := range []string{"main", "dev", "main"} {
		if res := r.do("POST", "repos/"+repo+"/actions/workflows/ci.yml/dispatches", tok, map[string]any{"ref": ref}); res.status != 204 {
			t.Fatalf("dispatch: %d %s", res.status, res.raw)
		}
	}
	r.timer.fire() // all three in progress
	today := time.Now().UTC().Format(time.DateOnly)
	cases := []struct {
		query string
		want  int
	}{
		{"", 3},
		{"?branch=main", 2},
		{"?status=in_progress", 3},
		{"?status=completed", 0},
		{"?event=push", 0},
		{"?created=" + today, 3},
		{"?created=%3E%3D2000-01-01", 3},
		{"?created=2000-01-01..2000-01-02", 0},
		{"?per_page=1", 1},
	}
	for _, c := range cases {
		res := r.do("GET", "repos/"+repo+"/actions/runs"+c.query, tok, nil)
		runs, _ := res.obj()["workflow_runs"].([]any)
		if res.status != 200 || len(runs) != c.want {
			t.Errorf("%q: %d, %d runs, want %d", c.query, res.status, len(runs), c.want)
		}
	}
	res := r.do("GET", "repos/"+repo+"/actions/runs", tok, nil).obj()["workflow_runs"].([]any)
	if a, b := res[0].(map[string]any)["id"].(float64), res[1].(map[string]any)["id"].(float64); a < b {
		t.Errorf("runs not newest first: %v before %v", a, b)
	}
	if res := r.do("GET", "repos/"+repo+"/actions/runs?created=yesterday", tok, nil); res.status != 422 {
		t.Errorf("bad created: %d", res.status)
	}
}

// TestDispatchRefusesBadInput checks that a dispatch without ref or to an
// unknown workflow id changes nothing.
func TestDispatchRefusesBadInput(t *testing.T) {
	r := newRig(t)
	if err := r.sb.CreateRepo(repo, sandbox.RepoOptions{}); err != nil {
		t.Fatal(err)
	}
	tok := r.userToken("alice")
	for path, body := range map[string]any{
		"ci.yml":   map[string]any{"inputs": map[string]any{}},
		"12345":    map[string]any{"ref": "main"},
		"not-yaml": map[string]any{"ref": "main"},
	} {
		if res := r.do("POST", "repos/"+repo+"/actions/workflows/"+path+"/dispatches", tok, body); res.status < 400 {
			t.Errorf("%s: %d", path, res.status)
		}
	}
	if len(r.sb.Runs()) != 0 || len(r.webhooks()) != 0 || len(r.sb.Writes()) != 0 {
		t.Errorf("refused dispatches left runs %v, webhooks %d, writes %d", r.sb.Runs(), len(r.webhooks()), len(r.sb.Writes()))
	}
}

// TestStateSurvivesReopen checks the snapshot: tokens, comments, the App's
// key and ids survive a reopen, and a run interrupted mid-way finishes.
func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	first := newRig(t, func(c *sandbox.Config) { c.DataDir = dir })
	tok := first.userToken("alice")
	n, _ := first.sb.CreateIssue(repo, sandbox.IssueOptions{})
	c1 := first.do("POST", fmt.Sprintf("repos/%s/issues/%d/comments", repo, n), tok, map[string]string{"body": "kept"}).obj()
	first.do("POST", "repos/"+repo+"/actions/workflows/ci.yml/dispatches", tok, map[string]any{"ref": "main"})
	first.timer.fire() // in progress
	key := string(first.sb.AppPrivateKey())
	if err := first.sb.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "github-sandbox.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot: %v %v", fi, err)
	}

	second := newRig(t, func(c *sandbox.Config) { c.DataDir = dir })
	if string(second.sb.AppPrivateKey()) != key {
		t.Error("the App's key changed across a reopen")
	}
	got := second.do("GET", fmt.Sprintf("repos/%s/issues/comments/%v", repo, c1["id"]), tok, nil)
	if got.status != 200 || got.obj()["body"] != "kept" {
		t.Fatalf("comment after reopen with the old token: %d %s", got.status, got.raw)
	}
	c2 := second.do("POST", fmt.Sprintf("repos/%s/issues/%d/comments", repo, n), tok, map[string]string{"body": "new"}).obj()
	if c2["id"].(float64) <= c1["id"].(float64) {
		t.Errorf("ids reused: %v after %v", c2["id"], c1["id"])
	}
	if second.timer.fire() != 1 {
		t.Fatal("the interrupted run was not resumed")
	}
	hooks := second.runHooks()
	if len(hooks) != 1 || hooks[0].payload["action"] != "completed" {
		t.Fatalf("after reopen: %d run webhooks", len(hooks))
	}
}

// TestCorruptSnapshotIsAnError checks that a damaged state file stops Open
// with a message naming the file, and is left as it was.
func TestCorruptSnapshotIsAnError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "github-sandbox.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sandbox.Open(sandbox.Config{BaseURL: "http://x", DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "{not json" {
		t.Error("the damaged file was overwritten")
	}
	if _, err := sandbox.Open(sandbox.Config{}); err == nil {
		t.Error("Open without BaseURL succeeded")
	}
}
