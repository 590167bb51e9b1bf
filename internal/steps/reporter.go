package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// errGaveUp: a comment write failed after its retries.
var errGaveUp = errors.New("status comment write given up")

// leaseFor is how long a writer holds a job's comment lease between
// extensions; a crashed writer blocks the others at most this long.
const leaseFor = 90 * time.Second

// Reporter keeps a job's status comment in step with its record. One writer
// at a time holds the job's comment lease (a reference in the job store,
// shared by every Lambda); it renders the newest record, so the updates that
// pile up while it waits for the user's write budget become one write, and
// the comment never goes back to an older state. A failed write is retried
// with backoff (honouring retry-after) and never fails a step.
type Reporter struct{ d *Deps }

// Publish writes the job's status comment if the record changed since the
// comment was last written. When another writer holds the lease, Publish
// returns at once: that writer re-reads the record after releasing the lease
// and so writes this change too. It returns an error wrapping errRevoked
// when the user's token is gone.
func (r *Reporter) Publish(ctx context.Context, jobID string) error {
	revoked := false
	for {
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
		lease, ok, err := r.acquire(ctx, jobID)
		if err != nil || !ok {
			return err
		}
		if revoked {
			// Only the installation can still write: say why the job stopped.
			err = r.PublishRevoked(ctx, jobID)
		} else {
			err = r.writeLatest(ctx, jobID, lease)
		}
		r.release(ctx, jobID, lease)
		switch {
		case errors.Is(err, errRevoked) && !revoked:
			revoked = true
		case errors.Is(err, errGaveUp):
			return nil // logged; the next change or the finaliser writes again
		case err != nil:
			return err
		}
	}
}

// PublishRevoked writes the status comment with the installation's token,
// saying the user's authorization was revoked: the only write ai3 makes
// without the user's token.
func (r *Reporter) PublishRevoked(ctx context.Context, jobID string) error {
	if r.d.Installations == nil {
		return errors.New("no installation tokens to say the authorization was revoked")
	}
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
	id, err := r.write(ctx, gh, j, body, "")
	if err != nil {
		return err
	}
	return r.markRendered(ctx, jobID, j.Version, id)
}

// writeLatest renders the newest record and writes it, once the user's
// budget allows, then marks that version rendered.
func (r *Reporter) writeLatest(ctx context.Context, jobID, lease string) error {
	j, err := r.d.Store.Get(ctx, jobID)
	if err != nil {
		return err
	}
	if r.d.Pacer != nil {
		if err := r.d.Pacer.Wait(ctx, j.User.ID); err != nil {
			return fmt.Errorf("pace writes of user %d: %w", j.User.ID, err)
		}
		// Everything that changed during the wait goes into this write.
		if j, err = r.d.Store.Get(ctx, jobID); err != nil {
			return err
		}
	}
	if j.Rendered >= j.Version {
		return nil
	}
	gh, err := githubapp.UserClient(r.d.Users, j.User.ID, r.d.APIURL)
	if err != nil {
		return err
	}
	id, err := r.write(ctx, gh, j, r.d.Render(j), lease)
	if err != nil {
		if isRevoked(err) {
			return fmt.Errorf("%w: %w", errRevoked, err)
		}
		// Given up after retries: the step goes on.
		r.d.Log.WarnContext(ctx, "status comment write failed", "job_id", jobID, "err", err)
		return errGaveUp
	}
	return r.markRendered(ctx, jobID, j.Version, id)
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

// write puts body on the job's status comment (creating it when the job has
// none), retrying what GitHub says may pass. A non-empty lease is extended
// before each attempt; a lost lease stops the write (a newer writer has it).
func (r *Reporter) write(ctx context.Context, gh *github.Client, j *jobs.Job, body, lease string) (int64, error) {
	owner, repo, ok := strings.Cut(j.Thread.Repo, "/")
	if !ok {
		return 0, fmt.Errorf("job %s: repository %q is not owner/name", j.ID, j.Thread.Repo)
	}
	var err error
	for attempt := 1; ; attempt++ {
		if lease != "" {
			if err := r.extend(ctx, j.ID, lease); err != nil {
				return 0, err
			}
		}
		var id int64
		id, err = putComment(ctx, gh, owner, repo, j, body)
		if err == nil {
			return id, nil
		}
		again, wait := temporary(err)
		if !again || attempt >= r.d.WriteAttempts {
			return 0, fmt.Errorf("write status comment of job %s: %w", j.ID, err)
		}
		backoff := time.Duration(1<<min(attempt-1, 6)) * time.Second
		wait = max(wait, backoff)
		r.d.Log.InfoContext(ctx, "status comment write retried", "job_id", j.ID, "attempt", attempt, "wait", wait.String(), "err", err)
		if err := r.d.Sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}

// putComment edits the status comment, or creates it when there is none.
func putComment(ctx context.Context, gh *github.Client, owner, repo string, j *jobs.Job, body string) (int64, error) {
	id := j.StatusCommentID
	t := j.Thread
	var err error
	switch {
	case t.Kind == jobs.CommitThread && id == 0:
		var c *github.RepositoryComment
		c, _, err = gh.Repositories.CreateComment(ctx, owner, repo, t.CommitSHA, &github.RepositoryComment{Body: &body})
		id = c.GetID()
	case t.Kind == jobs.CommitThread:
		_, _, err = gh.Repositories.UpdateComment(ctx, owner, repo, id, &github.RepositoryComment{Body: &body})
	case t.Kind == jobs.ReviewThread && id == 0:
		var c *github.PullRequestComment
		c, _, err = gh.PullRequests.CreateCommentInReplyTo(ctx, owner, repo, t.Number, body, t.CommentID)
		id = c.GetID()
	case t.Kind == jobs.ReviewThread:
		_, _, err = gh.PullRequests.EditComment(ctx, owner, repo, id, &github.PullRequestComment{Body: &body})
	case id == 0:
		var c *github.IssueComment
		c, _, err = gh.Issues.CreateComment(ctx, owner, repo, t.Number, &github.IssueComment{Body: &body})
		id = c.GetID()
	default:
		_, _, err = gh.Issues.EditComment(ctx, owner, repo, id, &github.IssueComment{Body: &body})
	}
	return id, err
}

// The comment lease is the reference "comment#<job>" = "<owner> <deadline>".

func leaseKey(jobID string) string { return "comment#" + jobID }

func (r *Reporter) leaseValue(owner string) string {
	return owner + " " + strconv.FormatInt(r.d.Now().Add(leaseFor).UnixNano(), 10)
}

func leaseOwner(v string) (string, time.Time) {
	owner, dl, _ := strings.Cut(v, " ")
	n, _ := strconv.ParseInt(dl, 10, 64)
	return owner, time.Unix(0, n)
}

// acquire takes the job's comment lease, stealing an expired one.
func (r *Reporter) acquire(ctx context.Context, jobID string) (string, bool, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	owner := hex.EncodeToString(b)
	v := r.leaseValue(owner)
	cur, err := r.d.Store.PutRef(ctx, leaseKey(jobID), v, 2*leaseFor)
	switch {
	case err == nil:
		return v, true, nil
	case !errors.Is(err, jobs.ErrExists):
		return "", false, fmt.Errorf("take comment lease of job %s: %w", jobID, err)
	}
	if _, deadline := leaseOwner(cur); r.d.Now().Before(deadline) {
		return "", false, nil
	}
	if err := r.d.Store.SwapRef(ctx, leaseKey(jobID), cur, v); err != nil {
		if errors.Is(err, jobs.ErrConflict) {
			return "", false, nil
		}
		return "", false, err
	}
	return v, true, nil
}

// extend pushes the lease's deadline out; the lease value changes, so the
// caller's lease string is updated in place through the store only.
func (r *Reporter) extend(ctx context.Context, jobID, lease string) error {
	cur, err := r.d.Store.GetRef(ctx, leaseKey(jobID))
	if err != nil {
		return fmt.Errorf("comment lease of job %s lost: %w", jobID, err)
	}
	owner, _ := leaseOwner(lease)
	if o, _ := leaseOwner(cur); o != owner {
		return fmt.Errorf("comment lease of job %s taken over", jobID)
	}
	if err := r.d.Store.SwapRef(ctx, leaseKey(jobID), cur, r.leaseValue(owner)); err != nil {
		return fmt.Errorf("extend comment lease of job %s: %w", jobID, err)
	}
	return nil
}

// release deletes the lease if it is still ours.
func (r *Reporter) release(ctx context.Context, jobID, lease string) {
	cur, err := r.d.Store.GetRef(ctx, leaseKey(jobID))
	if err != nil {
		return
	}
	owner, _ := leaseOwner(lease)
	if o, _ := leaseOwner(cur); o == owner {
		_ = r.d.Store.SwapRef(context.WithoutCancel(ctx), leaseKey(jobID), cur, "")
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
