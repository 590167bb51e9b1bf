package steps_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// gatePacer grants no write slot until it is opened: a user whose budget
// is spent for longer than any step may wait.
type gatePacer struct {
	open  chan struct{}
	waits atomic.Int64
}

func (p *gatePacer) Wait(ctx context.Context, _ int64, hold func(time.Duration) error) error {
	p.waits.Add(1)
	if hold != nil {
		select {
		case <-p.open:
			return nil
		default:
			if err := hold(time.Hour); err != nil { // as a Pacer says how long it will pause
				return err
			}
		}
	}
	select {
	case <-p.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *gatePacer) Penalize(context.Context, int64, time.Duration) error { return nil }

// A step does not wait on the user's spent write budget past StepWriteWait:
// the run goes on and ends with its status comments deferred, and once the
// budget allows, the finaliser writes the final comment right.
func TestStepsDoNotWaitOutTheUsersBudget(t *testing.T) {
	var flaky atomic.Int64
	p := &gatePacer{open: make(chan struct{})}
	e := newEnv(t, withFuncs(&flaky), func(_ *env, d *steps.Deps) {
		d.Pacer = p
		d.StepWriteWait = 100 * time.Millisecond
	})
	w := asl.NewWorkflow("demo", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("first", goStep("demo.ok"))
	w.Step("second", goStep("demo.ok")).Needs("first")
	w.Step("third", goStep("demo.ok")).Needs("second")
	// The executor's status events are delivered by hand below: its
	// harness calls the finaliser synchronously, which would hold the
	// executor on the closed budget (in AWS and ai3 dev they come through
	// the bus).
	e.noStatusEvents = true
	j, arn := e.start(w, nil)
	// Every step ends while no write slot is granted (the finaliser, which
	// is no step, then waits for one).
	for _, s := range []string{"first", "second", "third"} {
		e.waitStep(j.ID, s, jobs.Succeeded)
	}
	if p.waits.Load() == 0 {
		t.Fatal("no write waited for a slot: the test proves nothing")
	}
	x, err := e.ex.WaitExecution(e.ctx, arn)
	if err != nil || x.Status != "SUCCEEDED" {
		t.Fatalf("execution %v (%v)", x, err)
	}
	close(p.open)
	stop := time.Now().UnixMilli()
	if err := e.svc.Finalizer().Handle(e.ctx, steps.StatusChange{ExecutionArn: arn, Name: j.ID, Status: "SUCCEEDED", StopDate: &stop}); err != nil {
		t.Fatal(err)
	}
	d, j := e.wait(arn, j.ID)
	if d.Status != "SUCCEEDED" || j.Status != jobs.Succeeded {
		t.Fatalf("execution %s, job %s", d.Status, j.Status)
	}
	c := e.comment(j)
	for _, s := range []string{"first", "second", "third"} {
		if !strings.Contains(row(c, s), "succeeded") {
			t.Errorf("row of %s: %q", s, row(c, s))
		}
	}
}
