package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

func TestRenderMarkdown(t *testing.T) {
	body := "<!-- ai3-mvp:bot kind=status job=j1 -->\n" +
		"## ✅ checks · succeeded\n\n" +
		"Started by **@alice** on `main` · [execution](http://x/api/jobs/j1)\n\n\n" +
		"```mermaid\nflowchart LR\n  a[title] --> b[summary]\n  a\n  b\n  classDef ok fill:#0f0\n```\n" +
		"| Step | Status |\n|---|:--:|\n| [`title`](http://x/steps/title) | ✅ ok |\n| `diff_size` | a \\| b |\n\n" +
		"<details><summary>Log</summary>\n\n```\nline 1\n```\n</details>\n"
	got := strings.Join(renderMarkdown(body), "\n")
	want := strings.Join([]string{
		"✅ checks · succeeded",
		"",
		"Started by @alice on `main` · execution <http://x/api/jobs/j1>",
		"",
		"[Mermaid flowchart: 2 nodes, 5 lines — view it on GitHub or the dashboard]",
		"Step         Status",
		"`title`      ✅ ok",
		"`diff_size`  a | b",
		"",
		"▸ Log",
		"",
		"    line 1",
	}, "\n")
	if got != want {
		t.Fatalf("rendered:\n%s\n\nwant:\n%s", got, want)
	}
	for _, hidden := range []string{"ai3-mvp:bot", "-->", "classDef", "<details>", "|---"} {
		if strings.Contains(got, hidden) {
			t.Errorf("the rendering shows %q", hidden)
		}
	}
}

func TestRenderThread(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	edited := at.Add(9 * time.Second)
	var b strings.Builder
	renderThread(&b, &threadView{Repo: "o/r", Number: 4, Title: "feat: x", State: "open", PullRequest: true, Comments: []commentView{
		{Author: "alice", CreatedAt: at, Reactions: map[string]int{"eyes": 1, "+1": 2}, Body: "@ai3-mvp run checks"},
		{Author: "alice", ViaApp: true, CreatedAt: at, EditedAt: &edited, Body: "<!-- marker -->\nrunning"},
	}}, time.UTC)
	want := "o/r#4  feat: x  (pull request, open, 2 comments)\n\n" +
		"── alice · 2026-01-02 03:04:05 · 👍 2 👀 1\n   @ai3-mvp run checks\n\n" +
		"── alice (via the App) · 2026-01-02 03:04:05 · edited 03:04:14\n   running\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestSandboxCommands: against the real ai3 dev in sandbox mode, `ai3
// sandbox pull` opens a pull request, `ai3 send comment` comments through
// the stand-in (which delivers the webhook), the bot runs checks, and `ai3
// sandbox comments` prints the thread with the final status; the stand-in's
// REST route wants a token, the control route does not.
func TestSandboxCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ai3 dev")
	}
	d := testenv.StartDev(t, testenv.BuildAI3(t), t.TempDir(), "WEBHOOK_SECRET=sandbox-secret")
	out, err := runCLI(t, "sandbox", "pull", "--server", d.URL, "--repo", "ai3-sandbox/demo", "--user", "alice", "--title", "feat: add a greeting")
	if err != nil || !strings.Contains(out, "opened pull request ai3-sandbox/demo#1") {
		t.Fatalf("sandbox pull: %v\n%s", err, out)
	}
	out, err = runCLI(t, "send", "comment", "--server", d.URL, "--repo", "ai3-sandbox/demo", "--issue", "1", "--user", "alice", "@ai3-mvp run checks")
	if err != nil || !strings.Contains(out, "in the sandbox") || !strings.Contains(out, "ai3 sandbox comments --repo ai3-sandbox/demo --issue 1") ||
		strings.Contains(out, "is not a pull request") {
		t.Fatalf("send comment: %v\n%s", err, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out, "checks · succeeded") {
		if time.Now().After(deadline) {
			t.Fatalf("no succeeded status in the thread within 60 s:\n%s\nserver:\n%s", out, d.Logs())
		}
		time.Sleep(200 * time.Millisecond)
		if out, err = runCLI(t, "sandbox", "comments", "--server", d.URL, "--repo", "ai3-sandbox/demo", "--issue", "1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"(pull request, open, 2 comments)", "── alice ·", "👀 1", "@ai3-mvp run checks",
		"── alice (via the App)", "[Mermaid flowchart"} {
		if !strings.Contains(out, want) {
			t.Errorf("thread lacks %q:\n%s", want, out)
		}
	}
	for _, hidden := range []string{"ai3-mvp:bot", "```", "flowchart LR"} {
		if strings.Contains(out, hidden) {
			t.Errorf("thread shows %q:\n%s", hidden, out)
		}
	}
	// A comment on an issue that is not a pull request says what checks needs.
	out, err = runCLI(t, "send", "comment", "--server", d.URL, "--repo", "ai3-sandbox/demo", "--issue", "2", "--user", "bob", "hello")
	if err != nil || !strings.Contains(out, "is not a pull request") || !strings.Contains(out, "ai3 sandbox pull") {
		t.Fatalf("comment on an issue: %v\n%s", err, out)
	}
	if code := d.JSON(t, "GET", "/sandbox/github/api/v3/repos/ai3-sandbox/demo/issues/1/comments", nil, nil); code != 401 {
		t.Fatalf("the stand-in's REST answered %d without a token, want 401 as GitHub's private repositories", code)
	}
	// Deliveries: the person's comment and the bot's own, all handled.
	var list struct{ Deliveries []delivery }
	if code := d.JSON(t, "GET", "/api/deliveries", nil, &list); code != 200 || len(list.Deliveries) < 3 {
		t.Fatalf("/api/deliveries %d: %+v", code, list)
	}
	for i, dl := range list.Deliveries {
		if i > 0 && dl.ReceivedAt.After(list.Deliveries[i-1].ReceivedAt) {
			t.Errorf("deliveries not newest first: %v after %v", dl.ReceivedAt, list.Deliveries[i-1].ReceivedAt)
		}
	}
	if code := d.JSON(t, "GET", "/api/deliveries?limit=zero", nil, nil); code != 400 {
		t.Fatalf("limit=zero answered %d", code)
	}
	if code := d.JSON(t, "GET", "/sandbox/control/comments?repo=nope&issue=1", nil, nil); code != 400 {
		t.Fatalf("bad repo answered %d", code)
	}
}
