package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestReadmeOneMinute runs the README's "Try it in one minute" with the real
// binary on a fresh data directory (no secret set: the server creates its
// own): a pull request in the stand-in, `ai3 send comment` with the mention,
// `ai3 sandbox comments` until the status comment says the checks
// succeeded, and GET /api/jobs showing the finished job.
func TestReadmeOneMinute(t *testing.T) {
	bin := testenv.BuildAI3(t)
	d := testenv.StartDev(t, bin, t.TempDir())
	if !strings.Contains(d.Stdout.String(), "SANDBOX MODE") || !strings.Contains(d.Stdout.String(), "WEBHOOK_SECRET") {
		t.Fatalf("ai3 dev did not summarise its configuration in sandbox mode:\n%s", d.Stdout)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args, "--server", d.URL)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ai3 %s: %v\n%s\nserver:\n%s", strings.Join(args, " "), err, out, d.Logs())
		}
		return string(out)
	}
	start := time.Now()
	out := cli("sandbox", "pull", "--repo", "ai3-sandbox/demo", "--user", "alice", "--title", "feat: add a greeting")
	if !strings.Contains(out, "ai3-sandbox/demo#1") {
		t.Fatalf("the first pull request is not #1: %s", out)
	}
	out = cli("send", "comment", "--repo", "ai3-sandbox/demo", "--issue", "1", "--user", "alice", "@ai3-mvp run checks")
	if !strings.Contains(out, "alice commented on ai3-sandbox/demo#1") {
		t.Fatalf("send comment: %s", out)
	}
	var thread string
	for deadline := time.Now().Add(60 * time.Second); ; {
		thread = cli("sandbox", "comments", "--repo", "ai3-sandbox/demo", "--issue", "1")
		if strings.Contains(thread, "checks · succeeded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status comment did not end succeeded within 60 s:\n%s\nserver:\n%s", thread, d.Logs())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("mention to succeeded status comment in %v:\n%s", time.Since(start).Round(10*time.Millisecond), thread)
	if strings.Contains(thread, "ai3-mvp:bot") || strings.Contains(thread, "```") {
		t.Fatalf("the thread shows markers or raw Markdown:\n%s", thread)
	}
	var jobs struct {
		Jobs []struct {
			ID, Workflow, Status string
			Steps                map[string]struct{ Status string }
		}
	}
	if code := d.JSON(t, "GET", "/api/jobs", nil, &jobs); code != 200 || len(jobs.Jobs) != 1 {
		t.Fatalf("/api/jobs: %d %+v", code, jobs)
	}
	j := jobs.Jobs[0]
	if j.Workflow != "checks" || j.Status != "succeeded" || len(j.Steps) == 0 {
		b, _ := json.Marshal(j)
		t.Fatalf("job %s", b)
	}
	for name, s := range j.Steps {
		if s.Status != "succeeded" {
			t.Errorf("step %s is %s", name, s.Status)
		}
	}
}
