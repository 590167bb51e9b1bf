package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// crashable is an `ai3 dev` in sandbox mode on one address and data
// directory that the test kills with SIGKILL and starts again. The sandbox
// keeps its record of writes in memory, so writes() joins the records of
// every run seen so far.
type crashable struct {
	*sandboxDev
	bin, dir, addr string
	before         []write // writes recorded by the killed runs
}

func startCrashable(t *testing.T) *crashable {
	t.Helper()
	c := &crashable{bin: testenv.BuildAI3(t), dir: t.TempDir(), addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	c.start(t)
	return c
}

func (c *crashable) start(t *testing.T) {
	t.Helper()
	d := testenv.StartDevAt(t, c.bin, c.dir, c.addr, "WEBHOOK_SECRET="+secret)
	c.sandboxDev = &sandboxDev{Dev: d, t: t}
}

// kill9 kills the server as a crash would (SIGKILL) and keeps what it had
// recorded up to the moment before.
func (c *crashable) kill9(t *testing.T) {
	t.Helper()
	ws := c.sandboxDev.writes()
	c.Kill()
	c.before = append(c.before, ws...)
	t.Logf("killed ai3 dev (pid %d) with SIGKILL after %d writes", c.PID(), len(ws))
}

func (c *crashable) allWrites() []write {
	return append(append([]write(nil), c.before...), c.sandboxDev.writes()...)
}

// run is a workflow run the stand-in holds (its state survives restarts).
type run struct {
	ID                     int64
	Workflow, DisplayTitle string
	Status, Conclusion     string
	Actor                  string
}

func (s *sandboxDev) runs() []run {
	var rs []run
	if code := s.JSON(s.t, "GET", "/sandbox/control/runs", nil, &rs); code != 200 {
		s.t.Fatalf("runs: %d", code)
	}
	return rs
}

// runsOf counts the stand-in's workflow runs of job by step (the
// correlation id ai3 puts in each dispatched run's name).
func (s *sandboxDev) runsOf(job string) map[string]int {
	out := map[string]int{}
	for _, r := range s.runs() {
		if i := strings.Index(r.DisplayTitle, "ai3["+job+"/"); i >= 0 {
			step := strings.TrimSuffix(r.DisplayTitle[i+len("ai3["+job+"/"):], "]")
			out[step]++
		}
	}
	return out
}

// TestKillDuringStandardRuns: ai3 dev is killed with SIGKILL while a ci run
// waits for its GitHub Actions runs and a deploy run waits for approval. On
// restart (same data directory) both executions resume: nothing is
// dispatched twice, the approval is asked once, the approval given after the
// restart lets deploy go on, and both status comments end final.
func TestKillDuringStandardRuns(t *testing.T) {
	c := startCrashable(t)
	pr := c.pull("alice", "feat: durable")
	c.comment("alice", pr, "@ai3-mvp run deploy smoke_url=http://"+c.addr+"/healthz")
	deploy := c.waitJobOf("deploy", "alice")
	// Start ci once deploy waits for its approval (it waits until someone
	// answers), so that ci's first runs (the stand-in's runs take 3 s) are
	// still in flight at the kill however slow the machine is. (Starting ci
	// 1.5 s after deploy's build, to have its runs queued when deploy asked,
	// raced with the build: under load ci's lint had ended by the kill.)
	c.waitWrite("the approval request", replyWith(pr, "kind=reply id="+deploy+"#approval"))
	c.comment("alice", pr, "@ai3-mvp run ci")
	ci := c.waitJobOf("ci", "alice")
	for deadline := time.Now().Add(60 * time.Second); len(c.runsOf(ci)) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ci dispatched %v within 60 s, want lint and unit\n%s", c.runsOf(ci), c.Logs())
		}
	}
	mid := c.job(ci)
	if mid.Status != "running" || mid.Steps["lint"].Status == "succeeded" {
		t.Fatalf("ci is not mid-run when killed: %s %+v", mid.Status, mid.Steps)
	}
	c.kill9(t)

	c.start(t)
	if !strings.Contains(c.Stdout.String(), "resumed 2 workflow executions") {
		t.Errorf("the restart did not say it resumed both executions:\n%s", c.Stdout)
	}
	t.Logf("status comment leases left by the crash: %d", strings.Count(c.Stderr.String(), "lease left by a crash"))
	c.comment("bob", pr, "@ai3-mvp approve "+deploy)
	if r := c.waitWrite("bob's approval reply", replyWith(pr, "@bob approved job `"+deploy+"`")); r.Login != "bob" {
		t.Fatalf("approval reply by %s/%s", r.Token, r.Login)
	}
	for _, j := range []struct {
		id    string
		steps map[string]int // github.actions steps: runs dispatched
	}{
		{ci, map[string]int{"lint": 1, "unit": 1, "integration": 1}},
		{deploy, map[string]int{"build": 1, "deploy_staging": 1, "deploy_production": 1}},
	} {
		got := c.waitFinal(j.id, 90*time.Second)
		if got.Status != "succeeded" {
			t.Errorf("job %s ended %s after the restart: %+v", j.id, got.Status, got.Steps)
		}
		for step, st := range got.Steps {
			if st.Status != "succeeded" {
				t.Errorf("job %s step %s: %+v", j.id, step, st)
			}
		}
		if runs := c.runsOf(j.id); fmt.Sprint(runs) != fmt.Sprint(j.steps) {
			t.Errorf("job %s dispatched runs %v, want one per Actions step %v", j.id, runs, j.steps)
		}
		c.checkStatusComment(t, got)
	}
	asked := 0
	for _, w := range c.allWrites() {
		if strings.Contains(w.Body, "kind=reply id="+deploy+"#approval") && w.Method == "POST" {
			asked++
		}
		if w.Token != "user" {
			t.Errorf("write %s %s made with the installation's token", w.Method, w.Path)
		}
	}
	if asked != 1 {
		t.Errorf("the approval was asked %d times, want once", asked)
	}
	for _, r := range c.runs() {
		if r.Status != "completed" || r.Conclusion != "success" || r.Actor != "alice" {
			t.Errorf("run %+v", r)
		}
	}
}

// TestKillWhileHandlerHeld: a delivery acknowledged with 200 is processed
// even when the process dies while its handler is at work. The comment
// handler is held on a slow GitHub (the stand-in delays the 👀), ai3 dev is
// killed with SIGKILL, and after the restart the command runs, once.
func TestKillWhileHandlerHeld(t *testing.T) {
	c := startCrashable(t)
	pr := c.pull("alice", "feat: held")
	aliceID := c.user(map[string]any{"login": "alice"})
	id := c.comment("alice", pr, "placeholder")
	if code := c.JSON(t, "POST", "/sandbox/control/faults", map[string]any{"method": "POST",
		"path": "/api/v3/repos/*/*/issues/comments/*/reactions", "delay_ms": 120_000}, nil); code != 204 {
		t.Fatalf("fault: %d", code)
	}
	if code := c.postWebhook(t, "issue_comment", "held-delivery", "1", commentPayload(id, pr, "alice", aliceID, "@ai3-mvp run checks")); code != 200 {
		t.Fatalf("webhook answered %d", code)
	}
	// The handler authorizes alice, then hangs on the 👀.
	time.Sleep(2 * time.Second)
	if ws := c.sandboxDev.writes(); len(ws) != 0 {
		t.Fatalf("the handler was not held: %s", c.dump())
	}
	if js := c.jobs(); len(js) != 0 {
		t.Fatalf("jobs before the crash: %+v", js)
	}
	c.kill9(t)

	c.start(t)
	if r := c.waitWrite("👀 after the restart", reactionOn(id)); r.Login != "alice" {
		t.Fatalf("👀 by %s/%s", r.Token, r.Login)
	}
	job := c.waitJobOf("checks", "alice")
	got := c.waitFinal(job, 60*time.Second)
	if got.Status != "succeeded" {
		t.Fatalf("job %s ended %s", job, got.Status)
	}
	c.checkStatusComment(t, got)
	time.Sleep(time.Second)
	statuses, reactions := 0, 0
	for _, w := range c.allWrites() {
		if w.Method == "POST" && strings.Contains(w.Body, "kind=status") {
			statuses++
		}
		if reactionOn(id)(w) {
			reactions++
		}
	}
	if js := c.jobs(); len(js) != 1 || statuses != 1 || reactions != 1 {
		t.Fatalf("after the restart: %d jobs, %d status comments, %d 👀; want one each\n%s", len(js), statuses, reactions, c.dump())
	}
}
