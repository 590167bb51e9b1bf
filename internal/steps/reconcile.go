package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

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

// Reconcile repairs what a lost status event, a lost webhook or a crash
// left behind among the newest limit jobs, and returns how many repairs it
// made:
//   - a job that ended but whose status comment does not show it yet (the
//     writer crashed, its lease lapsed, or its pacing outlasted the Lambda)
//     gets its comment written;
//   - a running job whose execution ended (its status event was lost) is
//     finished from the execution's description;
//   - a running job of an EXPRESS workflow older than ExpressLimit plus a
//     minute is finished TIMED_OUT: its steps end it, and when none could
//     (the execution timed out or its report step never ran) nothing else
//     will, since AWS sends no events for EXPRESS executions and does not
//     describe them;
//   - a github.actions step of a running job that has waited on its run
//     longer than RunPollGrace has the run read with the job user's token
//     (at most one GET per waiting step per Reconcile); a run that
//     completed while its workflow_run webhook was lost completes the step
//     as the webhook would have, and a webhook that comes later changes
//     nothing. Only runs whose id the step recorded when it dispatched them
//     are read.
//
// With no Deps.Executions only the first and the last repairs are made. One
// job's failure is logged and the others go on: the next run tries it
// again, and a job that can never be repaired leaves the newest limit in
// time rather than failing every run. The error is the listing's (or ctx's).
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
		n, err := f.reconcile(ctx, j)
		repaired += n
		if err != nil {
			s.d.Log.WarnContext(ctx, "reconcile job", "job_id", j.ID, "status", j.Status, "err", err)
		}
	}
	return repaired, nil
}

// reconcile makes the repairs Reconcile describes to job j and returns how
// many it made.
func (f *Finalizer) reconcile(ctx context.Context, j *jobs.Job) (int, error) {
	s := f.s
	switch {
	case j.Status.Final() && j.Rendered < j.Version:
		err := s.rep.Publish(ctx, j.ID)
		if errors.Is(err, errRevoked) {
			err = s.rep.PublishRevoked(ctx, j.ID)
		}
		if err != nil {
			return 0, err
		}
		return 1, nil
	case j.Status.Final():
		return 0, nil
	}
	ended, running, err := f.endExecution(ctx, j)
	switch {
	case err != nil:
		return 0, err
	case ended:
		return 1, nil
	case !running:
		return 0, nil
	}
	return s.pollRuns(ctx, j)
}

// endExecution finishes running job j when its execution ended (ended), as
// the lost status event would have, or when it is an EXPRESS job past
// ExpressLimit plus a minute. running reports that the execution may still
// run: it does, or it cannot be described (no Deps.Executions, no ARN yet,
// an EXPRESS execution); an execution the executor does not know is
// neither, so nothing can complete its steps' tokens.
func (f *Finalizer) endExecution(ctx context.Context, j *jobs.Job) (ended, running bool, err error) {
	s := f.s
	if j.ExecutionARN == "" || s.d.Executions == nil {
		return false, true, nil
	}
	express := s.d.Express != nil && s.d.Express(j.Workflow)
	d, err := s.d.Executions.Describe(ctx, j.ExecutionARN)
	if express && (err != nil || d.Status == "RUNNING") {
		// AWS describes no EXPRESS execution: the job's age decides.
		if s.d.Now().Sub(j.CreatedAt) <= ExpressLimit+expressGrace {
			return false, true, nil
		}
		cause := fmt.Sprintf("the EXPRESS execution reported no result within %s", ExpressLimit)
		timeout := "States.Timeout"
		return true, false, f.Handle(ctx, StatusChange{ExecutionArn: j.ExecutionARN, Name: j.ID, Status: "TIMED_OUT", Error: &timeout, Cause: &cause})
	}
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		return false, false, nil // not started yet, or forgotten: nothing to learn
	case err != nil:
		return false, false, err
	case d.Status == "RUNNING":
		return false, true, nil
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
	return true, false, f.Handle(ctx, c)
}

// isScheduled reports whether raw is an EventBridge scheduled event.
func isScheduled(raw json.RawMessage) bool {
	var ev struct {
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(raw, &ev) == nil && ev.DetailType == scheduledEvent
}

// RunPollGrace is how long a github.actions step waits on its run before
// Reconcile reads the run itself. GitHub's workflow_run webhook normally
// resumes the step within seconds of the run's end; past this grace a step
// still waiting either has a run still going or lost its webhook, and one
// GET of the run tells which. The step's record keeps no time of its own
// last change, so the wait is counted from its StartedAt (its first
// attempt's start: the dispatch follows within seconds, and a retried step
// is read at most a little early, which costs one GET and nothing else).
const RunPollGrace = 2 * time.Minute

// runURLRE takes a run's id from its html_url, the waiting step's Link.
var runURLRE = regexp.MustCompile(`/actions/runs/([0-9]+)/?$`)

// pollRuns completes job j's github.actions steps whose runs completed
// while their workflow_run webhooks were lost (see Reconcile) and returns
// how many it completed. A step is read only when it has waited longer than
// RunPollGrace and its run's id is known from its own dispatch (runOf).
// One step's error does not keep the others from being read; a revoked
// token ends the job's reads, logged (the finaliser says so on the comment
// when the job ends).
func (s *Service) pollRuns(ctx context.Context, j *jobs.Job) (int, error) {
	now := s.d.Now()
	var names []string
	for name, st := range j.Steps {
		if st.Status == jobs.Waiting && st.TaskToken != "" && now.Sub(st.StartedAt) > RunPollGrace {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return 0, nil
	}
	sort.Strings(names)
	owner, repo, _ := strings.Cut(j.Thread.Repo, "/")
	var gh *github.Client
	var errs []error
	completed := 0
	for _, step := range names {
		id, err := s.runOf(ctx, j, step)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if id == 0 {
			continue
		}
		if gh == nil {
			gh = s.userClient(j.User.ID)
		}
		run, _, err := gh.Actions.GetWorkflowRunByID(ctx, owner, repo, id)
		if isRevoked(err) {
			s.d.Log.WarnContext(ctx, "the user's token is revoked: their waiting runs are not read",
				"job_id", j.ID, "step", step, "run_id", id, "err", err)
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("step %s: read run %d: %w", step, id, err))
			continue
		}
		if run.GetStatus() != "completed" {
			continue
		}
		s.d.Log.InfoContext(ctx, "the run of a waiting step completed without a workflow_run webhook: resuming the step",
			"job_id", j.ID, "step", step, "run_id", id, "conclusion", run.GetConclusion())
		if err := s.completeRun(ctx, j.ID, step, run); err != nil {
			errs = append(errs, err)
			continue
		}
		completed++
	}
	return completed, errors.Join(errs...)
}

// runOf returns the id of the run step of job j dispatched, or 0 when the
// step is no github.actions step or its run's id is not known from its own
// dispatch: the dispatch reference says "run <id>" (GitHub returned the
// run), or the step's Link is the html_url of a run whose run reference
// names this job and step (the step found its run by correlation id and
// recorded it). A run is never guessed by its name here.
func (s *Service) runOf(ctx context.Context, j *jobs.Job, step string) (int64, error) {
	state, err := s.d.Store.GetRef(ctx, dispatchKey(j.ID, step))
	if errors.Is(err, jobs.ErrNotFound) {
		return 0, nil // not a github.actions step: an approval, say
	}
	if err != nil {
		return 0, fmt.Errorf("step %s: %w", step, err)
	}
	if id, ok := strings.CutPrefix(state, "run "); ok {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return 0, nil
		}
		return n, nil
	}
	m := runURLRE.FindStringSubmatch(j.Steps[step].Link)
	if m == nil {
		return 0, nil // dispatching, or its run not found yet
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, nil
	}
	ref, err := s.d.Store.GetRef(ctx, runKey(j.Thread.Repo, n))
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("step %s: %w", step, err)
	case ref != j.ID+"#"+step:
		return 0, nil
	}
	return n, nil
}
