package steps_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// pushed is the commit the tests push to feature-x after a job started.
var pushed = strings.Repeat("b0", 20)

// pinnedWorkflow is a one-step workflow "release" whose build step
// dispatches build.yml with pin_head = pin, at ref (the job's ref when "").
func pinnedWorkflow(pin bool, ref string) *asl.Workflow {
	w := asl.NewWorkflow("release", asl.Standard).ReportFailuresWith(steps.ReportTask)
	t := asl.InvokeAndWait(steps.Task).With("kind", steps.KindActions).With("workflow_file", "build.yml").
		With("pin_head", pin).Retry(retryTransient())
	if ref != "" {
		t.With("ref", ref)
	}
	w.Step("build", t)
	return w
}

// startAt is e.start for a job at ref that started at commit headSHA (""
// for a job that names no commit, as one started on an issue).
func (e *env) startAt(w *asl.Workflow, args map[string]string, ref, headSHA string) (*jobs.Job, string) {
	e.t.Helper()
	return e.startWith(w, args, func(j *jobs.Job) { j.Ref, j.HeadSHA = ref, headSHA })
}

// prHead is the head commit of the hub's pull request (feature-x), the
// HeadSHA of a job started on it.
func (e *env) prHead() string {
	e.t.Helper()
	pr, _, err := e.gh.client().PullRequests.Get(e.ctx, "octo", "app", e.gh.pr)
	if err != nil {
		e.t.Fatal(err)
	}
	return pr.GetHead().GetSHA()
}

// push moves feature-x to commit sha, as a push to the pull request does.
func (e *env) push(sha string) {
	e.t.Helper()
	if err := e.gh.PushBranch(repo, "feature-x", sha); err != nil {
		e.t.Fatal(err)
	}
}

// dispatches counts the workflow dispatches GitHub received.
func dispatches(ws []sandbox.Write) int {
	n := 0
	for _, w := range ws {
		if w.Method == "POST" && strings.HasSuffix(w.Path, "/dispatches") {
			n++
		}
	}
	return n
}

// settled waits until step failed, succeeded or waits on a dispatched run,
// and returns the job.
func (e *env) settled(jobID, step string) *jobs.Job {
	e.t.Helper()
	var j *jobs.Job
	eventually(e.t, 30*time.Second, step+" to fail or dispatch", func() bool {
		j, _ = e.store.Get(e.ctx, jobID)
		st := j.Steps[step]
		return st.Status == jobs.Failed || st.Status == jobs.Succeeded || (st.Status == jobs.Waiting && st.Link != "")
	})
	return j
}

// A push to the job's branch after the job started (the commit it shows
// and was approved for) makes a pin_head step fail without dispatching:
// GitHub would run the new commit. The failure is not retried and names
// both commits and the way on.
func TestPinHeadRefusesAMovedBranch(t *testing.T) {
	e := newEnv(t)
	head := e.prHead()
	e.push(pushed)
	j, arn := e.startAt(pinnedWorkflow(true, ""), nil, "feature-x", head)
	if st := e.settled(j.ID, "build").Steps["build"]; st.Status != jobs.Failed {
		t.Fatalf("build is %s (%s), want failed: feature-x moved since the job started", st.Status, st.Detail)
	}
	d, j := e.wait(arn, j.ID)
	want := fmt.Sprintf("feature-x is now at %s, not at %s, the commit this job started at: build.yml was not dispatched (pin_head). Run release again for the new commit.",
		pushed[:7], head[:7])
	if d.Status != "FAILED" || j.Status != jobs.Failed || j.Error != "CheckFailedError" ||
		!strings.Contains(j.Cause, "step build failed") || !strings.Contains(j.Cause, want) {
		t.Fatalf("execution %s, job %s %s (%s): want failed naming the step, both commits and the way on", d.Status, j.Status, j.Error, j.Cause)
	}
	if n := dispatches(e.gh.Writes()); n != 0 {
		t.Errorf("%d dispatches, want none", n)
	}
	if j.Steps["build"].Attempts > 1 {
		t.Errorf("the refusal was tried %d times, want once (it is not transient)", j.Steps["build"].Attempts)
	}
	if r := row(e.comment(j), "build"); !strings.Contains(r, pushed[:7]) || !strings.Contains(r, head[:7]) {
		t.Errorf("the build row should say why: %q", r)
	}
}

// deploy: a push to the pull request between the approval and the staging
// deploy is not deployed; the build (before the push) was dispatched.
func TestDeployRefusesACommitPushedAfterApproval(t *testing.T) {
	e := newEnv(t)
	head := e.prHead()
	j, arn := e.startAt(workflows.Deploy(), map[string]string{"smoke_url": "http://127.0.0.1:9/healthz"}, "feature-x", head)
	e.waitRun(j.ID, "build")
	e.gh.complete(t, e.gh.Runs()[0].ID, "success")
	e.waitStep(j.ID, "approval", jobs.Waiting)
	e.push(pushed)
	if err := e.svc.Resolve(e.ctx, j.ID, "approval", steps.Outcome{Output: map[string]string{"approved_by": "bob"}, Detail: "approved by @bob"}); err != nil {
		t.Fatal(err)
	}
	if st := e.settled(j.ID, "deploy_staging").Steps["deploy_staging"]; st.Status != jobs.Failed {
		t.Fatalf("deploy_staging is %s (%s), want failed: the approved commit is no longer feature-x's head", st.Status, st.Detail)
	}
	d, j := e.wait(arn, j.ID)
	if d.Status != "FAILED" || j.Status != jobs.Failed || !strings.Contains(j.Cause, "step deploy_staging failed") ||
		!strings.Contains(j.Cause, pushed[:7]) || !strings.Contains(j.Cause, head[:7]) || !strings.Contains(j.Cause, "Run deploy again") {
		t.Fatalf("execution %s, job %s (%s): want failed at deploy_staging naming both commits", d.Status, j.Status, j.Cause)
	}
	if n, runs := dispatches(e.gh.Writes()), e.gh.Runs(); n != 1 || len(runs) != 1 || runs[0].Workflow != "build.yml" {
		t.Errorf("%d dispatches, runs %+v: want build.yml's only", n, runs)
	}
}

// When the branch is still at the job's commit, a pin_head step dispatches
// as before, and the run's commit is the job's.
func TestPinHeadDispatchesAtAnUnmovedBranch(t *testing.T) {
	e := newEnv(t)
	head := e.prHead()
	j, arn := e.startAt(pinnedWorkflow(true, ""), nil, "feature-x", head)
	e.waitRun(j.ID, "build")
	runs := e.gh.Runs()
	if len(runs) != 1 || runs[0].Ref != "feature-x" {
		t.Fatalf("runs %+v: want one at feature-x", runs)
	}
	if r, _, err := e.gh.client().Actions.GetWorkflowRunByID(e.ctx, "octo", "app", runs[0].ID); err != nil || r.GetHeadSHA() != head {
		t.Fatalf("the run is at %s (%v), want the job's commit %s", r.GetHeadSHA(), err, head)
	}
	e.gh.complete(t, runs[0].ID, "success")
	if _, j = e.wait(arn, j.ID); j.Status != jobs.Succeeded {
		t.Fatalf("job %s (%s)", j.Status, j.Cause)
	}
}

// A step that dispatched waits for the run it started: a re-run of it
// (a Lambda retry, a crash) after a push finds that run and checks nothing.
func TestPinHeadDoesNotRecheckADispatchedStep(t *testing.T) {
	e := newEnv(t)
	j, arn := e.startAt(pinnedWorkflow(true, ""), nil, "feature-x", e.prHead())
	e.waitRun(j.ID, "build")
	e.push(pushed)
	if _, err := e.svc.Step(e.ctx, e.payload("build")); err != nil {
		t.Fatalf("re-run: %v, want it to find the run it dispatched", err)
	}
	if n := dispatches(e.gh.Writes()); n != 1 {
		t.Fatalf("%d dispatches, want 1", n)
	}
	e.gh.complete(t, e.gh.Runs()[0].ID, "success")
	if _, j = e.wait(arn, j.ID); j.Status != jobs.Succeeded {
		t.Fatalf("job %s (%s)", j.Status, j.Cause)
	}
}

// pin_head checks only a step that dispatches at the job's own ref of a job
// that names its commit; elsewhere the step dispatches after a push as it
// always did. A job ref that is not a branch cannot be checked: refused.
func TestPinHeadChecksOnlyTheJobsBranch(t *testing.T) {
	tests := []struct {
		name        string
		pin         bool
		stepRef     string // the step's ref argument
		jobRef      string
		noHead      bool // the job names no commit (started on an issue)
		wantRef     string
		wantRefusal string // "": dispatched at wantRef
	}{
		{name: "pin_head false", pin: false, jobRef: "feature-x", wantRef: "feature-x"},
		{name: "a job without a commit", pin: true, jobRef: "feature-x", noHead: true, wantRef: "feature-x"},
		{name: "the step's own ref", pin: true, stepRef: "main", jobRef: "feature-x", wantRef: "main"},
		{name: "the step's ref is the job's", pin: true, stepRef: "feature-x", jobRef: "feature-x",
			wantRefusal: "feature-x is now at " + pushed[:7]},
		{name: "refs/heads/ form", pin: true, jobRef: "refs/heads/feature-x", wantRefusal: "feature-x is now at " + pushed[:7]},
		{name: "a tag", pin: true, jobRef: "refs/tags/v1.0", wantRefusal: "octo/app has no branch refs/tags/v1.0 (a tag?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			head := e.prHead()
			if tt.noHead {
				head = ""
			}
			e.push(pushed)
			j, arn := e.startAt(pinnedWorkflow(tt.pin, tt.stepRef), nil, tt.jobRef, head)
			st := e.settled(j.ID, "build").Steps["build"]
			if tt.wantRefusal != "" {
				if st.Status != jobs.Failed {
					t.Fatalf("build is %s (%s), want refused with %q", st.Status, st.Detail, tt.wantRefusal)
				}
				_, j = e.wait(arn, j.ID)
				if j.Status != jobs.Failed || !strings.Contains(j.Cause, tt.wantRefusal) || dispatches(e.gh.Writes()) != 0 {
					t.Fatalf("job %s (%s), %d dispatches: want refused with %q", j.Status, j.Cause, dispatches(e.gh.Writes()), tt.wantRefusal)
				}
				return
			}
			runs := e.gh.Runs()
			if st.Status != jobs.Waiting || len(runs) != 1 || runs[0].Ref != tt.wantRef {
				t.Fatalf("build %s (%s), runs %+v: want dispatched at %s", st.Status, st.Detail, runs, tt.wantRef)
			}
			e.gh.complete(t, runs[0].ID, "success")
			if _, j = e.wait(arn, j.ID); j.Status != jobs.Succeeded {
				t.Fatalf("job %s (%s)", j.Status, j.Cause)
			}
		})
	}
}
