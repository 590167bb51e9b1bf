package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// errGaveUp: a comment write failed after its retries.
var errGaveUp = errors.New("status comment write given up")

// writeBudgetKey marks a context whose status-comment writes may wait at
// most until a deadline (see withWriteBudget).
type writeBudgetKey struct{}

// withWriteBudget bounds the time the status-comment writes made under ctx
// may spend waiting — for a slot of the user's budget and between retries —
// to d. A step's own writes run under it: the step's work and its timeout
// come first, and a write given up is not lost, only deferred (the next
// change, the finaliser or Reconcile writes the newest state).
func withWriteBudget(ctx context.Context, d time.Duration, now time.Time) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, writeBudgetKey{}, now.Add(d))
}

func writeDeadline(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(writeBudgetKey{}).(time.Time)
	return t, ok
}

// maxRounds bounds the writes of one Publish: a job that changes faster than
// its comment can be written is left to the next caller.
const maxRounds = 50

// Reporter keeps a job's status comment in step with its record; it is the
// only writer of status comments. One writer at a time holds the job's
// comment lease (a reference in the job store, shared by every Lambda and
// process); it renders the newest record, so the updates that pile up while
// it waits for the user's write budget become one write, and the comment
// never goes back to an older state. Every write, retries included, takes a
// slot of the user's budget (Deps.Pacer); a retry-after answer pauses all of
// the user's writers. A failed write is retried with backoff and never fails
// a step.
type Reporter struct{ d *Deps }

// Publish writes the job's status comment if the record changed since the
// comment was last written. When another writer holds the lease, Publish
// returns at once: that writer re-reads the record after releasing the lease
// and so writes this change too. It returns an error wrapping errRevoked
// when the user's token is gone.
func (r *Reporter) Publish(ctx context.Context, jobID string) error {
	revoked := false
	for range maxRounds {
		j, err := r.d.Store.Get(ctx, jobID)
		if err != nil {
			return fmt.Errorf("publish status of job %s: %w", jobID, err)
		}
		if j.Rendered >= j.Version {
			if revoked {
				return errRevoked
			}
			return nil
		}
		l, err := r.acquire(ctx, jobID)
		if err != nil || l == nil {
			return err // nil: the holder writes this change
		}
		if revoked {
			// Only the installation can still write: say why the job stopped.
			err = r.PublishRevoked(ctx, jobID)
		} else {
			err = r.writeLatest(ctx, l, j.User.ID)
		}
		r.release(ctx, l)
		switch {
		case errors.Is(err, errRevoked) && !revoked:
			revoked = true
		case errors.Is(err, errGaveUp), errors.Is(err, errLeaseLost):
			return nil // logged; the lease's new holder, the next change or the finaliser writes
		case err != nil:
			return err
		}
	}
	r.d.Log.WarnContext(ctx, "status comment left behind a fast-changing job", "job_id", jobID)
	return nil
}

// PublishRevoked writes the status comment with the installation's token,
// saying the user's authorization was revoked: the only write ai3 makes
// without the user's token.
func (r *Reporter) PublishRevoked(ctx context.Context, jobID string) error {
	if r.d.Installations == nil {
		return errors.New("no installation tokens to say the authorization was revoked")
	}
	return r.retrying(ctx, nil, 0, func() error {
		j, err := r.d.Store.Get(ctx, jobID)
		if err != nil {
			return err
		}
		gh, err := githubapp.InstallationClient(r.d.Installations, j.InstallationID, r.d.APIURL)
		if err != nil {
			return err
		}
		body := r.d.Render(j) + fmt.Sprintf("\n\n> [!WARNING]\n> @%s's GitHub authorization of ai3 was revoked or has expired, so this job stopped. "+
			"Log in again, then re-run it. (Written with the app's installation token: nothing else is.)\n", j.User.Login)
		id, err := putComment(ctx, gh, j, body)
		if err != nil {
			return err
		}
		return r.markRendered(ctx, jobID, j.Version, id)
	})
}

// writeLatest renders the newest record and writes it with the user's
// token, then marks that version rendered. It returns errRevoked when the
// user's token is gone, errGaveUp when GitHub kept failing.
func (r *Reporter) writeLatest(ctx context.Context, l *lease, userID int64) error {
	err := r.retrying(ctx, l, userID, func() error {
		// Read after the pacing wait: everything that changed during it
		// goes into this write.
		j, err := r.d.Store.Get(ctx, l.job)
		if err != nil || j.Rendered >= j.Version {
			return err
		}
		gh, err := githubapp.UserClient(r.d.Users, j.User.ID, r.d.APIURL)
		if err != nil {
			return err
		}
		id, err := putComment(ctx, gh, j, r.d.Render(j))
		if err != nil {
			return err
		}
		return r.markRendered(ctx, j.ID, j.Version, id)
	})
	switch {
	case err == nil, errors.Is(err, errLeaseLost), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case isRevoked(err):
		return fmt.Errorf("%w: %w", errRevoked, err)
	}
	// Given up after retries, or deferred by a step's bounded wait: the
	// step goes on, and a later writer writes the newest state.
	if errors.Is(err, errNoSlot) {
		r.d.Log.InfoContext(ctx, "status comment write deferred: the user's write budget is busy", "job_id", l.job)
	} else {
		r.d.Log.WarnContext(ctx, "status comment write failed", "job_id", l.job, "err", err)
	}
	return errGaveUp
}

// retrying calls write until it succeeds, fails for good, or WriteAttempts
// tries are spent. With a user (userID != 0) and a pacer, each try first
// waits for a slot of the user's budget; a retry-after answer pauses every
// writer of the user (Pacer.Penalize), otherwise the pause is this writer's
// own backoff. A held lease is extended over every wait, and a lease lost to
// another writer stops the tries (errLeaseLost).
func (r *Reporter) retrying(ctx context.Context, l *lease, userID int64, write func() error) error {
	deadline, bounded := writeDeadline(ctx)
	for attempt := 1; ; attempt++ {
		var err error
		if userID != 0 && r.d.Pacer != nil {
			err = r.waitSlot(ctx, l, userID, deadline, bounded)
		} else {
			err = r.extend(ctx, l, 0)
		}
		if err != nil {
			return err
		}
		if err = write(); err == nil {
			return nil
		}
		again, wait := temporary(err)
		if !again || attempt >= r.d.WriteAttempts {
			return fmt.Errorf("write status comment: %w", err)
		}
		if wait > 0 && userID != 0 && r.d.Pacer != nil {
			// The user's next slot, for every writer, comes after it.
			if perr := r.d.Pacer.Penalize(ctx, userID, wait); perr != nil {
				return perr
			}
			wait = 0
		}
		wait = max(wait, time.Duration(1<<min(attempt-1, 6))*time.Second)
		if bounded && r.d.Now().Add(wait).After(deadline) {
			return fmt.Errorf("%w: the next try would come after the step's wait: %w", errGaveUp, err)
		}
		r.d.Log.InfoContext(ctx, "status comment write retried", "job_id", l.jobID(), "attempt", attempt, "wait", wait.String(), "err", err)
		if err := r.extend(ctx, l, wait); err != nil {
			return err
		}
		if err := r.d.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// errNoSlot: the user's next write slot is further away than a bounded
// writer may wait.
var errNoSlot = fmt.Errorf("%w: no slot of the user's write budget within the step's wait", errGaveUp)

// boundedPacer is a Pacer that can decline a slot too far away without
// spending it (internal/jobs/pace.Pacer is one).
type boundedPacer interface {
	WaitWithin(ctx context.Context, userID int64, limit time.Duration, hold func(wait time.Duration) error) (bool, error)
}

// waitSlot waits for the user's next write slot, extending the lease over
// the wait; a bounded writer waits only until deadline (errNoSlot), and
// spends no slot it will not use where the Pacer allows.
func (r *Reporter) waitSlot(ctx context.Context, l *lease, userID int64, deadline time.Time, bounded bool) error {
	hold := func(wait time.Duration) error {
		if bounded && r.d.Now().Add(wait).After(deadline) {
			return errNoSlot
		}
		return r.extend(ctx, l, wait)
	}
	if bp, ok := r.d.Pacer.(boundedPacer); ok && bounded {
		got, err := bp.WaitWithin(ctx, userID, max(0, deadline.Sub(r.d.Now())), hold)
		if err == nil && !got {
			err = errNoSlot
		}
		return err
	}
	return r.d.Pacer.Wait(ctx, userID, hold)
}

// markRendered records that version v of the job is on its comment (id).
func (r *Reporter) markRendered(ctx context.Context, jobID string, v, id int64) error {
	_, err := updateJob(ctx, r.d.Store, r.d.Now, jobID, func(cur *jobs.Job) bool {
		changed := false
		if cur.StatusCommentID == 0 && id != 0 {
			cur.StatusCommentID, changed = id, true
		}
		// Rendered = the version this write makes when nothing else changed
		// since v, so the record reads as up to date.
		want := v
		if cur.Version == v {
			want = v + 1
		}
		if cur.Rendered < want {
			cur.Rendered, changed = want, true
		}
		return changed
	})
	return err
}

// putComment edits the job's status comment, or creates it when the job has
// none, and returns its id. The status comment is where the run command put
// it (githubapp.Post): the issue or pull request conversation, also for a
// job started from a review thread, or the commit's comments.
func putComment(ctx context.Context, gh *github.Client, j *jobs.Job, body string) (int64, error) {
	if j.StatusCommentID == 0 {
		c, err := githubapp.Post(ctx, gh, j.Thread, body)
		return c.ID, err
	}
	return j.StatusCommentID, githubapp.Edit(ctx, gh, j.Thread, j.StatusCommentID, body)
}
