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

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
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

// workflowKey holds the workflow file a github.actions step dispatches,
// written before dispatchKey: a run that ai3 has not recorded (no runKey)
// completes the step only if it is a run of that file (see refuseRun). No
// other kind writes it, so it also says the step is a github.actions step.
func workflowKey(jobID, step string) string { return "actions#" + jobID + "#" + step }
func runKey(repo string, runID int64) string {
	return "run#" + repo + "#" + strconv.FormatInt(runID, 10)
}

// actionsArgs are github.actions' arguments.
type actionsArgs struct {
	WorkflowFile string            `json:"workflow_file"`
	Ref          string            `json:"ref"`
	Inputs       map[string]string `json:"inputs"`
	// PinHead dispatches only while the job's ref still points at the
	// commit the job started at (see checkPin).
	PinHead bool `json:"pin_head"`
}

// runActions dispatches workflow_file at the job's ref with the user's token
// and waits for the run's workflow_run "completed" webhook. Arguments:
// workflow_file (required), ref (default: the job's ref, else the
// repository's default branch), inputs (string map; ai3_run is added),
// pin_head (bool: refuse to dispatch once the job's branch has moved on from
// the job's commit, see checkPin).
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
	if _, err := store.PutRef(ctx, workflowKey(c.Job.ID, c.Step), a.WorkflowFile, 0); err != nil && !errors.Is(err, jobs.ErrExists) {
		return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: %v", c.Step, err)}
	}
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
		// Only a dispatch still to be made is checked: a step whose earlier
		// attempt dispatched waits for the run it started.
		if a.PinHead {
			if err := c.checkPin(ctx, a); err != nil {
				_ = store.SwapRef(ctx, dk, "dispatching", "") // nothing was sent
				return Result{}, err
			}
		}
		// The dispatch is a write made with the user's token: it takes a
		// slot of their budget, as the status comment writes do.
		if err := c.pace(ctx, nil); err != nil {
			_ = store.SwapRef(ctx, dk, "dispatching", "") // nothing was sent: the next attempt dispatches at once
			return Result{}, err
		}
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

// checkPin is pin_head's check before a dispatch. GitHub dispatches at a
// branch, so the run gets whatever the branch's head is at that moment; for a
// job that names its commit (HeadSHA: pull request, review and commit
// threads) checkPin reads the branch with the user's token and refuses, with
// a CheckFailedError (not retried), when it no longer points at that commit:
// a push since the job started (after an approval, say) would otherwise ship
// a commit that nobody built, approved or was shown. It checks only a step
// that dispatches at the job's own ref; a step whose ref argument names
// another ref dispatches there unchecked, since the job's commit says nothing
// about that ref. A job ref that is not a branch (a tag) cannot be checked
// and is refused: a tag can be moved as easily as a branch.
func (c *Call) checkPin(ctx context.Context, a actionsArgs) error {
	j := c.Job
	if j.HeadSHA == "" || j.Ref == "" || (a.Ref != "" && a.Ref != j.Ref) {
		return nil
	}
	notBranch := &CheckFailedError{Msg: fmt.Sprintf("step %s: pin_head: %s has no branch %s (a tag?), so ai3 cannot check that it still points at %s, the commit this job started at: %s was not dispatched. Give a branch as ref=, or run %s from an issue, where the job names no commit.",
		c.Step, j.Thread.Repo, j.Ref, shortSHA(j.HeadSHA), a.WorkflowFile, j.Workflow)}
	if strings.HasPrefix(j.Ref, "refs/") && !strings.HasPrefix(j.Ref, "refs/heads/") {
		return notBranch
	}
	branch := strings.TrimPrefix(j.Ref, "refs/heads/")
	head, ok, err := githubapp.BranchHead(ctx, c.GitHub, j.Thread.Repo, branch)
	switch {
	case err != nil:
		return c.githubError("read branch "+branch, err)
	case !ok:
		return notBranch
	}
	if !strings.EqualFold(head, j.HeadSHA) {
		return &CheckFailedError{Msg: fmt.Sprintf("step %s: %s is now at %s, not at %s, the commit this job started at: %s was not dispatched (pin_head). Run %s again for the new commit.",
			c.Step, branch, shortSHA(head), shortSHA(j.HeadSHA), a.WorkflowFile, j.Workflow)}
	}
	return nil
}

// shortSHA is a commit id's first seven characters, as GitHub shows it.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// findRun returns the step's run: by id when the dispatch returned one,
// else the newest run of the workflow whose name carries corr (polled a few
// times: a dispatched run is listed within seconds) and that refuseRun
// accepts as the user's dispatch of the step's workflow file. nil: not found.
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
		runs, err := c.listRuns(ctx, a.WorkflowFile)
		if err != nil {
			return nil, c.githubError("list runs of "+a.WorkflowFile, err)
		}
		for _, r := range runs {
			if !strings.Contains(r.GetDisplayTitle(), corr) && !strings.Contains(r.GetName(), corr) {
				continue
			}
			if why := refuseRun(r.WorkflowRun, r.Path, c.Job, a.WorkflowFile); why != "" {
				c.svc.d.Log.InfoContext(ctx, "a run carrying the step's correlation id is not its dispatch: ignored",
					"job_id", c.Job.ID, "step", c.Step, "run_id", r.GetID(), "reason", why)
				continue
			}
			return r.WorkflowRun, nil
		}
		if err := sleep(ctx, time.Duration(200*(try+1))*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// pathedRun is a workflow run as GitHub sends it (REST answers and the
// workflow_run webhook) with its workflow file's path, which go-github's
// WorkflowRun does not decode.
type pathedRun struct {
	*github.WorkflowRun
	Path string `json:"path"` // e.g. ".github/workflows/build.yml"
}

// listRuns lists the newest workflow_dispatch runs of workflow file made by
// the job's user (GitHub filters; refuseRun checks again).
func (c *Call) listRuns(ctx context.Context, file string) ([]pathedRun, error) {
	owner, repo, _ := strings.Cut(c.Job.Thread.Repo, "/")
	q := url.Values{"event": {"workflow_dispatch"}, "actor": {c.Job.User.Login}, "per_page": {"50"}}
	u := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/runs?%s", owner, repo, url.PathEscape(file), q.Encode())
	req, err := c.GitHub.NewRequest("GET", u, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		WorkflowRuns []pathedRun `json:"workflow_runs"`
	}
	if _, err := c.GitHub.Do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.WorkflowRuns, nil
}

// refuseRun says why run (whose workflow path is path) cannot be the run
// that job j's github.actions step dispatched of workflow file, or returns
// "" when it can be. ai3 dispatches with the user's token, so that run's
// event is workflow_dispatch, its workflow is .github/workflows/<file>, its
// repository is the job's and the user triggered it. The ai3[job/step] in
// a run's name proves nothing alone: a pull request's title or a commit
// message is the display title of the runs it triggers.
func refuseRun(run *github.WorkflowRun, path string, j *jobs.Job, file string) string {
	want := ".github/workflows/" + file
	p, _, _ := strings.Cut(path, "@") // a path may name the ref: build.yml@main
	switch {
	case run.GetEvent() != "workflow_dispatch":
		return fmt.Sprintf("the run's event is %q, not workflow_dispatch", run.GetEvent())
	case p != want:
		return fmt.Sprintf("the run's workflow is %q, not the step's %q", path, want)
	case run.GetRepository().GetFullName() != j.Thread.Repo:
		return fmt.Sprintf("the run is of repository %q, not the job's %q", run.GetRepository().GetFullName(), j.Thread.Repo)
	case !triggeredBy(run, j.User):
		return fmt.Sprintf("the run was triggered by %q, not by the job's user %q", triggerer(run).GetLogin(), j.User.Login)
	}
	return ""
}

// triggerer is who triggered run: its triggering_actor (who re-ran it, for
// a re-run), else its actor.
func triggerer(run *github.WorkflowRun) *github.User {
	if run.TriggeringActor != nil {
		return run.TriggeringActor
	}
	return run.Actor
}

// triggeredBy reports whether user u triggered run: the triggerer has u's
// id or u's login (GitHub compares logins without case).
func triggeredBy(run *github.WorkflowRun, u jobs.User) bool {
	a := triggerer(run)
	switch {
	case a == nil:
		return false
	case a.GetID() != 0 && a.GetID() == u.ID:
		return true
	}
	return a.GetLogin() != "" && strings.EqualFold(a.GetLogin(), u.Login)
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
