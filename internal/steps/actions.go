package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// CorrelationInput is the workflow_dispatch input that carries a step's
// correlation id; the dispatched workflow echoes it in its run name, e.g.
//
//	on: {workflow_dispatch: {inputs: {ai3_run: {required: false}}}}
//	run-name: "build ${{ inputs.ai3_run }}"
//
// so ai3 finds the run it started even where GitHub's dispatch API does not
// return the run (return_run_details is used when it does).
const CorrelationInput = "ai3_run"

// correlation is the id a step's run carries in its name: ai3[<job>/<step>].
func correlation(jobID, step string) string { return "ai3[" + jobID + "/" + step + "]" }

var correlationRE = regexp.MustCompile(`ai3\[([A-Za-z0-9._-]+)/([A-Za-z0-9_-]+)\]`)

// References that make github.actions idempotent: dispatchKey is written
// before dispatching ("dispatching", then "dispatched" or "run <id>"), so a
// retried or re-run step finds its run instead of dispatching again;
// runKey maps a run to its job and step for the workflow_run handler.
func dispatchKey(jobID, step string) string { return "dispatch#" + jobID + "#" + step }
func runKey(repo string, runID int64) string {
	return "run#" + repo + "#" + strconv.FormatInt(runID, 10)
}

// actionsArgs are github.actions' arguments.
type actionsArgs struct {
	WorkflowFile string            `json:"workflow_file"`
	Ref          string            `json:"ref"`
	Inputs       map[string]string `json:"inputs"`
}

// runActions dispatches workflow_file at the job's ref with the user's token
// and waits for the run's workflow_run "completed" webhook. Arguments:
// workflow_file (required), ref (default: the job's ref, else the
// repository's default branch), inputs (string map; ai3_run is added).
func runActions(ctx context.Context, c *Call) (Result, error) {
	var a actionsArgs
	if err := c.Args(&a); err != nil {
		return Result{}, err
	}
	if a.WorkflowFile == "" || strings.ContainsAny(a.WorkflowFile, "/?#") {
		return Result{}, &InputError{Msg: fmt.Sprintf("step %s: workflow_file %q must name a file under .github/workflows", c.Step, a.WorkflowFile)}
	}
	if err := c.Hold(ctx, "", "dispatching "+a.WorkflowFile); err != nil {
		return Result{}, err
	}
	corr := correlation(c.Job.ID, c.Step)
	store := c.svc.d.Store
	dk := dispatchKey(c.Job.ID, c.Step)
	state, err := store.PutRef(ctx, dk, "dispatching", 0)
	fresh := err == nil
	if err != nil && !errors.Is(err, jobs.ErrExists) {
		return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: %v", c.Step, err)}
	}
	var run *github.WorkflowRun
	if !fresh {
		// Dispatched by an earlier attempt: find that run.
		if run, err = c.findRun(ctx, a, corr, state); err != nil {
			return Result{}, err
		}
		fresh = run == nil && state == "dispatching" // the earlier POST may never have been made
		if fresh {
			c.svc.d.Log.WarnContext(ctx, "an earlier dispatch left no run: dispatching again", "job_id", c.Job.ID, "step", c.Step)
		}
	}
	if fresh {
		id, err := c.dispatch(ctx, a, corr)
		if err != nil {
			return Result{}, err
		}
		next := "dispatched"
		if id != 0 {
			next = "run " + strconv.FormatInt(id, 10)
		}
		_ = store.SwapRef(ctx, dk, "dispatching", next)
		if run, err = c.findRun(ctx, a, corr, next); err != nil {
			return Result{}, err
		}
	}
	if run == nil {
		return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: the run of %s is not listed yet", c.Step, a.WorkflowFile)}
	}
	if _, err := store.PutRef(ctx, runKey(c.Job.Thread.Repo, run.GetID()), c.Job.ID+"#"+c.Step, 0); err != nil && !errors.Is(err, jobs.ErrExists) {
		return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: %v", c.Step, err)}
	}
	detail := fmt.Sprintf("%s run #%d %s", a.WorkflowFile, run.GetRunNumber(), run.GetStatus())
	if err := c.Hold(ctx, run.GetHTMLURL(), detail); err != nil {
		return Result{}, err
	}
	if run.GetStatus() == "completed" {
		// It ended before the token was stored, or while ai3 was down.
		if err := c.svc.completeRun(ctx, c.Job.ID, c.Step, run); err != nil {
			return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: %v", c.Step, err)}
		}
	}
	return Result{Wait: true, Link: run.GetHTMLURL(), Output: map[string]any{"run_id": run.GetID()}}, nil
}

// dispatch creates the workflow_dispatch event and returns the run id when
// GitHub returns the run's details (0 when it answers 204).
func (c *Call) dispatch(ctx context.Context, a actionsArgs, corr string) (int64, error) {
	owner, repo, _ := strings.Cut(c.Job.Thread.Repo, "/")
	ref := a.Ref
	if ref == "" {
		ref = c.Job.Ref
	}
	if ref == "" {
		r, _, err := c.GitHub.Repositories.Get(ctx, owner, repo)
		if err != nil {
			return 0, c.githubError("read the default branch", err)
		}
		ref = r.GetDefaultBranch()
	}
	inputs := map[string]any{CorrelationInput: corr}
	for k, v := range a.Inputs {
		inputs[k] = v
	}
	body := map[string]any{"ref": ref, "inputs": inputs, "return_run_details": true}
	u := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/dispatches", owner, repo, url.PathEscape(a.WorkflowFile))
	req, err := c.GitHub.NewRequest("POST", u, body)
	if err != nil {
		return 0, err
	}
	var out struct {
		WorkflowRunID int64 `json:"workflow_run_id"`
	}
	if _, err := c.GitHub.Do(ctx, req, &out); err != nil {
		return 0, c.githubError("dispatch "+a.WorkflowFile, err)
	}
	c.svc.d.Log.InfoContext(ctx, "dispatched workflow", "job_id", c.Job.ID, "step", c.Step, "workflow_file", a.WorkflowFile, "ref", ref, "run_id", out.WorkflowRunID)
	return out.WorkflowRunID, nil
}

// findRun returns the step's run: by id when the dispatch returned one,
// else the newest run of the workflow whose name carries corr (polled a few
// times: a dispatched run is listed within seconds). nil: not found.
func (c *Call) findRun(ctx context.Context, a actionsArgs, corr, state string) (*github.WorkflowRun, error) {
	owner, repo, _ := strings.Cut(c.Job.Thread.Repo, "/")
	if id, ok := strings.CutPrefix(state, "run "); ok {
		n, _ := strconv.ParseInt(id, 10, 64)
		run, _, err := c.GitHub.Actions.GetWorkflowRunByID(ctx, owner, repo, n)
		if err != nil {
			return nil, c.githubError("read run "+id, err)
		}
		return run, nil
	}
	for try := 0; try < 5; try++ {
		runs, _, err := c.GitHub.Actions.ListWorkflowRunsByFileName(ctx, owner, repo, a.WorkflowFile,
			&github.ListWorkflowRunsOptions{Event: "workflow_dispatch", ListOptions: github.ListOptions{PerPage: 50}})
		if err != nil {
			return nil, c.githubError("list runs of "+a.WorkflowFile, err)
		}
		for _, r := range runs.WorkflowRuns {
			if strings.Contains(r.GetDisplayTitle(), corr) || strings.Contains(r.GetName(), corr) {
				return r, nil
			}
		}
		if err := sleep(ctx, time.Duration(200*(try+1))*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// githubError classifies a failed GitHub call: revoked tokens as is,
// passing trouble as TransientError, the rest as a plain error.
func (c *Call) githubError(what string, err error) error {
	if isRevoked(err) {
		return err
	}
	if again, _ := temporary(err); again {
		return &TransientError{Msg: fmt.Sprintf("step %s: %s: %v", c.Step, what, err)}
	}
	return fmt.Errorf("step %s: %s: %w", c.Step, what, err)
}

// completeRun ends the step waiting on a completed run: success completes
// its token, any other conclusion fails it with ErrActionsFailed.
func (s *Service) completeRun(ctx context.Context, jobID, step string, run *github.WorkflowRun) error {
	name := run.GetName()
	if name == "" {
		name = "run"
	}
	o := Outcome{Link: run.GetHTMLURL(),
		Detail: fmt.Sprintf("%s #%d: %s", name, run.GetRunNumber(), run.GetConclusion())}
	if run.GetConclusion() == "success" {
		o.Output = map[string]any{"run_id": run.GetID(), "conclusion": "success", "html_url": run.GetHTMLURL()}
	} else {
		o.Error = ErrActionsFailed
		o.Cause = fmt.Sprintf("GitHub Actions run concluded %s: %s", or(run.GetConclusion(), "without a conclusion"), run.GetHTMLURL())
	}
	err := s.Resolve(ctx, jobID, step, o)
	if errors.Is(err, ErrNotWaiting) {
		s.d.Log.InfoContext(ctx, "run completion not applied", "job_id", jobID, "step", step, "run_id", run.GetID(), "reason", err.Error())
		return nil
	}
	return err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
