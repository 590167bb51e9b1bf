package steps_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// lateDescriber describes through the env's executor, which is made after
// the service.
type lateDescriber struct{ e *env }

func (l lateDescriber) Describe(ctx context.Context, arn string) (*jobs.Execution, error) {
	return sfnexec.New(l.e.ex).Describe(ctx, arn)
}

// lostEvents drops every status event and lets Reconcile describe
// executions, as the finalizer Lambda's scheduled run does.
func lostEvents(e *env, d *steps.Deps) {
	e.noStatusEvents = true
	d.Executions = lateDescriber{e}
}

// recordARN stores the execution's ARN on the job, as the run command does
// once StartExecution answered.
func (e *env) recordARN(id, arn string) {
	e.t.Helper()
	for {
		j, err := e.store.Get(e.ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		j.ExecutionARN = arn
		if err := e.store.Update(e.ctx, j); err == nil {
			return
		} else if !errors.Is(err, jobs.ErrConflict) {
			e.t.Fatal(err)
		}
	}
}

// A scheduled event as EventBridge delivers it to the finalizer.
const scheduled = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
 "source":"aws.events","account":"123456789012","time":"2026-12-04T20:00:00Z","region":"us-east-1",
 "resources":["arn:aws:events:us-east-1:123456789012:rule/ai3-dev-reconcile"],"detail":{}}`

// TestReconcileFinishesJobsWhoseStatusEventWasLost: the executions end, their
// status events never arrive; the scheduled reconcile ends the jobs from the
// executions' descriptions (with the failing step named, as the event
// would have) and writes their final comments. A second run repairs nothing.
func TestReconcileFinishesJobsWhoseStatusEventWasLost(t *testing.T) {
	var flaky atomic.Int64
	e := newEnv(t, withFuncs(&flaky), lostEvents)
	ok := asl.NewWorkflow("fine", asl.Standard)
	ok.Step("a", goStep("demo.ok"))
	bad := asl.NewWorkflow("broke", asl.Standard)
	bad.Step("a", goStep("demo.ok"))
	bad.Step("broken", goStep("demo.broken")).Needs("a")
	j1, arn1 := e.start(ok, nil)
	j2, arn2 := e.start(bad, nil)
	e.recordARN(j1.ID, arn1)
	e.recordARN(j2.ID, arn2)
	for _, arn := range []string{arn1, arn2} {
		if _, err := e.ex.WaitExecution(e.ctx, arn); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{j1.ID, j2.ID} {
		if j, _ := e.store.Get(e.ctx, id); j.Status.Final() {
			t.Fatalf("job %s is %s before reconcile: the status event was not lost", id, j.Status)
		}
	}
	if err := e.svc.Finalizer().HandleEvent(e.ctx, []byte(scheduled)); err != nil {
		t.Fatal(err)
	}
	got1, _ := e.store.Get(e.ctx, j1.ID)
	got2, _ := e.store.Get(e.ctx, j2.ID)
	if got1.Status != jobs.Succeeded || got1.Rendered < got1.Version || got1.FinishedAt.IsZero() {
		t.Errorf("fine: %s, rendered %d of %d", got1.Status, got1.Rendered, got1.Version)
	}
	if got2.Status != jobs.Failed || !strings.Contains(got2.Cause, "step broken failed") || got2.Rendered < got2.Version {
		t.Errorf("broke: %s %q, rendered %d of %d", got2.Status, got2.Cause, got2.Rendered, got2.Version)
	}
	if c := e.comment(got2); !strings.Contains(row(c, "broken"), "failed") {
		t.Errorf("broke's comment row: %q", row(c, "broken"))
	}
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 0 {
		t.Errorf("second reconcile repaired %d (%v), want 0", n, err)
	}
}

// TestReconcileLeavesRunningJobsAlone: a job whose execution still runs is
// not touched, nor is its comment written again.
func TestReconcileLeavesRunningJobsAlone(t *testing.T) {
	e := newEnv(t, lostEvents)
	w := asl.NewWorkflow("gate", asl.Standard)
	w.Step("ok", asl.InvokeAndWait(steps.Task).With("kind", steps.KindApproval))
	j, _ := e.start(w, nil)
	e.waitStep(j.ID, "ok", jobs.Waiting)
	// The step is Waiting before it asks and records its outcome: wait
	// until it has finished (its request posted, the comment caught up and
	// the store quiet), so only Reconcile could change the job below.
	eventually(t, 30*time.Second, "the approval step to finish", func() bool {
		n := e.store.Updates()
		time.Sleep(200 * time.Millisecond)
		cur, err := e.store.Get(e.ctx, j.ID)
		asked := slices.ContainsFunc(e.gh.comments(t, e.gh.pr), func(c string) bool { return strings.Contains(c, "Approval needed") })
		return err == nil && asked && cur.Rendered >= cur.Version && e.store.Updates() == n
	})
	before, _ := e.store.Get(e.ctx, j.ID)
	updates := e.store.Updates()
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 0 {
		t.Fatalf("reconcile of a running job repaired %d (%v)", n, err)
	}
	after, _ := e.store.Get(e.ctx, j.ID)
	if after.Version != before.Version || e.store.Updates() != updates || after.Status.Final() {
		t.Errorf("running job changed: version %d → %d, %s", before.Version, after.Version, after.Status)
	}
}

// TestReconcileWritesFinalCommentsLeftBehind: a job that ended but whose
// comment still shows an earlier version (its writer died) gets its final
// comment, even with no executor to describe.
func TestReconcileWritesFinalCommentsLeftBehind(t *testing.T) {
	e := newEnv(t)
	j := newJob("left-1", "ci", []string{"a"}, e.gh.addComment(t, e.gh.pr, jobs.Marker{Kind: "status", ID: "left-1"}.String()+" running"), e.gh.pr)
	if err := e.store.Create(e.ctx, j); err != nil {
		t.Fatal(err)
	}
	j.Status, j.FinishedAt = jobs.Succeeded, time.Now()
	j.Steps["a"].Status = jobs.Succeeded
	if err := e.store.Update(e.ctx, j); err != nil { // as if the writer died right after
		t.Fatal(err)
	}
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 1 {
		t.Fatalf("reconcile repaired %d (%v), want 1", n, err)
	}
	got, _ := e.store.Get(e.ctx, j.ID)
	if got.Rendered < got.Version || !strings.Contains(e.comment(got), "succeeded") {
		t.Errorf("rendered %d of %d; comment %q", got.Rendered, got.Version, e.comment(got))
	}
}

// TestReconcileTimesOutSilentExpressJobs: AWS neither sends status events
// for EXPRESS executions nor describes them, so a job whose steps never
// ended it is TIMED_OUT once it is older than the EXPRESS limit; a younger
// one is left to its steps.
func TestReconcileTimesOutSilentExpressJobs(t *testing.T) {
	now := time.Now()
	later := func(e *env, d *steps.Deps) {
		d.Executions = lateDescriber{e}
		d.Express = func(string) bool { return true }
		d.Now = func() time.Time { return now }
	}
	e := newEnv(t, later)
	mk := func(id string, age time.Duration) *jobs.Job {
		j := newJob(id, "checks", []string{"a"}, e.gh.addComment(t, e.gh.pr, jobs.Marker{Kind: "status", ID: id}.String()+" running"), e.gh.pr)
		j.Status, j.CreatedAt = jobs.Running, now.Add(-age)
		j.Steps["a"].Status = jobs.Running
		// An EXPRESS ARN the executor does not know, as AWS answers for them.
		j.ExecutionARN = "arn:aws:states:us-east-1:123456789012:express:checks:" + id + ":6f1b"
		if err := e.store.Create(e.ctx, j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	old, young := mk("old-1", 7*time.Minute), mk("young-1", 2*time.Minute)
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 1 {
		t.Fatalf("reconcile repaired %d (%v), want 1", n, err)
	}
	got, _ := e.store.Get(e.ctx, old.ID)
	if got.Status != jobs.TimedOut || got.Error != "States.Timeout" || got.Steps["a"].Status != jobs.TimedOut || got.Rendered < got.Version {
		t.Errorf("old: %s %q, step %s, rendered %d of %d", got.Status, got.Error, got.Steps["a"].Status, got.Rendered, got.Version)
	}
	if y, _ := e.store.Get(e.ctx, young.ID); y.Status != jobs.Running {
		t.Errorf("young: %s, want running", y.Status)
	}
}

// TestScheduledEventIsNotAStatusChange: the finalizer tells the scheduled
// event from a status change; a status change of no job is still ignored.
func TestScheduledEventIsNotAStatusChange(t *testing.T) {
	e := newEnv(t)
	if err := e.svc.Finalizer().HandleEvent(e.ctx, []byte(scheduled)); err != nil {
		t.Fatalf("scheduled event with no jobs: %v", err)
	}
	if err := e.svc.Finalizer().HandleEvent(e.ctx, []byte(`{"detail-type":"Step Functions Execution Status Change","detail":{"name":"nope","status":"SUCCEEDED"}}`)); err != nil {
		t.Fatalf("status change of no job: %v", err)
	}
	if n := e.store.Updates(); n != 0 {
		t.Errorf("%d updates", n)
	}
}
