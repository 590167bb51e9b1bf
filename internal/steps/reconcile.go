package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Describer describes executions (jobs.Executor's Describe).
type Describer interface {
	Describe(ctx context.Context, arn string) (*jobs.Execution, error)
}

// ExpressLimit is how long an EXPRESS execution can run: five minutes in
// AWS, whatever the machine's TimeoutSeconds says.
const ExpressLimit = 5 * time.Minute

// expressGrace is how long after ExpressLimit a job of an EXPRESS workflow
// that is still running is taken to have timed out: its steps end it, and
// AWS neither sends status events for EXPRESS executions nor describes them.
const expressGrace = time.Minute

// ReconcileLimit is how many of the newest jobs Reconcile looks at.
const ReconcileLimit = 200

// scheduledEvent is the detail-type of EventBridge's scheduled rules.
const scheduledEvent = "Scheduled Event"

// Reconcile repairs what a lost status event or a crash left behind among
// the newest limit jobs, and returns how many it repaired:
//   - a job that ended but whose status comment does not show it yet (the
//     writer crashed, its lease lapsed, or its pacing outlasted the Lambda)
//     gets its comment written;
//   - a running job whose execution ended (its status event was lost) is
//     finished from the execution's description;
//   - a running job of an EXPRESS workflow older than ExpressLimit plus a
//     minute is finished TIMED_OUT: its steps end it, and when none could
//     (the execution timed out or its report step never ran) nothing else
//     will, since AWS sends no events for EXPRESS executions and does not
//     describe them.
//
// With no Deps.Executions only the first repair is made. One job's failure
// is logged and the others go on: the next run tries it again, and a job
// that can never be repaired leaves the newest limit in time rather than
// failing every run. The error is the listing's (or ctx's).
func (f *Finalizer) Reconcile(ctx context.Context, limit int) (int, error) {
	s := f.s
	list, err := s.d.Store.List(ctx, limit, time.Time{})
	if err != nil {
		return 0, fmt.Errorf("reconcile jobs: %w", err)
	}
	repaired := 0
	for _, j := range list {
		if ctx.Err() != nil {
			return repaired, ctx.Err()
		}
		did, err := f.reconcile(ctx, j)
		if err != nil {
			s.d.Log.WarnContext(ctx, "reconcile job", "job_id", j.ID, "status", j.Status, "err", err)
			continue
		}
		if did {
			repaired++
		}
	}
	return repaired, nil
}

func (f *Finalizer) reconcile(ctx context.Context, j *jobs.Job) (bool, error) {
	s := f.s
	switch {
	case j.Status.Final() && j.Rendered < j.Version:
		err := s.rep.Publish(ctx, j.ID)
		if errors.Is(err, errRevoked) {
			err = s.rep.PublishRevoked(ctx, j.ID)
		}
		return err == nil, err
	case j.Status.Final() || j.ExecutionARN == "" || s.d.Executions == nil:
		return false, nil
	}
	express := s.d.Express != nil && s.d.Express(j.Workflow)
	d, err := s.d.Executions.Describe(ctx, j.ExecutionARN)
	if express && (err != nil || d.Status == "RUNNING") {
		// AWS describes no EXPRESS execution: the job's age decides.
		if s.d.Now().Sub(j.CreatedAt) <= ExpressLimit+expressGrace {
			return false, nil
		}
		cause := fmt.Sprintf("the EXPRESS execution reported no result within %s", ExpressLimit)
		timeout := "States.Timeout"
		return true, f.Handle(ctx, StatusChange{ExecutionArn: j.ExecutionARN, Name: j.ID, Status: "TIMED_OUT", Error: &timeout, Cause: &cause})
	}
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		return false, nil // not started yet, or forgotten: nothing to learn
	case err != nil:
		return false, err
	case d.Status == "RUNNING":
		return false, nil
	}
	c := StatusChange{ExecutionArn: d.ARN, Name: j.ID, Status: d.Status}
	if d.Error != "" {
		c.Error = &d.Error
	}
	if d.Cause != "" {
		c.Cause = &d.Cause
	}
	if !d.Stop.IsZero() {
		stop := d.Stop.UnixMilli()
		c.StopDate = &stop
	}
	if len(d.Output) > 0 {
		out := string(d.Output)
		c.Output = &out
	}
	return true, f.Handle(ctx, c)
}

// isScheduled reports whether raw is an EventBridge scheduled event.
func isScheduled(raw json.RawMessage) bool {
	var ev struct {
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(raw, &ev) == nil && ev.DetailType == scheduledEvent
}
