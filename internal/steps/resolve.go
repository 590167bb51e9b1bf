package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Outcome ends a waiting step. Error empty: success with Output; otherwise
// the step fails with Error and Cause.
type Outcome struct {
	Output       any
	Error, Cause string
	// Detail and Link are shown on the step's row ("approved by @bob").
	Detail, Link string
}

// ErrNotWaiting is returned by Resolve for a step that holds no task token:
// it never waited, or it already ended.
var ErrNotWaiting = errors.New("the step is not waiting")

// Resolve completes a waiting step's task token with o, records the step's
// end and updates the status comment. The approve and reject commands call
// it for approval steps:
//
//	svc.Resolve(ctx, jobID, "approval", steps.Outcome{Output: map[string]string{"approved_by": "bob"}, Detail: "approved by @bob"})
//	svc.Resolve(ctx, jobID, "approval", steps.Outcome{Error: steps.ErrApprovalRejected, Cause: "rejected by @bob: not today"})
//
// A step already ended, or whose token the executor no longer knows, gives
// an error wrapping ErrNotWaiting and changes nothing.
func (s *Service) Resolve(ctx context.Context, jobID, step string, o Outcome) error {
	j, err := s.d.Store.Get(ctx, jobID)
	if err != nil {
		return fmt.Errorf("resolve step %s of job %s: %w", step, jobID, err)
	}
	st := j.Steps[step]
	if st == nil || st.TaskToken == "" || st.Status.Final() {
		return fmt.Errorf("step %s of job %s: %w", step, jobID, ErrNotWaiting)
	}
	if o.Error == "" {
		out, err := json.Marshal(o.Output)
		if err != nil {
			return fmt.Errorf("resolve step %s: encode output: %w", step, err)
		}
		err = s.d.Callbacks.SendTaskSuccess(ctx, st.TaskToken, out)
		if err != nil {
			return s.callbackError(step, jobID, err)
		}
	} else if err := s.d.Callbacks.SendTaskFailure(ctx, st.TaskToken, o.Error, o.Cause); err != nil {
		return s.callbackError(step, jobID, err)
	}
	s.finish(ctx, jobID, step, func(st *jobs.Step) {
		st.Status = jobs.Succeeded
		if o.Error != "" {
			st.Status, st.Error, st.Cause = jobs.Failed, o.Error, o.Cause
		}
		if o.Detail != "" {
			st.Detail = o.Detail
		}
		if o.Link != "" {
			st.Link = o.Link
		}
	})
	return nil
}

func (s *Service) callbackError(step, jobID string, err error) error {
	if errors.Is(err, jobs.ErrTaskNotFound) || strings.Contains(err.Error(), "TaskDoesNotExist") {
		return fmt.Errorf("step %s of job %s: %w (%w)", step, jobID, ErrNotWaiting, err)
	}
	return fmt.Errorf("complete step %s of job %s: %w", step, jobID, err)
}

// WorkflowRunHandler returns the bus handler (events.TargetWorkflowRun) that
// resumes github.actions steps when GitHub reports their run completed. It
// reads payloads through archive when they did not travel inline. Runs ai3
// did not start, steps already ended, and runs that cannot complete the step
// they name (see HandleWorkflowRun) are logged and ignored.
func (s *Service) WorkflowRunHandler(archive events.Archive) events.Handler {
	return events.HandlerFunc(events.TargetWorkflowRun, func(ctx context.Context, env *events.Envelope) error {
		body, err := events.Load(ctx, archive, env)
		if err != nil {
			return fmt.Errorf("workflow_run %s: %w", env.DeliveryID, err)
		}
		return s.HandleWorkflowRun(ctx, env.DeliveryID, body)
	})
}

// HandleWorkflowRun applies one workflow_run webhook payload. A completed
// run completes only a waiting github.actions step: the step that recorded
// the run's id when it dispatched it (runKey), or else the step its name
// carries as ai3[job/step] when refuseRun finds the run is the user's
// dispatch of that step's workflow file in the job's repository. Anything
// else is ignored with no error, so the event is not retried.
func (s *Service) HandleWorkflowRun(ctx context.Context, deliveryID string, payload []byte) error {
	var ev github.WorkflowRunEvent
	var withPath struct {
		WorkflowRun struct {
			Path string `json:"path"`
		} `json:"workflow_run"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return events.Permanent(fmt.Errorf("workflow_run %s: decode: %w", deliveryID, err))
	}
	_ = json.Unmarshal(payload, &withPath) // a path that is not a string reads as none: refuseRun refuses it
	log := s.d.Log.With("delivery_id", deliveryID, "run_id", ev.GetWorkflowRun().GetID())
	if ev.GetAction() != "completed" || ev.WorkflowRun == nil {
		return nil
	}
	repo := ev.GetRepo().GetFullName()
	ref, err := s.d.Store.GetRef(ctx, runKey(repo, ev.WorkflowRun.GetID()))
	recorded := err == nil
	if errors.Is(err, jobs.ErrNotFound) {
		// Not recorded yet (the step is still looking for it): the run name
		// says whose it is.
		m := correlationRE.FindStringSubmatch(ev.WorkflowRun.GetDisplayTitle() + " " + ev.WorkflowRun.GetName())
		if m == nil {
			log.InfoContext(ctx, "workflow_run of a run ai3 did not start: ignored", "repo", repo)
			return nil
		}
		ref, err = m[1]+"#"+m[2], nil
	}
	if err != nil {
		return fmt.Errorf("workflow_run %s: %w", deliveryID, err)
	}
	jobID, step, _ := strings.Cut(ref, "#")
	j, err := s.d.Store.Get(ctx, jobID)
	if errors.Is(err, jobs.ErrNotFound) || (err == nil && j.Thread.Repo != repo) {
		log.InfoContext(ctx, "workflow_run names no job of this repository: ignored", "job_id", jobID, "repo", repo)
		return nil
	}
	if err != nil {
		return fmt.Errorf("workflow_run %s: %w", deliveryID, err)
	}
	st := j.Steps[step]
	if st == nil || st.TaskToken == "" || st.Status.Final() {
		log.InfoContext(ctx, "workflow_run for a step that is not waiting: ignored", "job_id", jobID, "step", step)
		return nil
	}
	why, err := s.refuseCompletion(ctx, j, step, ev.WorkflowRun, withPath.WorkflowRun.Path, recorded)
	if err != nil {
		return fmt.Errorf("workflow_run %s: %w", deliveryID, err)
	}
	if why != "" {
		log.InfoContext(ctx, "workflow_run cannot complete the step it names: ignored", "job_id", jobID, "step", step, "reason", why)
		return nil
	}
	_, _ = s.d.Store.PutRef(ctx, runKey(repo, ev.WorkflowRun.GetID()), ref, 0)
	log.InfoContext(ctx, "workflow_run completed: resuming the step", "job_id", jobID, "step", step, "conclusion", ev.WorkflowRun.GetConclusion())
	return s.completeRun(ctx, jobID, step, ev.WorkflowRun)
}

// refuseCompletion says why run (whose workflow path is path) must not
// complete step of job j, or returns "" when it may. Only a github.actions
// step is completed by a run: one that claimed its dispatch (dispatchKey).
// A run ai3 recorded (recorded: runKey) is the step's own; any other must
// be the user's dispatch of the workflow file the step recorded
// (workflowKey), as refuseRun checks.
func (s *Service) refuseCompletion(ctx context.Context, j *jobs.Job, step string, run *github.WorkflowRun, path string, recorded bool) (string, error) {
	_, err := s.d.Store.GetRef(ctx, dispatchKey(j.ID, step))
	if errors.Is(err, jobs.ErrNotFound) {
		return "the step is not a github.actions step that dispatched a run", nil
	}
	if err != nil || recorded {
		return "", err
	}
	file, err := s.d.Store.GetRef(ctx, workflowKey(j.ID, step))
	if errors.Is(err, jobs.ErrNotFound) {
		return "the step recorded no workflow file to compare the run with", nil
	}
	if err != nil {
		return "", err
	}
	return refuseRun(run, path, j, file), nil
}
