package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// DropLease forgets the job's status comment lease, whoever holds it. Only
// a caller that knows the holder is gone may use it: the embedded shape at
// start, whose one process took every lease in its store before it died.
// Without it a lease taken just before a crash makes every Publish of the
// job return at once until it expires (the holder that would have written
// the newer state is dead), and a job that ends meanwhile keeps a status
// comment that is not final.
func (r *Reporter) DropLease(ctx context.Context, jobID string) error {
	cur, err := r.d.Store.GetRef(ctx, leaseKey(jobID))
	if errors.Is(err, jobs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("comment lease of job %s: %w", jobID, err)
	}
	if err := r.d.Store.SwapRef(ctx, leaseKey(jobID), cur, ""); err != nil && !errors.Is(err, jobs.ErrConflict) {
		return fmt.Errorf("drop comment lease of job %s: %w", jobID, err)
	}
	r.d.Log.InfoContext(ctx, "dropped a status comment lease left by a crash", "job_id", jobID)
	return nil
}
