package steps_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

func approvalWorkflow() *asl.Workflow {
	w := asl.NewWorkflow("release", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("approval", asl.InvokeAndWait(steps.Task).With("kind", steps.KindApproval).With("prompt", "Ship v2?"))
	w.Step("after", asl.Invoke(steps.Task).With("kind", steps.KindGo).With("func", "checks.summary")).Needs("approval")
	return w
}

func TestApproval(t *testing.T) {
	tests := []struct {
		name    string
		outcome steps.Outcome
		want    jobs.Status
		row     string
	}{
		{"approved", steps.Outcome{Output: map[string]string{"approved_by": "bob"}, Detail: "approved by @bob"}, jobs.Succeeded, "approved by @bob"},
		{"rejected", steps.Outcome{Error: steps.ErrApprovalRejected, Cause: "rejected by @bob: not today"}, jobs.Failed, "rejected by @bob: not today"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			j, arn := e.start(approvalWorkflow(), nil)
			e.waitStep(j.ID, "approval", jobs.Waiting)
			asks := func() int {
				n := 0
				for _, body := range e.gh.comments(t, e.gh.pr) {
					if strings.Contains(body, "Approval needed") {
						n++
						if !strings.Contains(body, "@ai3-mvp approve "+j.ID) || !strings.Contains(body, "Ship v2?") {
							t.Errorf("the request should say how to approve: %q", body)
						}
					}
				}
				return n
			}
			eventually(t, 30*time.Second, "the approval request", func() bool { return asks() > 0 })
			// A Lambda retry of the same invocation asks nothing more.
			if _, err := e.svc.Step(e.ctx, e.payload("approval")); err != nil {
				t.Fatal(err)
			}
			if asks := asks(); asks != 1 {
				t.Errorf("approval asked %d times, want once", asks)
			}
			if err := e.svc.Resolve(e.ctx, j.ID, "approval", tt.outcome); err != nil {
				t.Fatal(err)
			}
			_, j = e.wait(arn, j.ID)
			if j.Status != tt.want {
				t.Fatalf("job %s (%s), want %s", j.Status, j.Cause, tt.want)
			}
			if !strings.Contains(row(e.comment(j), "approval"), tt.row) {
				t.Errorf("the approval row should show who decided: %q", row(e.comment(j), "approval"))
			}
			if tt.want == jobs.Failed && j.Error != steps.ErrApprovalRejected {
				t.Errorf("job error %q, want %s", j.Error, steps.ErrApprovalRejected)
			}
			// Deciding again changes nothing.
			if err := e.svc.Resolve(e.ctx, j.ID, "approval", tt.outcome); !errors.Is(err, steps.ErrNotWaiting) {
				t.Errorf("a second decision: %v, want ErrNotWaiting", err)
			}
		})
	}
}

func actionsWorkflow() *asl.Workflow {
	w := asl.NewWorkflow("ci", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("build", asl.InvokeAndWait(steps.Task).With("kind", steps.KindActions).With("workflow_file", "build.yml").
		With("inputs", map[string]string{"target": "linux"}).Retry(retryTransient()))
	return w
}

func TestActionsDispatchAndResume(t *testing.T) {
	for _, details := range []bool{false, true} {
		for _, conclusion := range []string{"success", "failure"} {
			name := conclusion + "/correlated by run name"
			if details {
				name = conclusion + "/dispatch returns the run"
			}
			t.Run(name, func(t *testing.T) {
				var e *env
				if details {
					e = newEnv(t)
				} else {
					e = newEnv(t, func(e *env, d *steps.Deps) { d.APIURL = e.gh.withoutRunDetails(t) })
				}
				j, arn := e.start(actionsWorkflow(), nil)
				waiting := e.waitRun(j.ID, "build")
				// A Lambda retry (or a re-run after a crash) finds the run.
				if _, err := e.svc.Step(e.ctx, e.payload("build")); err != nil {
					t.Fatal(err)
				}
				runs := e.gh.Runs()
				if len(runs) != 1 {
					t.Fatalf("%d runs dispatched, want 1", len(runs))
				}
				r := runs[0]
				if r.Actor != "alice" || r.Ref != "feature-x" || fmt.Sprint(r.Inputs["target"]) != "linux" || !strings.Contains(r.DisplayTitle, "ai3["+j.ID+"/build]") {
					t.Errorf("dispatched %+v", r)
				}
				html := e.gh.runURL(r.ID)
				if waiting.Steps["build"].Link != html {
					t.Errorf("the waiting step links %q, want the run %q", waiting.Steps["build"].Link, html)
				}
				e.gh.complete(t, r.ID, conclusion)
				_, j = e.wait(arn, j.ID)
				if conclusion == "success" && j.Status != jobs.Succeeded {
					t.Fatalf("job %s (%s)", j.Status, j.Cause)
				}
				if conclusion == "failure" && (j.Status != jobs.Failed || j.Error != steps.ErrActionsFailed ||
					!strings.Contains(j.Cause, "concluded failure") || !strings.Contains(j.Cause, html)) {
					t.Fatalf("job %s %s (%s): want failed with the conclusion and the run's link", j.Status, j.Error, j.Cause)
				}
				if !strings.Contains(row(e.comment(j), "build"), html) {
					t.Errorf("the build row should link the run: %q", row(e.comment(j), "build"))
				}
			})
		}
	}
}

func TestWorkflowRunIgnoresUnknownAndFinishedRuns(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, payload string }{
		{"not completed", `{"action":"in_progress","workflow_run":{"id":1},"repository":{"full_name":"octo/app"}}`},
		{"a run ai3 did not start", `{"action":"completed","workflow_run":{"id":99,"display_title":"nightly"},"repository":{"full_name":"octo/app"}}`},
		{"a job that does not exist", `{"action":"completed","workflow_run":{"id":98,"display_title":"x ai3[gone-1/build]"},"repository":{"full_name":"octo/app"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.svc.HandleWorkflowRun(e.ctx, "d1", []byte(tt.payload)); err != nil {
				t.Errorf("got %v, want ignored", err)
			}
		})
	}
	// A finished step's run completing again (a redelivery) is ignored.
	j, arn := e.start(actionsWorkflow(), nil)
	e.waitRun(j.ID, "build")
	run := e.gh.Runs()[0]
	e.gh.complete(t, run.ID, "success")
	e.wait(arn, j.ID)
	var completed []byte
	for _, w := range e.gh.Webhooks() {
		if w.Event == "workflow_run" && strings.Contains(string(w.Payload), `"action":"completed"`) {
			completed = w.Payload
		}
	}
	if completed == nil {
		t.Fatal("the double sent no completed workflow_run")
	}
	before := e.store.Updates()
	redelivered := strings.Replace(string(completed), `"conclusion":"success"`, `"conclusion":"failure"`, 1)
	if err := e.svc.HandleWorkflowRun(e.ctx, "d3", []byte(redelivered)); err != nil {
		t.Fatal(err)
	}
	j2, _ := e.store.Get(e.ctx, j.ID)
	if j2.Status != jobs.Succeeded || e.store.Updates() != before {
		t.Errorf("a redelivered completion changed the job: %s", j2.Status)
	}
	if err := e.svc.HandleWorkflowRun(e.ctx, "d2", []byte(`{`)); err == nil {
		t.Error("a payload that is not JSON must be refused")
	}
}

// A job started from a review comment keeps its status comment where the
// run command posted it — the pull request's conversation — and every step
// edits that comment; the approval request is a reply in the review thread,
// where the run was asked for.
func TestJobStartedFromAReviewThread(t *testing.T) {
	e := newEnv(t)
	review, err := e.gh.ReviewCommentAs(repo, e.gh.pr, "alice", "main.go", 3, "@ai3-mvp run release")
	if err != nil {
		t.Fatal(err)
	}
	j, arn := e.startOn(approvalWorkflow(), nil, jobs.Thread{Repo: repo, Kind: jobs.ReviewThread, Number: e.gh.pr, CommentID: review})
	e.waitStep(j.ID, "approval", jobs.Waiting)
	var replies []string
	eventually(t, 30*time.Second, "the approval request in the review thread", func() bool {
		cs, _, err := e.gh.client().PullRequests.ListComments(e.ctx, "octo", "app", e.gh.pr, nil)
		if err != nil {
			t.Fatal(err)
		}
		replies = replies[:0]
		for _, c := range cs {
			if c.GetInReplyTo() == review {
				replies = append(replies, c.GetBody())
			}
		}
		return len(replies) > 0
	})
	if len(replies) != 1 || !strings.Contains(replies[0], "Approval needed") {
		t.Errorf("review thread replies %q, want one approval request", replies)
	}
	if err := e.svc.Resolve(e.ctx, j.ID, "approval", steps.Outcome{Output: map[string]string{"approved_by": "bob"}, Detail: "approved by @bob"}); err != nil {
		t.Fatal(err)
	}
	_, j = e.wait(arn, j.ID)
	if j.Status != jobs.Succeeded {
		t.Fatalf("job %s (%s %s), want succeeded", j.Status, j.Error, j.Cause)
	}
	body := e.comment(j) // an issue comment on the pull request
	if !strings.Contains(row(body, "approval"), "approved by @bob") || !strings.Contains(row(body, "after"), "succeeded") {
		t.Errorf("the status comment should show every step's end:\n%s", body)
	}
}
