package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// StatusChange is the detail of EventBridge's "Step Functions Execution
// Status Change" event; its fields are localsfn.StatusChange's, so the
// embedded wiring converts with steps.StatusChange(change).
type StatusChange struct {
	ExecutionArn    string         `json:"executionArn"`
	StateMachineArn string         `json:"stateMachineArn"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	StartDate       int64          `json:"startDate"`
	StopDate        *int64         `json:"stopDate"`
	Input           string         `json:"input"`
	InputDetails    map[string]any `json:"inputDetails"`
	Output          *string        `json:"output"`
	OutputDetails   map[string]any `json:"outputDetails"`
	Error           *string        `json:"error"`
	Cause           *string        `json:"cause"`
}

// Finalizer ends jobs when their executions end.
type Finalizer struct{ s *Service }

// Finalizer returns the handler of execution status changes.
func (s *Service) Finalizer() *Finalizer { return &Finalizer{s: s} }

// HandleEvent takes an EventBridge event (or its bare detail) as JSON, as
// the finalizer Lambda receives it: an execution's status change, or the
// scheduled event of the reconcile rule, which runs Reconcile.
func (f *Finalizer) HandleEvent(ctx context.Context, raw json.RawMessage) error {
	if isScheduled(raw) {
		n, err := f.Reconcile(ctx, ReconcileLimit)
		if n > 0 {
			f.s.d.Log.InfoContext(ctx, "reconciled jobs", "count", n)
		}
		return err
	}
	var ev struct {
		Detail *StatusChange `json:"detail"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("decode status change: %w", err)
	}
	if ev.Detail == nil {
		ev.Detail = &StatusChange{}
		if err := json.Unmarshal(raw, ev.Detail); err != nil {
			return fmt.Errorf("decode status change: %w", err)
		}
	}
	return f.Handle(ctx, *ev.Detail)
}

// stepFailedCause is the cause asl gives an execution a step failed.
var stepFailedCause = regexp.MustCompile(`^step (\S+) of workflow \S+ failed$`)

// Handle applies one status change to the job named like the execution:
// RUNNING marks it running; a final status records it (for a failure, which
// step failed with what error and cause), ends the steps left waiting or
// pending, releases the job's lock and writes the final status comment.
// Repeats change nothing; executions that are not jobs are ignored.
func (f *Finalizer) Handle(ctx context.Context, c StatusChange) error {
	s := f.s
	log := s.d.Log.With("job_id", c.Name, "execution", c.ExecutionArn, "status", c.Status)
	final := map[string]jobs.Status{"SUCCEEDED": jobs.Succeeded, "FAILED": jobs.Failed, "TIMED_OUT": jobs.TimedOut, "ABORTED": jobs.Aborted}
	status, isFinal := final[c.Status]
	j, err := s.update(ctx, c.Name, func(j *jobs.Job) bool {
		if j.Status.Final() {
			return false
		}
		if j.ExecutionARN == "" {
			j.ExecutionARN = c.ExecutionArn
		}
		if !isFinal {
			changed := j.Status == jobs.Queued || j.Status == ""
			j.Status = jobs.Running
			return changed
		}
		j.Status, j.Error, j.Cause = status, deref(c.Error), deref(c.Cause)
		stop := s.d.Now().UTC()
		if c.StopDate != nil {
			stop = time.UnixMilli(*c.StopDate).UTC()
		}
		j.FinishedAt = stop
		if m := stepFailedCause.FindStringSubmatch(j.Cause); m != nil && j.Steps[m[1]] != nil {
			st := j.Steps[m[1]]
			j.Error, j.Cause = or(st.Error, j.Error), fmt.Sprintf("step %s failed: %s", m[1], or(st.Cause, j.Cause))
		}
		for _, st := range j.Steps {
			st.TaskToken = ""
			switch {
			case st.Status == jobs.Pending:
				st.Status = jobs.Skipped
			case !st.Status.Final() && status == jobs.Succeeded:
				st.Status = jobs.Succeeded
			case !st.Status.Final():
				st.Status = status
				if status == jobs.Failed {
					st.Status = jobs.Aborted // stopped because another step failed
				}
			}
			if st.Status.Final() && st.FinishedAt.IsZero() && !st.StartedAt.IsZero() {
				st.FinishedAt = stop
			}
		}
		return true
	})
	if errors.Is(err, jobs.ErrNotFound) {
		log.InfoContext(ctx, "status change of an execution that is no job: ignored")
		return nil
	}
	if err != nil {
		return err
	}
	if isFinal && j.Lock != "" {
		if err := s.d.Store.SwapRef(ctx, j.Lock, j.ID, ""); err != nil && !errors.Is(err, jobs.ErrConflict) && !errors.Is(err, jobs.ErrNotFound) {
			return fmt.Errorf("release lock %s of job %s: %w", j.Lock, j.ID, err)
		}
	}
	if isFinal {
		log.InfoContext(ctx, "job finished", "error", j.Error)
	}
	err = s.rep.Publish(ctx, j.ID)
	if errors.Is(err, errRevoked) {
		return s.rep.PublishRevoked(ctx, j.ID)
	}
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
