package steps_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// wide is a workflow of n Go steps that all run at once.
func wide(n int) *asl.Workflow {
	w := asl.NewWorkflow("wide", asl.Standard).ReportFailuresWith(steps.ReportTask)
	for i := range n {
		w.Step(fmt.Sprintf("s%02d", i), goStep("demo.ok"))
	}
	return w
}

func TestParallelStepsFinishingTogetherAllShowSucceeded(t *testing.T) {
	var flaky atomic.Int64
	e := newEnv(t, withFuncs(&flaky))
	j, arn := e.start(wide(20), nil)
	_, j = e.wait(arn, j.ID)
	if j.Status != jobs.Succeeded {
		t.Fatalf("job %s: %s", j.Status, j.Cause)
	}
	c := e.comment(j)
	for i := range 20 {
		name := fmt.Sprintf("s%02d", i)
		if r := row(c, name); !strings.Contains(r, "✅ succeeded") {
			t.Errorf("the final comment's row of %s: %q", name, r)
		}
	}
	if !strings.Contains(c, "20 steps: 20 ✅ succeeded") {
		t.Errorf("the final comment's summary line is wrong:\n%s", c)
	}
	// Coalescing: 20 steps × (start + end) + the finaliser would be 41
	// writes one by one; the comment lease folds concurrent updates.
	edits := writesBy(e.gh.Writes(), "alice", "/issues/comments/")
	t.Logf("comment writes for 20 parallel steps: %d", edits)
	if edits > 41 {
		t.Errorf("%d comment writes, more than one per progress event", edits)
	}
}

func TestCommentWriteFailuresNeverFailTheRun(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		fault   sandbox.Fault
		retryAf int
	}{
		{"502s", 3, sandbox.Fault{Status: 502}, 0},
		{"secondary rate limit 403 with retry-after", 2, sandbox.SecondaryRateLimit(7 * time.Second), 7},
		{"429 with retry-after", 2, sandbox.TooManyRequests(3 * time.Second), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flaky atomic.Int64
			var mu sync.Mutex
			var waits []time.Duration
			e := newEnv(t, withFuncs(&flaky), func(_ *env, d *steps.Deps) {
				d.Sleep = func(_ context.Context, w time.Duration) error {
					mu.Lock()
					waits = append(waits, w)
					mu.Unlock()
					return nil
				}
			})
			if err := e.gh.FailNext("PATCH", commentWrites, tt.n, tt.fault); err != nil {
				t.Fatal(err)
			}
			w := asl.NewWorkflow("demo", asl.Standard).ReportFailuresWith(steps.ReportTask)
			w.Step("first", goStep("demo.ok"))
			w.Step("second", goStep("demo.ok")).Needs("first")
			j, arn := e.start(w, nil)
			d, j := e.wait(arn, j.ID)
			if d.Status != "SUCCEEDED" || j.Status != jobs.Succeeded {
				t.Fatalf("execution %s, job %s", d.Status, j.Status)
			}
			c := e.comment(j)
			if !strings.Contains(row(c, "first"), "succeeded") || !strings.Contains(row(c, "second"), "succeeded") || !strings.Contains(c, "✅ demo") {
				t.Errorf("final comment:\n%s", c)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(waits) < tt.n {
				t.Errorf("%d retries for %d failed writes", len(waits), tt.n)
			}
			if tt.retryAf > 0 {
				honoured := false
				for _, w := range waits {
					honoured = honoured || w >= time.Duration(tt.retryAf)*time.Second
				}
				if !honoured {
					t.Errorf("waits %v never honour retry-after %ds", waits, tt.retryAf)
				}
			}
		})
	}
}

func TestRevokedUserFailsTheRunAndTheCommentSaysWhy(t *testing.T) {
	e := newEnv(t, func(_ *env, d *steps.Deps) {
		r := steps.NewRegistry()
		_ = r.Func("demo.ok", func(context.Context, *steps.Call) (steps.Result, error) { return steps.Result{Output: 1}, nil })
		d.Kinds = r
	})
	w := asl.NewWorkflow("demo", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("first", goStep("demo.ok"))
	w.Step("approval", asl.InvokeAndWait(steps.Task).With("kind", steps.KindApproval)).Needs("first")
	w.Step("last", goStep("demo.ok")).Needs("approval")
	j, arn := e.start(w, nil)
	e.waitStep(j.ID, "approval", jobs.Waiting)
	e.vault.revoke(1001)
	// The approval goes through; the next step cannot write as alice.
	if err := e.svc.Resolve(e.ctx, j.ID, "approval", steps.Outcome{Output: map[string]string{"approved_by": "bob"}}); err != nil {
		t.Fatal(err)
	}
	d, j := e.wait(arn, j.ID)
	if d.Status != "FAILED" || j.Status != jobs.Failed || j.Error != steps.ErrUserRevoked {
		t.Fatalf("execution %s, job %s %s (%s)", d.Status, j.Status, j.Error, j.Cause)
	}
	c := e.comment(j)
	if !strings.Contains(c, "authorization of ai3 was revoked") || !strings.Contains(c, "@alice") {
		t.Errorf("the comment should say why the job stopped:\n%s", c)
	}
	ws := e.gh.Writes()
	last := ws[len(ws)-1]
	if who(last) != "installation" {
		t.Errorf("the last write (%+v) should use the installation token", last)
	}
	for _, w := range ws {
		if who(w) == "installation" && !strings.Contains(w.Path, "/issues/comments/") {
			t.Errorf("the installation token wrote something else than the status comment: %+v", w)
		}
	}
}
