package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// Deps is what the built-in commands work with; the wiring (lambdas/comment,
// ai3 dev) fills it with the adapters of its shape.
type Deps struct {
	Bot        string // the handle, for help texts
	Jobs       jobs.Store
	Executor   jobs.Executor
	Authorizer Authorizer
	Tokens     UserTokens
	LoginURL   string
	// Render returns the status comment body of a job.
	Render func(j *jobs.Job) string
	// JobURL links a job's execution (console or dashboard); optional.
	JobURL func(j *jobs.Job) string
	// Decided re-renders a job's status comment after an approval was
	// decided (the steps' reporter); optional — the next step would.
	Decided func(ctx context.Context, jobID string) error
	// Pacer spaces the user's GitHub writes (the status comment a run
	// posts); nil: none.
	Pacer Pacer
	Log   *slog.Logger
	Now   func() time.Time
}

// Pacer spaces one user's GitHub writes so that everything the bot writes
// as them stays within GitHub's secondary rate limits: the same budget the
// steps' status comment updates spend (internal/jobs/pace.Pacer, kept in the
// job store).
type Pacer interface {
	// Wait returns when the user may make one more write (hold, when not
	// nil, is told of each pause first).
	Wait(ctx context.Context, userID int64, hold func(wait time.Duration) error) error
}

// pace waits for the user's next write slot; no Pacer or no user: at once.
func pace(ctx context.Context, p Pacer, userID int64) error {
	if p == nil || userID == 0 {
		return nil
	}
	if err := p.Wait(ctx, userID, nil); err != nil {
		return fmt.Errorf("wait for the user's write budget: %w", err)
	}
	return nil
}

func (d *Deps) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// NewRegistry returns a registry holding every built-in command.
func NewRegistry(d *Deps) *Registry {
	r := &Registry{}
	for _, c := range Builtins(d) {
		r.Register(c)
	}
	return r
}

// Builtins returns the built-in commands: help, ping, whoami, login, run,
// status, cancel, approve, reject.
func Builtins(d *Deps) []Command {
	return []Command{
		{Name: "help", Aliases: []string{"?"}, Usage: "help", Summary: "lists what I can do", Run: d.help},
		{Name: "ping", Usage: "ping", Summary: "checks that I am listening", Run: d.ping},
		{Name: "whoami", Usage: "whoami", Summary: "shows your login and whether you may run workflows here", Run: d.whoami},
		{Name: "login", Usage: "login", Summary: "links your GitHub account so I can act as you", Run: d.login},
		{Name: "run", Usage: "run <workflow> [key=value …]", Summary: "starts a workflow (" + strings.Join(workflows.Names(), ", ") + ")", Auth: true, Run: d.run},
		{Name: "status", Usage: "status [job]", Summary: "shows a job's state (default: the latest on this thread)", Auth: true, Run: d.status},
		{Name: "cancel", Usage: "cancel <job>", Summary: "stops a running job", Auth: true, Run: d.cancel},
		{Name: "approve", Usage: "approve <job>", Summary: "approves a job waiting for approval", Auth: true, Run: d.approve},
		{Name: "reject", Usage: "reject <job> [reason]", Summary: "rejects a job waiting for approval", Auth: true, Run: d.reject},
	}
}

func (d *Deps) help(_ context.Context, r *Request) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Write a command on a line of its own, starting with `@%s`:\n\n| command | what it does |\n|---|---|\n", d.Bot)
	for _, c := range r.Registry.Commands() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", c.Usage, c.Summary)
	}
	b.WriteString("\nWorkflows:\n")
	for _, name := range workflows.Names() {
		w, _ := workflows.Get(name)
		s, _ := workflows.SpecOf(name)
		fmt.Fprintf(&b, "- `%s` — %s\n", s.Usage(name), w.Description())
	}
	return b.String(), nil
}

func (d *Deps) ping(_ context.Context, r *Request) (string, error) {
	return fmt.Sprintf("pong (your comment reached me %s after GitHub sent it)", d.now().Sub(r.ReceivedAt).Round(time.Millisecond)), nil
}

func (d *Deps) whoami(ctx context.Context, r *Request) (string, error) {
	msg := fmt.Sprintf("You are @%s (id %d).", r.User.Login, r.User.ID)
	err := d.Authorizer.CheckInstallation(ctx, r.InstallationID, r.Thread.Repo, tokens.User{ID: r.User.ID, Login: r.User.Login})
	var denied *githubapp.Denied
	switch {
	case err == nil:
		msg += fmt.Sprintf(" Your GitHub account is connected and you may run workflows on %s.", r.Thread.Repo)
	case errors.As(err, &denied):
		msg += " You may not run workflows here: " + denied.Error() + "."
		if (denied.Reason == githubapp.NoToken || denied.Reason == githubapp.ReauthRequired) && d.LoginURL != "" {
			msg += fmt.Sprintf(" [Connect your GitHub account](%s).", d.LoginURL)
		}
	default:
		return "", err
	}
	return msg, nil
}

func (d *Deps) login(_ context.Context, _ *Request) (string, error) {
	if d.LoginURL == "" {
		return "Login is not configured on this installation.", nil
	}
	return fmt.Sprintf("[Connect your GitHub account](%s): I then act as you, so GitHub shows you as the author of everything I do for you.", d.LoginURL), nil
}

// job finds the job named by the first argument, or the latest on the
// thread when there is none; it must belong to the thread's repository.
func (d *Deps) job(ctx context.Context, r *Request, usage string) (*jobs.Job, error) {
	if len(r.Args) == 0 {
		if r.Thread.Number == 0 {
			return nil, Userf("Name the job: `@%s %s`.", d.Bot, usage)
		}
		j, err := d.Jobs.Latest(ctx, r.Thread.Repo, r.Thread.Number)
		if errors.Is(err, jobs.ErrNotFound) {
			return nil, Userf("No job was started on this thread yet.")
		}
		return j, err
	}
	j, err := d.Jobs.Get(ctx, r.Args[0])
	if errors.Is(err, jobs.ErrNotFound) || (err == nil && j.Thread.Repo != r.Thread.Repo) {
		return nil, Userf("There is no job `%s` on %s.", r.Args[0], r.Thread.Repo)
	}
	return j, err
}

func (d *Deps) status(ctx context.Context, r *Request) (string, error) {
	j, err := d.job(ctx, r, "status <job>")
	if err != nil {
		return "", err
	}
	counts := map[jobs.Status]int{}
	for _, s := range j.Steps {
		counts[s.Status]++
	}
	var parts []string
	for _, st := range []jobs.Status{jobs.Succeeded, jobs.Running, jobs.Waiting, jobs.Retrying, jobs.Pending, jobs.Failed, jobs.Skipped} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	msg := fmt.Sprintf("Job `%s` (%s, started by @%s): **%s**", j.ID, j.Workflow, j.User.Login, j.Status)
	if len(parts) > 0 {
		msg += " — steps: " + strings.Join(parts, ", ")
	}
	if j.Error != "" {
		msg += fmt.Sprintf(". Error `%s`", j.Error)
	}
	if d.JobURL != nil {
		msg += fmt.Sprintf(". [Execution](%s)", d.JobURL(j))
	}
	return msg + ".", nil
}

func (d *Deps) cancel(ctx context.Context, r *Request) (string, error) {
	if len(r.Args) != 1 {
		return "", Userf("Usage: `@%s cancel <job>`.", d.Bot)
	}
	j, err := d.job(ctx, r, "cancel <job>")
	if err != nil {
		return "", err
	}
	if j.Status.Final() {
		return fmt.Sprintf("Job `%s` already ended (%s).", j.ID, j.Status), nil
	}
	if j.ExecutionARN == "" {
		return "", Userf("Job `%s` has not started yet; try again in a moment.", j.ID)
	}
	if err := d.Executor.Stop(ctx, j.ExecutionARN, "ai3.Cancelled", "cancelled by @"+r.User.Login); err != nil {
		return "", err
	}
	return fmt.Sprintf("Cancelling job `%s` (%s) as @%s asked.", j.ID, j.Workflow, r.User.Login), nil
}

// ApprovalOutput is what a job's approval step returns when approved.
type ApprovalOutput struct {
	Decision   string `json:"decision"` // "approved"
	ApprovedBy string `json:"approved_by"`
}

// ApprovalRejected is the error an approval step fails with when rejected.
const ApprovalRejected = "ai3.ApprovalRejected"

func (d *Deps) approve(ctx context.Context, r *Request) (string, error) {
	return d.decide(ctx, r, true)
}

func (d *Deps) reject(ctx context.Context, r *Request) (string, error) {
	return d.decide(ctx, r, false)
}

// decide completes the task token of the job's waiting approval step.
func (d *Deps) decide(ctx context.Context, r *Request, approve bool) (string, error) {
	verb := map[bool]string{true: "approve", false: "reject"}[approve]
	if len(r.Args) == 0 {
		return "", Userf("Usage: `@%s %s <job>`.", d.Bot, verb)
	}
	j, err := d.job(ctx, r, verb+" <job>")
	if err != nil {
		return "", err
	}
	spec, err := workflows.SpecOf(j.Workflow)
	if err != nil {
		return "", err
	}
	if spec.ApproverMustDiffer && r.User.ID == j.User.ID {
		return "", Userf("@%s, you started job `%s`; someone else must %s it.", r.User.Login, j.ID, verb)
	}
	step, token := waitingApproval(j)
	if token == "" {
		return "", Userf("Job `%s` is not waiting for an approval (%s).", j.ID, j.Status)
	}
	reason := strings.Join(r.Args[1:], " ")
	if approve {
		out := fmt.Sprintf(`{"decision":"approved","approved_by":%q}`, r.User.Login)
		err = d.Executor.SendTaskSuccess(ctx, token, []byte(out))
	} else {
		cause := "rejected by @" + r.User.Login
		if reason != "" {
			cause += ": " + reason
		}
		err = d.Executor.SendTaskFailure(ctx, token, ApprovalRejected, cause)
	}
	if errors.Is(err, jobs.ErrTaskNotFound) {
		return "", Userf("Job `%s`'s approval was already decided or has ended.", j.ID)
	}
	if err != nil {
		return "", err
	}
	if err := d.recordDecision(ctx, j.ID, step, r.User.Login, approve, reason); err != nil {
		return "", err
	}
	if d.Decided != nil {
		if err := d.Decided(ctx, j.ID); err != nil && d.Log != nil {
			// The comment catches up at the next step; the decision stands.
			d.Log.Warn("status comment after a decision", "job_id", j.ID, "err", err)
		}
	}
	if approve {
		return fmt.Sprintf("@%s approved job `%s` (%s); it goes on.", r.User.Login, j.ID, j.Workflow), nil
	}
	return fmt.Sprintf("@%s rejected job `%s` (%s); it stops.", r.User.Login, j.ID, j.Workflow), nil
}

// waitingApproval returns the approval step of j that holds a task token.
func waitingApproval(j *jobs.Job) (string, string) {
	w, err := workflows.Get(j.Workflow)
	if err != nil {
		return "", ""
	}
	for _, s := range w.Steps() {
		if kind, _ := s.Task().Arg("kind").(string); kind != "approval" {
			continue
		}
		if st := j.Steps[s.Name()]; st != nil && st.Status == jobs.Waiting && st.TaskToken != "" {
			return s.Name(), st.TaskToken
		}
	}
	return "", ""
}

// recordDecision marks the approval step decided in the job record, so the
// status comment shows who decided even before the next step reports.
func (d *Deps) recordDecision(ctx context.Context, id, step, login string, approve bool, reason string) error {
	for range 10 {
		j, err := d.Jobs.Get(ctx, id)
		if err != nil {
			return err
		}
		st := j.Steps[step]
		if st == nil || st.Status.Final() {
			return nil
		}
		st.TaskToken = ""
		st.FinishedAt = d.now()
		if approve {
			st.Status, st.Detail = jobs.Succeeded, "approved by @"+login
		} else {
			st.Status, st.Detail, st.Error = jobs.Failed, "rejected by @"+login, ApprovalRejected
			st.Cause = reason
		}
		j.UpdatedAt = d.now()
		if err := d.Jobs.Update(ctx, j); errors.Is(err, jobs.ErrConflict) {
			continue
		} else {
			return err
		}
	}
	return fmt.Errorf("record decision on job %s: %w", id, jobs.ErrConflict)
}
