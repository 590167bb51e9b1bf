package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// The comment lease is the job store reference "comment#<job>" =
// "<owner> <deadline, unix ns>". The deadline is in the value, so a holder
// that crashed is taken over once it passes; the store's TTL only cleans up
// long after.

// leaseFor is how long a writer holds a job's comment lease between
// extensions; a crashed writer blocks the others at most this long. A
// writer that waits (for its pacing slot, or to retry) extends the lease
// over the wait first.
const leaseFor = 90 * time.Second

// leaseTTL is the store's own expiry of a lease reference.
const leaseTTL = 24 * time.Hour

// errLeaseLost: another writer took the comment lease over (this one waited
// past its deadline); the new holder writes the newest state.
var errLeaseLost = errors.New("status comment lease taken over")

// lease is a held comment lease: the job, this holder's id, and the value
// stored now (it changes with each extension).
type lease struct{ job, owner, value string }

func (l *lease) jobID() string {
	if l == nil {
		return ""
	}
	return l.job
}

func leaseKey(jobID string) string { return "comment#" + jobID }

func (r *Reporter) leaseValue(owner string, d time.Duration) string {
	return owner + " " + strconv.FormatInt(r.d.Now().Add(d).UnixNano(), 10)
}

func leaseDeadline(v string) time.Time {
	_, dl, _ := strings.Cut(v, " ")
	n, _ := strconv.ParseInt(dl, 10, 64)
	return time.Unix(0, n)
}

// acquire takes the job's comment lease, taking over one whose deadline has
// passed. It returns nil when another live writer holds it.
func (r *Reporter) acquire(ctx context.Context, jobID string) (*lease, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	l := &lease{job: jobID, owner: hex.EncodeToString(b)}
	l.value = r.leaseValue(l.owner, leaseFor)
	for range 3 {
		cur, err := r.d.Store.PutRef(ctx, leaseKey(jobID), l.value, leaseTTL)
		switch {
		case err == nil:
			return l, nil
		case !errors.Is(err, jobs.ErrExists):
			return nil, fmt.Errorf("take comment lease of job %s: %w", jobID, err)
		case r.d.Now().Before(leaseDeadline(cur)):
			return nil, nil
		}
		switch err := r.d.Store.SwapRef(ctx, leaseKey(jobID), cur, l.value); {
		case err == nil:
			r.d.Log.InfoContext(ctx, "took over an expired status comment lease", "job_id", jobID)
			return l, nil
		case !errors.Is(err, jobs.ErrConflict):
			return nil, fmt.Errorf("take over comment lease of job %s: %w", jobID, err)
		}
		// Released or taken by another writer meanwhile: look again.
	}
	return nil, nil
}

// extend makes the lease last leaseFor after a wait of d that its holder is
// about to make. A nil lease (the installation's write) has nothing to
// extend. It returns errLeaseLost when another writer took the lease over.
func (r *Reporter) extend(ctx context.Context, l *lease, d time.Duration) error {
	if l == nil {
		return nil
	}
	next := r.leaseValue(l.owner, d+leaseFor)
	switch err := r.d.Store.SwapRef(ctx, leaseKey(l.job), l.value, next); {
	case errors.Is(err, jobs.ErrConflict):
		return fmt.Errorf("job %s: %w", l.job, errLeaseLost)
	case err != nil:
		return fmt.Errorf("extend comment lease of job %s: %w", l.job, err)
	}
	l.value = next
	return nil
}

// release deletes the lease if it is still ours; it runs even when the
// caller's context ended, so the comment is not held until the deadline.
func (r *Reporter) release(ctx context.Context, l *lease) {
	err := r.d.Store.SwapRef(context.WithoutCancel(ctx), leaseKey(l.job), l.value, "")
	if err != nil && !errors.Is(err, jobs.ErrConflict) {
		r.d.Log.WarnContext(ctx, "release status comment lease", "job_id", l.job, "err", err)
	}
}
