package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
)

// Callbacks completes task tokens (jobs.Executor has these methods).
type Callbacks interface {
	SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error
	SendTaskFailure(ctx context.Context, token, errName, cause string) error
}

// Pacer spaces one user's GitHub writes so that all their runs together stay
// within GitHub's secondary limits (internal/jobs/pace.Pacer keeps the
// budget in the job store, shared by every process).
type Pacer interface {
	// Wait returns when the user may make one more write. Before each pause
	// it calls hold (when not nil) with the pause's length: the Reporter
	// extends its comment lease over it.
	Wait(ctx context.Context, userID int64, hold func(wait time.Duration) error) error
	// Penalize pauses every writer of the user for retryAfter (GitHub's
	// retry-after answer to one of them).
	Penalize(ctx context.Context, userID int64, retryAfter time.Duration) error
}

// Deps wires a Service. Store, Callbacks and Users are required.
type Deps struct {
	Store     jobs.Store
	Callbacks Callbacks
	// Users hands out the requesting user's refreshed token (the vault).
	Users githubapp.UserTokens
	// Installations mints installation tokens; used only to say on the
	// status comment that the user's authorization was revoked.
	Installations githubapp.InstallationTokens
	// APIURL is GitHub's REST root (default https://api.github.com/).
	APIURL string
	// Kinds defaults to NewRegistry().
	Kinds *Registry
	// Pacer defaults to none (no pacing).
	Pacer Pacer
	// Render renders a job's status comment; default render.Status over
	// Nodes, with ExecutionURL's link.
	Render func(j *jobs.Job) string
	// Nodes returns a workflow's DAG for the comment's flowchart (e.g.
	// render.NodesOf of workflows.Get); default: the job's steps, unlinked.
	Nodes func(workflow string) []render.Node
	// ExecutionURL links a job's execution (render.ConsoleURL in AWS,
	// render.DashboardURL embedded); default none.
	ExecutionURL func(j *jobs.Job) string
	// BotHandle is the mention handle, for the approval prompt (default ai3-mvp).
	BotHandle string
	// HTTPClient is used by http.check (default: 10-second timeout).
	HTTPClient *http.Client
	Log        *slog.Logger
	Now        func() time.Time
	// Express reports whether a workflow runs as an EXPRESS state machine.
	// AWS sends no execution status events for EXPRESS executions, so for
	// them the steps end the job themselves: when every step succeeded, or
	// when a failure is reported. Nil means every workflow is STANDARD.
	Express func(workflow string) bool
	// Executions describes executions, for the Finalizer's Reconcile (the
	// jobs.Executor); nil: Reconcile only rewrites comments left behind.
	Executions Describer
	// Sleep waits between comment-write attempts (tests shorten it).
	Sleep func(ctx context.Context, d time.Duration) error
	// WriteAttempts bounds the tries of one comment write (default 6).
	WriteAttempts int
	// StepWriteWait bounds how long a step waits for its own status-comment
	// writes — for a slot of the user's write budget and between retries —
	// before it leaves the write to the next change, the finaliser or
	// Reconcile (default 10 s; a checks step may run 30 s in all).
	StepWriteWait time.Duration
}

// Service runs steps and reports their progress.
type Service struct {
	d   Deps
	rep *Reporter
}

// New returns a Service over d.
func New(d Deps) *Service {
	if d.Kinds == nil {
		d.Kinds = NewRegistry()
	}
	if d.BotHandle == "" {
		d.BotHandle = "ai3-mvp"
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = sleep
	}
	if d.WriteAttempts <= 0 {
		d.WriteAttempts = 6
	}
	if d.StepWriteWait <= 0 {
		d.StepWriteWait = 10 * time.Second
	}
	if d.Render == nil {
		d.Render = statusRenderer(d)
	}
	s := &Service{d: d}
	s.rep = &Reporter{d: &s.d}
	return s
}

// statusRenderer renders with internal/jobs/render.
func statusRenderer(d Deps) func(j *jobs.Job) string {
	return func(j *jobs.Job) string {
		var nodes []render.Node
		if d.Nodes != nil {
			nodes = d.Nodes(j.Workflow)
		}
		opts := render.Options{Now: d.Now(), Bot: d.BotHandle}
		if d.ExecutionURL != nil {
			opts.ExecutionURL = d.ExecutionURL(j)
		}
		return render.Status(j, nodes, opts)
	}
}

// Reporter returns the service's status-comment reporter.
func (s *Service) Reporter() *Reporter { return s.rep }

// userClient returns a go-github client acting as the job's user.
func (s *Service) userClient(userID int64) *github.Client {
	c, err := githubapp.UserClient(s.d.Users, userID, s.d.APIURL)
	if err != nil {
		panic(err) // only a malformed APIURL fails, a wiring bug
	}
	return c
}

// Step is the handler of the logical task "step" (a localsfn.Handler, and
// the ai3-step Lambda's handler): it runs the payload's kind with progress
// around it. A kind's error is returned as is, so its type names the ASL
// error.
func (s *Service) Step(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("decode step payload: %v", err)}
	}
	if p.Kind == "" && isReport(raw) {
		// The workflows report failures to this same task.
		return s.Report(ctx, raw)
	}
	if p.Input.Job.ID == "" || p.Step == "" {
		return nil, &InputError{Msg: "the step payload has no job (input.job.id) or no step name"}
	}
	kind, ok := s.d.Kinds.Kind(p.Kind)
	if !ok {
		return nil, &InputError{Msg: fmt.Sprintf("step %s: unknown kind %q (known: %v)", p.Step, p.Kind, s.d.Kinds.Kinds())}
	}
	log := s.d.Log.With("job_id", p.Input.Job.ID, "step", p.Step, "kind", p.Kind)
	var attempt int
	j, err := s.update(ctx, p.Input.Job.ID, func(j *jobs.Job) bool {
		st := stepOf(j, p.Step)
		st.Attempts++
		attempt = st.Attempts
		st.Status, st.Error, st.Cause, st.FinishedAt = jobs.Running, "", "", time.Time{}
		if st.StartedAt.IsZero() {
			st.StartedAt = s.d.Now().UTC()
		}
		if j.Status == jobs.Queued || j.Status == "" {
			j.Status = jobs.Running
		}
		return true
	})
	if err != nil {
		return nil, &TransientError{Msg: fmt.Sprintf("step %s: record start: %v", p.Step, err)}
	}
	log.InfoContext(ctx, "step started", "attempt", attempt)
	if err := s.rep.Publish(s.stepWrites(ctx), j.ID); errors.Is(err, errRevoked) {
		return nil, s.revoked(ctx, p.Step, j.ID, err)
	}
	// Everything the step does on GitHub is done as the user: without their
	// token it cannot start (the publish above may have been another's).
	if _, err := s.d.Users.Token(ctx, j.User.ID); isRevoked(err) {
		return nil, s.revoked(ctx, p.Step, j.ID, err)
	}
	call := &Call{Payload: p, Job: j, Attempt: attempt, GitHub: s.userClient(j.User.ID), raw: raw, svc: s}
	res, runErr := kind.Run(ctx, call)
	if runErr != nil && isRevoked(runErr) {
		return nil, s.revoked(ctx, p.Step, j.ID, runErr)
	}
	if runErr != nil {
		s.finish(s.stepWrites(ctx), j.ID, p.Step, func(st *jobs.Step) {
			st.Status = jobs.Failed
			if retryable(runErr) {
				st.Status = jobs.Retrying
			}
			st.Error, st.Cause = errorName(runErr), runErr.Error()
		})
		log.WarnContext(ctx, "step failed", "attempt", attempt, "error", errorName(runErr), "cause", runErr.Error())
		return nil, runErr
	}
	out, err := json.Marshal(res.Output)
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("step %s: encode result: %v", p.Step, err)}
	}
	s.finish(s.stepWrites(ctx), j.ID, p.Step, func(st *jobs.Step) {
		if res.Link != "" {
			st.Link = res.Link
		}
		if res.Detail != "" {
			st.Detail = res.Detail
		}
		switch {
		case res.Wait:
			if !st.Status.Final() {
				st.Status, st.TaskToken = jobs.Waiting, p.TaskToken
			}
		case res.Failed:
			st.Status = jobs.Failed
		default:
			st.Status = jobs.Succeeded
		}
		if st.Status.Final() && st.FinishedAt.IsZero() {
			st.FinishedAt = s.d.Now().UTC()
		}
	})
	log.InfoContext(ctx, "step done", "attempt", attempt, "waiting", res.Wait)
	return out, nil
}

// stepWrites bounds the waits of the status-comment writes a step makes
// itself (Deps.StepWriteWait): under a busy user's budget the step's work
// and timeout come first, and the comment catches up with the next change.
func (s *Service) stepWrites(ctx context.Context) context.Context {
	return withWriteBudget(ctx, s.d.StepWriteWait, s.d.Now())
}

// finish records a step's outcome and publishes it. A step that another
// writer already ended (a callback raced the kind) keeps its final state.
func (s *Service) finish(ctx context.Context, jobID, step string, f func(st *jobs.Step)) *jobs.Job {
	j, err := s.update(ctx, jobID, func(j *jobs.Job) bool {
		st := stepOf(j, step)
		if st.Status.Final() && st.Status != jobs.Failed {
			return false
		}
		f(st)
		if st.Status.Final() {
			st.TaskToken = ""
			if st.FinishedAt.IsZero() {
				st.FinishedAt = s.d.Now().UTC()
			}
		}
		return true
	})
	if err != nil {
		s.d.Log.ErrorContext(ctx, "record step outcome", "job_id", jobID, "step", step, "err", err)
		return nil
	}
	if s.express(j) && !j.Status.Final() && allSucceeded(j) {
		// The last step of an EXPRESS execution: no status event will come.
		arn := j.ExecutionARN
		if err := s.Finalizer().Handle(ctx, StatusChange{ExecutionArn: arn, Name: jobID, Status: "SUCCEEDED"}); err != nil {
			s.d.Log.WarnContext(ctx, "end job", "job_id", jobID, "err", err)
		}
		return j
	}
	if err := s.rep.Publish(ctx, jobID); err != nil && !errors.Is(err, errRevoked) {
		s.d.Log.WarnContext(ctx, "status comment not updated", "job_id", jobID, "err", err)
	}
	return j
}

// revoked fails the step because the user's token is gone and says so on the
// status comment with the installation's token.
func (s *Service) revoked(ctx context.Context, step, jobID string, cause error) error {
	msg := "the requesting user's GitHub authorization of ai3 was revoked or has expired; they must log in again and re-run the job"
	_, _ = s.update(ctx, jobID, func(j *jobs.Job) bool {
		st := stepOf(j, step)
		st.Status, st.Error, st.Cause, st.TaskToken = jobs.Failed, ErrUserRevoked, msg, ""
		st.FinishedAt = s.d.Now().UTC()
		return true
	})
	s.d.Log.WarnContext(ctx, "user authorization revoked", "job_id", jobID, "step", step, "err", cause)
	if err := s.rep.PublishRevoked(ctx, jobID); err != nil {
		s.d.Log.ErrorContext(ctx, "status comment not updated with the installation token", "job_id", jobID, "err", err)
	}
	return &UserAuthorizationRevoked{Msg: msg}
}

func isReport(raw json.RawMessage) bool {
	var r struct {
		Status string          `json:"status"`
		Error  json.RawMessage `json:"error"`
	}
	return json.Unmarshal(raw, &r) == nil && r.Status == "failed" && len(r.Error) > 0
}

// Report is the handler of the workflows' failure task "report": the step
// failed for good (its retries are spent), so its row says failed with the
// error and cause.
func (s *Service) Report(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var p struct {
		Step      string `json:"step"`
		Execution string `json:"execution"`
		Error     struct {
			Error string `json:"Error"`
			Cause string `json:"Cause"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("decode report payload: %v", err)}
	}
	jobID := executionName(p.Execution)
	if jobID == "" || p.Step == "" {
		return nil, &InputError{Msg: "the report payload names no execution or step"}
	}
	j := s.finish(ctx, jobID, p.Step, func(st *jobs.Step) {
		st.Status, st.Error, st.Cause = jobs.Failed, p.Error.Error, causeText(p.Error.Cause)
	})
	if j != nil && s.express(j) {
		// The execution goes on to its Fail state: end the job as AWS's
		// status event would for a STANDARD execution.
		cause := fmt.Sprintf("step %s of workflow %s failed", p.Step, j.Workflow)
		errName := asl.StepFailedError
		if err := s.Finalizer().Handle(ctx, StatusChange{ExecutionArn: p.Execution, Name: jobID, Status: "FAILED", Error: &errName, Cause: &cause}); err != nil {
			return nil, &TransientError{Msg: fmt.Sprintf("end job %s: %v", jobID, err)}
		}
	}
	return json.RawMessage(`{"reported":true}`), nil
}

// express reports whether j's workflow runs as an EXPRESS state machine.
func (s *Service) express(j *jobs.Job) bool {
	return s.d.Express != nil && s.d.Express(j.Workflow)
}

// allSucceeded reports whether every step of j succeeded (or was skipped).
func allSucceeded(j *jobs.Job) bool {
	for _, st := range j.Steps {
		if st.Status != jobs.Succeeded && st.Status != jobs.Skipped {
			return false
		}
	}
	return len(j.Steps) > 0
}

// update applies f to the job and writes it with a versioned conditional
// write, re-reading and re-applying on conflicts. f returns false to write
// nothing.
func (s *Service) update(ctx context.Context, jobID string, f func(j *jobs.Job) bool) (*jobs.Job, error) {
	return updateJob(ctx, s.d.Store, s.d.Now, jobID, f)
}

func updateJob(ctx context.Context, store jobs.Store, now func() time.Time, jobID string, f func(j *jobs.Job) bool) (*jobs.Job, error) {
	for attempt := 0; ; attempt++ {
		j, err := store.Get(ctx, jobID)
		if err != nil {
			return nil, fmt.Errorf("read job %s: %w", jobID, err)
		}
		if !f(j) {
			return j, nil
		}
		j.UpdatedAt = now().UTC()
		err = store.Update(ctx, j)
		if err == nil {
			return j, nil
		}
		if !errors.Is(err, jobs.ErrConflict) || attempt >= 50 {
			return nil, fmt.Errorf("update job %s: %w", jobID, err)
		}
		// Parallel steps update one record: back off a little, at random.
		if err := sleep(ctx, time.Duration(rand.IntN(5+attempt*2))*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// stepOf returns the step's state in j, adding it when absent.
func stepOf(j *jobs.Job, name string) *jobs.Step {
	if j.Steps == nil {
		j.Steps = map[string]*jobs.Step{}
	}
	st := j.Steps[name]
	if st == nil {
		st = &jobs.Step{Status: jobs.Pending}
		j.Steps[name] = st
	}
	return st
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
