package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// JobID is the id of the job a command line starts: the workflow name and a
// hash of the delivery and the line's index. It is also the execution's
// name, so a retried delivery finds its job and Step Functions refuses a
// second execution of it.
func JobID(workflow, deliveryID string, index int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", deliveryID, index))
	return workflow + "-" + hex.EncodeToString(sum[:])[:10]
}

// LockKey is the job store reference a workflow with per-repository
// concurrency holds while a job runs.
func LockKey(workflow, repo string) string { return "lock#" + workflow + "#" + repo }

// run starts a workflow: job record, status comment, execution. Every step is
// idempotent, so a retried delivery picks up where the last attempt stopped.
func (d *Deps) run(ctx context.Context, r *Request) (string, error) {
	if len(r.Args) == 0 {
		return "", Userf("Which workflow? `@%s run <workflow>` with one of: %s.", d.Bot, strings.Join(workflows.Names(), ", "))
	}
	name := strings.ToLower(r.Args[0])
	spec, err := workflows.SpecOf(name)
	if errors.Is(err, workflows.ErrUnknown) {
		return "", Userf("There is no workflow `%s`. Known: %s.", r.Args[0], strings.Join(workflows.Names(), ", "))
	}
	if err != nil {
		return "", err
	}
	args, err := spec.Parse(r.Args[1:])
	if err != nil {
		return "", Userf("%s. Usage: `@%s %s`.", upperFirst(err.Error()), d.Bot, spec.Usage(name))
	}
	if r.Thread.Kind == jobs.CommitThread && spec.Has("ref") && args["ref"] == "" {
		// GitHub dispatches a workflow at a branch or tag, never at a bare
		// commit: say so now rather than fail the first Actions step.
		return "", Userf("GitHub Actions runs a workflow at a branch or tag, not at a commit. Say which: `@%s run %s ref=<branch or tag>`, or ask on the pull request.", d.Bot, name)
	}
	id := JobID(name, r.DeliveryID, r.Index)
	j, err := d.Jobs.Get(ctx, id)
	created := false // this attempt made the job, so no status comment can exist yet
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		if j, err = d.newJob(ctx, r, id, name, args); err != nil {
			return "", err
		}
		if j.Lock = lockOf(spec, name, j.Thread.Repo); j.Lock != "" {
			if err := d.lock(ctx, j); err != nil {
				return "", err
			}
		}
		if err := d.Jobs.Create(ctx, j); errors.Is(err, jobs.ErrExists) {
			if j, err = d.Jobs.Get(ctx, id); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", err
		} else {
			created = true
		}
	case err != nil:
		return "", err
	}
	if j.StatusCommentID == 0 {
		if err := d.postStatus(ctx, r, j, !created); err != nil {
			return "", err
		}
	}
	if j.ExecutionARN == "" {
		if err := d.start(ctx, j); err != nil {
			return "", err
		}
	}
	return "", nil // the status comment is the answer
}

func lockOf(spec workflows.Spec, workflow, repo string) string {
	if spec.Concurrency == "repo" {
		return LockKey(workflow, repo)
	}
	return ""
}

func (d *Deps) newJob(ctx context.Context, r *Request, id, workflow string, args map[string]string) (*jobs.Job, error) {
	now := d.now()
	j := &jobs.Job{ID: id, Workflow: workflow, Thread: r.Thread, User: r.User, InstallationID: r.InstallationID,
		Args: args, DeliveryID: r.DeliveryID, Status: jobs.Queued, CreatedAt: now, UpdatedAt: now,
		HeadSHA: r.HeadSHA, Ref: r.HeadRef, Steps: map[string]*jobs.Step{}}
	w, err := workflows.Get(workflow)
	if err != nil {
		return nil, err
	}
	for _, s := range w.Steps() {
		j.Steps[s.Name()] = &jobs.Step{Status: jobs.Pending}
	}
	if err := d.resolveRef(ctx, r, j); err != nil {
		return nil, err
	}
	if ref := args["ref"]; ref != "" && ref != j.Ref {
		// An explicit ref is what the job runs: its commit now, not the
		// thread's, is the one the job pins (deploy's steps refuse a branch
		// that moved since); a tag or unknown ref pins nothing.
		sha, _, err := githubapp.BranchHead(ctx, r.GitHub, r.Thread.Repo, ref)
		if err != nil {
			return nil, err
		}
		j.Ref, j.HeadSHA = ref, sha
	}
	return j, nil
}

// resolveRef fills the ref the workflow runs at: a pull request's head, a
// commit comment's commit, else the repository's default branch — read with
// the user's token.
func (d *Deps) resolveRef(ctx context.Context, r *Request, j *jobs.Job) error {
	if j.Ref != "" || j.Thread.Kind == jobs.CommitThread {
		if j.Ref == "" {
			j.Ref = j.HeadSHA
		}
		return nil
	}
	owner, repo, _ := strings.Cut(j.Thread.Repo, "/")
	if r.IsPullRequest {
		pr, _, err := r.GitHub.PullRequests.Get(ctx, owner, repo, j.Thread.Number)
		if err != nil {
			return fmt.Errorf("read pull request %s#%d: %w", j.Thread.Repo, j.Thread.Number, err)
		}
		j.HeadSHA, j.Ref = pr.GetHead().GetSHA(), pr.GetHead().GetRef()
		return nil
	}
	rp, _, err := r.GitHub.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return fmt.Errorf("read repository %s: %w", j.Thread.Repo, err)
	}
	j.Ref = rp.GetDefaultBranch()
	return nil
}

// lock takes the workflow's per-repository lock for j, taking over a lock
// whose job has ended; a live holder refuses the run, naming its job.
func (d *Deps) lock(ctx context.Context, j *jobs.Job) error {
	for range 5 {
		holder, err := d.Jobs.PutRef(ctx, j.Lock, j.ID, 0)
		if err == nil || (errors.Is(err, jobs.ErrExists) && holder == j.ID) {
			return nil
		}
		if !errors.Is(err, jobs.ErrExists) {
			return err
		}
		h, err := d.Jobs.Get(ctx, holder)
		switch {
		case errors.Is(err, jobs.ErrNotFound):
			// The holder never got its record written (crashed first).
		case err != nil:
			return err
		case !h.Status.Final():
			return Userf("`%s` is already running on %s as job `%s` (%s, started by @%s). Wait for it to end, or `@%s cancel %s`.",
				j.Workflow, j.Thread.Repo, h.ID, h.Status, h.User.Login, d.Bot, h.ID)
		}
		if err := d.Jobs.SwapRef(ctx, j.Lock, holder, j.ID); err == nil {
			return nil
		} else if !errors.Is(err, jobs.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("take lock %s: %w", j.Lock, jobs.ErrConflict)
}

// postStatus posts the job's status comment with the user's token and
// records its id. On a retry (lookup) it first looks for the comment an
// earlier attempt posted, by its marker; a job this attempt created cannot
// have one, and listing a long thread is the slowest part of a start.
func (d *Deps) postStatus(ctx context.Context, r *Request, j *jobs.Job, lookup bool) error {
	var (
		c     githubapp.Comment
		found bool
		err   error
	)
	if lookup {
		m := jobs.Marker{Kind: "status", ID: j.ID}
		if c, found, err = githubapp.FindMarked(ctx, r.GitHub, j.Thread, j.CreatedAt.Add(-time.Minute), m); err != nil {
			return err
		}
	}
	if !found {
		if err := pace(ctx, d.Pacer, r.User.ID); err != nil {
			return err
		}
		if c, err = githubapp.Post(ctx, r.GitHub, j.Thread, d.Render(j)); err != nil {
			return err
		}
	}
	return d.update(ctx, j, func(j *jobs.Job) { j.StatusCommentID = c.ID; j.Rendered = j.Version })
}

// start starts the job's execution (named after the job: idempotent) and
// records its ARN; a refusal fails the job and frees its lock.
func (d *Deps) start(ctx context.Context, j *jobs.Job) error {
	arn, err := d.Executor.Start(ctx, j.Workflow, j.ID, jobs.InputOf(j).JSON())
	if errors.Is(err, jobs.ErrExecutionExists) || errors.Is(err, jobs.ErrNotFound) {
		if d.Log != nil {
			d.Log.Error("execution refused", "job_id", j.ID, "err", err)
		}
		ferr := d.update(ctx, j, func(j *jobs.Job) {
			j.Status, j.Error, j.Cause, j.FinishedAt = jobs.Failed, "ai3.StartFailed", err.Error(), d.now()
		})
		if j.Lock != "" {
			_ = d.Jobs.SwapRef(ctx, j.Lock, j.ID, "")
		}
		return errors.Join(ferr, Userf("Job `%s` could not start: %v", j.ID, err))
	}
	if err != nil {
		return err
	}
	if d.Log != nil {
		d.Log.Info("execution started", "job_id", j.ID, "workflow", j.Workflow, "delivery_id", j.DeliveryID)
	}
	return d.update(ctx, j, func(j *jobs.Job) {
		j.ExecutionARN = arn
		if j.Status == jobs.Queued {
			j.Status = jobs.Running
		}
	})
}

// update applies f to the stored job and writes it, retrying on conflicts
// with concurrent writers (steps report as soon as the execution starts);
// j is refreshed with what was written.
func (d *Deps) update(ctx context.Context, j *jobs.Job, f func(*jobs.Job)) error {
	for range 20 {
		cur, err := d.Jobs.Get(ctx, j.ID)
		if err != nil {
			return err
		}
		f(cur)
		cur.UpdatedAt = d.now()
		err = d.Jobs.Update(ctx, cur)
		if err == nil {
			*j = *cur
			return nil
		}
		if !errors.Is(err, jobs.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("update job %s: %w", j.ID, jobs.ErrConflict)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
