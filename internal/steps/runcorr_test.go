package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// The users of the forged runs, with the ids newJob's jobs know them by.
var forgedIDs = map[string]int64{"alice": 1001, "bob": 1002, "mallory": 666}

// forged describes a completed, successful workflow run that ai3 did not
// record: anyone can make one whose display title (a pull request's title,
// a commit message) or run name carries ai3[job/step].
type forged struct {
	title, event, path string
	actor, triggerer   string // logins
}

// payload is the run's workflow_run "completed" webhook, as GitHub sends it
// for octo/app.
func (f forged) payload(id int64) []byte {
	user := func(login string) map[string]any { return map[string]any{"login": login, "id": forgedIDs[login]} }
	octo := map[string]any{"full_name": repo}
	b, err := json.Marshal(map[string]any{"action": "completed", "repository": octo,
		"workflow_run": map[string]any{"id": id, "name": "CI", "display_title": f.title, "event": f.event, "path": f.path,
			"status": "completed", "conclusion": "success", "run_number": 7, "repository": octo,
			"actor": user(f.actor), "triggering_actor": user(f.triggerer)}})
	if err != nil {
		panic(err)
	}
	return b
}

// stillWaiting fails the test unless the job's step still waits on its
// task token.
func (e *env) stillWaiting(jobID, step string) {
	e.t.Helper()
	j, err := e.store.Get(e.ctx, jobID)
	if err != nil {
		e.t.Fatal(err)
	}
	if st := j.Steps[step]; st.Status != jobs.Waiting || st.TaskToken == "" {
		e.t.Fatalf("step %s is %s (%s), want still waiting", step, st.Status, st.Detail)
	}
}

// A pull request titled ai3[<job>/approval] is the display title of the CI
// runs it triggers: their success must not approve the job, whoever opened
// it, and no run completes an approval, not even the requester's dispatch.
func TestWorkflowRunCannotApprove(t *testing.T) {
	tests := []struct {
		name string
		run  forged
	}{
		{"another user's pull request", forged{event: "pull_request", path: ".github/workflows/ci.yml", actor: "mallory", triggerer: "mallory"}},
		{"the requester's pull request", forged{event: "pull_request", path: ".github/workflows/ci.yml", actor: "alice", triggerer: "alice"}},
		{"the requester's push", forged{event: "push", path: ".github/workflows/ci.yml", actor: "alice", triggerer: "alice"}},
		{"the requester's dispatch", forged{event: "workflow_dispatch", path: ".github/workflows/build.yml", actor: "alice", triggerer: "alice"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			j, _ := e.start(approvalWorkflow(), nil)
			e.waitStep(j.ID, "approval", jobs.Waiting)
			tt.run.title = "feat: ai3[" + j.ID + "/approval]"
			if err := e.svc.HandleWorkflowRun(e.ctx, "d-forged", tt.run.payload(int64(9000+i))); err != nil {
				t.Fatalf("got %v, want the run ignored", err)
			}
			e.stillWaiting(j.ID, "approval")
		})
	}
}

// A run that ai3 did not record completes a github.actions step only if it
// is the user's workflow_dispatch of the step's workflow file; the step's
// own run still completes it after the others were ignored.
func TestWorkflowRunCompletesOnlyTheStepsDispatch(t *testing.T) {
	build := ".github/workflows/build.yml"
	tests := []struct {
		name string
		run  forged
	}{
		{"a pull request's run", forged{event: "pull_request", path: build, actor: "alice", triggerer: "alice"}},
		{"a push's run", forged{event: "push", path: build, actor: "alice", triggerer: "alice"}},
		{"a dispatch of another workflow file", forged{event: "workflow_dispatch", path: ".github/workflows/deploy.yml", actor: "alice", triggerer: "alice"}},
		{"a dispatch by another user", forged{event: "workflow_dispatch", path: build, actor: "bob", triggerer: "bob"}},
		{"a run triggered by another user", forged{event: "workflow_dispatch", path: build, actor: "alice", triggerer: "mallory"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			j, arn := e.start(actionsWorkflow(), nil)
			e.waitRun(j.ID, "build")
			tt.run.title = "ai3[" + j.ID + "/build]"
			if err := e.svc.HandleWorkflowRun(e.ctx, "d-forged", tt.run.payload(int64(9000+i))); err != nil {
				t.Fatalf("got %v, want the run ignored", err)
			}
			e.stillWaiting(j.ID, "build")
			e.gh.complete(t, e.gh.Runs()[0].ID, "success")
			if _, j = e.wait(arn, j.ID); j.Status != jobs.Succeeded {
				t.Fatalf("job %s (%s): the step's own run should complete it", j.Status, j.Cause)
			}
		})
	}
}

// When GitHub does not return the dispatched run, the step looks for it by
// the correlation id in run names: a run that another user dispatched with
// that id is never adopted.
func TestFindRunAdoptsOnlyTheUsersDispatch(t *testing.T) {
	e := newEnv(t, func(e *env, d *steps.Deps) { d.APIURL = e.gh.withoutRunDetails(t) })
	w := actionsWorkflow()
	id := fmt.Sprintf("%s-%d", w.Name(), e.n+1) // the id e.start gives the next job
	// Bob dispatches build.yml carrying the step's correlation id.
	req, err := e.gh.client().NewRequest("POST", "repos/octo/app/actions/workflows/build.yml/dispatches",
		map[string]any{"ref": "feature-x", "inputs": map[string]any{steps.CorrelationInput: "ai3[" + id + "/build]"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.gh.client().Do(e.ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	bobs := e.gh.Runs()[0]
	if bobs.Actor != "bob" {
		t.Fatalf("the dispatched run %+v is not bob's", bobs)
	}
	// An earlier attempt dispatched (without the run's id): this one looks
	// the run up by name and must not take bob's.
	if _, err := e.store.PutRef(e.ctx, "dispatch#"+id+"#build", "dispatched", 0); err != nil {
		t.Fatal(err)
	}
	j, arn := e.start(w, nil)
	if j.ID != id {
		t.Fatalf("job %s, want %s", j.ID, id)
	}
	// It fails once its retries are spent, or (adopting bob's run) waits.
	eventually(t, 30*time.Second, "the build step to fail or wait on a run", func() bool {
		j, _ = e.store.Get(e.ctx, j.ID)
		st := j.Steps["build"]
		return st.Status == jobs.Failed || (st.Status == jobs.Waiting && st.Link != "")
	})
	if st := j.Steps["build"]; st.Status != jobs.Failed || strings.Contains(st.Link, fmt.Sprint(bobs.ID)) {
		t.Fatalf("build step %s linking %q: bob's run %d was adopted", st.Status, st.Link, bobs.ID)
	}
	if d, err := e.ex.WaitExecution(e.ctx, arn); err != nil || d.Status != "FAILED" {
		t.Errorf("execution %v %v: want failed", d, err)
	}
}

// slotPacer records who waits for a write slot; it pauses once per wait
// (telling hold) and grants the slot, or refuses every slot.
type slotPacer struct {
	refuse bool
	mu     sync.Mutex
	users  []int64
}

func (p *slotPacer) Wait(_ context.Context, userID int64, hold func(time.Duration) error) error {
	p.mu.Lock()
	p.users = append(p.users, userID)
	p.mu.Unlock()
	if hold != nil {
		if err := hold(time.Second); err != nil {
			return err
		}
	}
	if p.refuse {
		return errors.New("no slot left in the user's budget")
	}
	return nil
}

func (p *slotPacer) Penalize(context.Context, int64, time.Duration) error { return nil }

// waiters returns the users that waited for a slot.
func (p *slotPacer) waiters() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int64(nil), p.users...)
}

// An Actions dispatch and an approval request are writes made with the
// user's token: without a slot of the user's budget neither is made.
func TestDispatchAndApprovalTakeAWriteSlot(t *testing.T) {
	for _, w := range []*asl.Workflow{actionsWorkflow(), approvalWorkflow()} {
		t.Run(w.Name(), func(t *testing.T) {
			p := &slotPacer{refuse: true}
			e := newEnv(t, func(_ *env, d *steps.Deps) { d.Pacer = p })
			j, arn := e.start(w, nil)
			step := w.Steps()[0].Name()
			asked := func() bool { return strings.Contains(strings.Join(e.gh.comments(t, e.gh.pr), "\n"), "Approval needed") }
			eventually(t, 30*time.Second, "the step to fail, dispatch or ask", func() bool {
				j, _ := e.store.Get(e.ctx, j.ID)
				return j.Steps[step].Status == jobs.Failed || len(e.gh.Runs()) > 0 || asked()
			})
			if runs := e.gh.Runs(); len(runs) != 0 {
				t.Fatalf("dispatched %+v without a write slot", runs)
			}
			if asked() {
				t.Fatal("asked for approval without a write slot")
			}
			if d, err := e.ex.WaitExecution(e.ctx, arn); err != nil || d.Status != "FAILED" {
				t.Errorf("execution %v %v: want failed, no slot was granted", d, err)
			}
			for _, u := range p.waiters() {
				if u != j.User.ID {
					t.Errorf("waited for a slot of user %d, want the job's user %d", u, j.User.ID)
				}
			}
		})
	}
	// With slots granted, after a pause, the approval is asked once.
	p := &slotPacer{}
	e := newEnv(t, func(_ *env, d *steps.Deps) { d.Pacer = p })
	j, _ := e.start(approvalWorkflow(), nil)
	eventually(t, 30*time.Second, "the approval request", func() bool {
		return strings.Contains(strings.Join(e.gh.comments(t, e.gh.pr), "\n"), "Approval needed")
	})
	if _, err := e.svc.Step(e.ctx, e.payload("approval")); err != nil {
		t.Fatal(err)
	}
	asked := 0
	for _, body := range e.gh.comments(t, e.gh.pr) {
		asked += strings.Count(body, "Approval needed")
	}
	if asked != 1 {
		t.Errorf("approval asked %d times, want once", asked)
	}
	e.stillWaiting(j.ID, "approval")
}
