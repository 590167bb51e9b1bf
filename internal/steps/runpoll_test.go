package steps_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// pollEnv is an env whose workflow_run webhooks are lost (kept, not
// delivered), whose service clock a test moves forward, and whose GitHub
// reads of single runs are counted.
type pollEnv struct {
	*env
	offset atomic.Int64 // how far the service's clock is ahead of the real one
	reads  *runReads

	mu   sync.Mutex
	lost [][]byte // the workflow_run webhooks GitHub sent, never delivered
}

// newPollEnv is newEnv with lost workflow_run webhooks, a movable service
// clock and Reconcile describing executions through the env's executor.
// details false: the dispatch answers 204 without the run, so the step
// finds its run by its correlation id and records it (runKey).
func newPollEnv(t *testing.T, details bool) *pollEnv {
	t.Helper()
	p := &pollEnv{}
	gh := newHub(t)
	p.reads = newRunReads(t, gh, !details)
	p.env = newEnvOn(t, gh, func(e *env, d *steps.Deps) {
		d.Now = func() time.Time { return time.Now().Add(time.Duration(p.offset.Load())) }
		d.APIURL = p.reads.apiURL
		d.Executions = lateDescriber{e}
	})
	gh.setOnRun(func(payload []byte) {
		p.mu.Lock()
		p.lost = append(p.lost, payload)
		p.mu.Unlock()
	})
	return p
}

// advance moves the service's clock forward by d.
func (p *pollEnv) advance(d time.Duration) { p.offset.Add(int64(d)) }

// completedWebhook returns the lost workflow_run "completed" webhook of run id.
func (p *pollEnv) completedWebhook(t *testing.T, id int64) []byte {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, payload := range p.lost {
		var ev struct {
			Action      string `json:"action"`
			WorkflowRun struct {
				ID int64 `json:"id"`
			} `json:"workflow_run"`
		}
		if json.Unmarshal(payload, &ev) == nil && ev.Action == "completed" && ev.WorkflowRun.ID == id {
			return payload
		}
	}
	t.Fatalf("GitHub sent no completed workflow_run for run %d", id)
	return nil
}

// startActions starts actionsWorkflow, records its execution's ARN (as
// the run command does) and waits for its build step to wait on its run,
// which it returns, and for the step's task to be done with the job: it
// recorded its end (Waiting) and wrote the status comment, so the record
// changes no more (Rendered catches up with Version only then).
func (p *pollEnv) startActions(t *testing.T) (j *jobs.Job, arn string, runID int64) {
	t.Helper()
	j, arn = p.start(actionsWorkflow(), nil)
	p.recordARN(j.ID, arn)
	p.waitRun(j.ID, "build")
	eventually(t, 30*time.Second, "the build step's task to end", func() bool {
		cur, err := p.store.Get(p.ctx, j.ID)
		return err == nil && cur.Rendered >= cur.Version
	})
	runs := p.gh.Runs()
	if len(runs) != 1 {
		t.Fatalf("%d runs dispatched, want 1", len(runs))
	}
	return j, arn, runs[0].ID
}

// job returns the job as stored.
func (p *pollEnv) job(t *testing.T, jobID string) *jobs.Job {
	t.Helper()
	j, err := p.store.Get(p.ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// step returns the job's step as stored.
func (p *pollEnv) step(t *testing.T, jobID, step string) *jobs.Step {
	t.Helper()
	return p.job(t, jobID).Steps[step]
}

// runReads is a proxy in front of the hub that counts GETs of single
// workflow runs (GET /repos/{owner}/{repo}/actions/runs/{id}); it can also
// drop return_run_details from dispatches, as hub.withoutRunDetails does.
type runReads struct {
	apiURL string
	n      atomic.Int64
}

var runPath = regexp.MustCompile(`/actions/runs/[0-9]+$`)

func newRunReads(t *testing.T, h *hub, withoutDetails bool) *runReads {
	target, _ := url.Parse(h.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // requests a test's end cancels
	rr := &runReads{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && runPath.MatchString(r.URL.Path) {
			rr.n.Add(1)
		}
		if withoutDetails && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/dispatches") {
			dropRunDetails(r)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rr.apiURL = srv.URL + "/api/v3/"
	return rr
}

// count is how many single runs were read so far.
func (rr *runReads) count() int64 { return rr.n.Load() }

// TestReconcileCompletesRunWhoseWebhookWasLost: the run ends, its
// workflow_run webhook never arrives; once the step has waited past
// RunPollGrace, Reconcile reads the run (once) and completes the step as
// the webhook would have: success resumes the execution, which succeeds,
// and the job ends with its final comment; failure fails the step with
// ErrActionsFailed and the run's link. Both ways the step knows its run:
// from the dispatch's answer, or found by its correlation id.
func TestReconcileCompletesRunWhoseWebhookWasLost(t *testing.T) {
	for _, details := range []bool{true, false} {
		for _, conclusion := range []string{"success", "failure"} {
			name := conclusion + "/dispatch returns the run"
			if !details {
				name = conclusion + "/correlated by run name"
			}
			t.Run(name, func(t *testing.T) {
				e := newPollEnv(t, details)
				j, arn, id := e.startActions(t)
				e.gh.complete(t, id, conclusion)
				e.completedWebhook(t, id) // GitHub sent it; it was lost
				if st := e.step(t, j.ID, "build"); st.Status != jobs.Waiting {
					t.Fatalf("build is %s before Reconcile: the webhook was not lost", st.Status)
				}
				e.advance(steps.RunPollGrace + time.Second)
				before := e.reads.count()
				n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit)
				if err != nil || n != 1 {
					t.Fatalf("Reconcile repaired %d (%v), want 1", n, err)
				}
				if reads := e.reads.count() - before; reads != 1 {
					t.Errorf("Reconcile read the run %d times, want once", reads)
				}
				html := e.gh.runURL(id)
				st := e.step(t, j.ID, "build")
				switch conclusion {
				case "success":
					if st.Status != jobs.Succeeded || st.TaskToken != "" {
						t.Errorf("build is %s (token %q), want succeeded", st.Status, st.TaskToken)
					}
				default:
					if st.Status != jobs.Failed || st.Error != steps.ErrActionsFailed ||
						!strings.Contains(st.Cause, "concluded failure") || !strings.Contains(st.Cause, html) {
						t.Errorf("build is %s %s (%s), want failed with the conclusion and the run's link", st.Status, st.Error, st.Cause)
					}
				}
				d, j := e.wait(arn, j.ID)
				body := e.comment(j)
				if conclusion == "success" {
					if d.Status != "SUCCEEDED" || j.Status != jobs.Succeeded {
						t.Fatalf("execution %s, job %s (%s): want both succeeded", d.Status, j.Status, j.Cause)
					}
					if !strings.Contains(body, "· succeeded") || !strings.Contains(row(body, "build"), "succeeded") {
						t.Errorf("the comment should show the job and build succeeded:\n%s", body)
					}
				} else {
					if d.Status != "FAILED" || j.Status != jobs.Failed || j.Error != steps.ErrActionsFailed ||
						!strings.Contains(j.Cause, "concluded failure") || !strings.Contains(j.Cause, html) {
						t.Fatalf("execution %s, job %s %s (%s): want failed with the conclusion and the run's link", d.Status, j.Status, j.Error, j.Cause)
					}
				}
				if strings.Contains(body, "cancel "+j.ID) {
					t.Errorf("the comment still offers to cancel the job: not final\n%s", body)
				}
				if !strings.Contains(row(body, "build"), html) {
					t.Errorf("the build row should link the run: %q", row(body, "build"))
				}
			})
		}
	}
}

// TestReconcileReadsNoRunWithinTheGrace: a run that ended a moment ago
// probably has its webhook on the way: within RunPollGrace Reconcile does
// not read it, and the step waits.
func TestReconcileReadsNoRunWithinTheGrace(t *testing.T) {
	e := newPollEnv(t, true)
	j, _, id := e.startActions(t)
	e.gh.complete(t, id, "success")
	e.advance(steps.RunPollGrace - 10*time.Second)
	before, was := e.reads.count(), e.job(t, j.ID)
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 0 {
		t.Fatalf("Reconcile within the grace repaired %d (%v), want 0", n, err)
	}
	if reads := e.reads.count() - before; reads != 0 {
		t.Errorf("Reconcile within the grace read the run %d times, want none", reads)
	}
	if now := e.job(t, j.ID); now.Steps["build"].Status != jobs.Waiting || now.Version != was.Version {
		t.Errorf("build is %s after Reconcile within the grace (version %d → %d), want waiting, unchanged", now.Steps["build"].Status, was.Version, now.Version)
	}
}

// TestReconcileLeavesARunThatGoesOn: past the grace a run still in
// progress is read once per Reconcile, and its step goes on waiting.
func TestReconcileLeavesARunThatGoesOn(t *testing.T) {
	e := newPollEnv(t, true)
	j, _, _ := e.startActions(t)
	e.advance(steps.RunPollGrace + time.Second)
	before, was := e.reads.count(), e.job(t, j.ID)
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 0 {
		t.Fatalf("Reconcile of a run still going repaired %d (%v), want 0", n, err)
	}
	if reads := e.reads.count() - before; reads != 1 {
		t.Errorf("Reconcile read the run %d times, want once", reads)
	}
	if now := e.job(t, j.ID); now.Steps["build"].Status != jobs.Waiting || now.Version != was.Version {
		t.Errorf("build is %s (version %d → %d), want waiting, unchanged", now.Steps["build"].Status, was.Version, now.Version)
	}
}

// TestReconcileReadsOnlyRunsTheStepRecorded: a waiting step that is no
// github.actions step (an approval), or whose run the step did not record
// as its own, has no run read: Reconcile never guesses a run by its name.
func TestReconcileReadsOnlyRunsTheStepRecorded(t *testing.T) {
	e := newPollEnv(t, false)
	j, _, id := e.startActions(t)
	// The step found its run by correlation id and recorded it; forget that.
	if err := e.store.SwapRef(e.ctx, "run#"+repo+"#"+strconv.FormatInt(id, 10), j.ID+"#build", ""); err != nil {
		t.Fatal(err)
	}
	approval, _ := e.start(approvalWorkflow(), nil)
	e.waitStep(approval.ID, "approval", jobs.Waiting)
	e.gh.complete(t, id, "success")
	e.advance(steps.RunPollGrace + time.Second)
	before := e.reads.count()
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 0 {
		t.Fatalf("Reconcile repaired %d (%v), want 0", n, err)
	}
	if reads := e.reads.count() - before; reads != 0 {
		t.Errorf("Reconcile read %d runs, want none", reads)
	}
	if st := e.step(t, j.ID, "build"); st.Status != jobs.Waiting {
		t.Errorf("build is %s, want waiting", st.Status)
	}
}

// TestLateWebhookAfterReconcileChangesNothing: the webhook Reconcile did
// without arrives after all (a late redelivery): it is ignored, with no
// error, and changes nothing; the next Reconcile repairs nothing.
func TestLateWebhookAfterReconcileChangesNothing(t *testing.T) {
	e := newPollEnv(t, true)
	j, arn, id := e.startActions(t)
	e.gh.complete(t, id, "success")
	e.advance(steps.RunPollGrace + time.Second)
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 1 {
		t.Fatalf("Reconcile repaired %d (%v), want 1", n, err)
	}
	_, done := e.wait(arn, j.ID)
	reads := e.reads.count()
	if err := e.svc.HandleWorkflowRun(e.ctx, "late-1", e.completedWebhook(t, id)); err != nil {
		t.Fatalf("the late webhook: %v, want ignored", err)
	}
	after := e.job(t, j.ID)
	if after.Version != done.Version || after.Status != jobs.Succeeded ||
		after.Steps["build"].Status != jobs.Succeeded {
		t.Errorf("the late webhook changed the job: version %d → %d, %s, build %s", done.Version, after.Version, after.Status, after.Steps["build"].Status)
	}
	if n, err := e.svc.Finalizer().Reconcile(e.ctx, steps.ReconcileLimit); err != nil || n != 0 {
		t.Errorf("a second Reconcile repaired %d (%v), want 0", n, err)
	}
	if e.reads.count() != reads {
		t.Errorf("a second Reconcile read the run again")
	}
}
