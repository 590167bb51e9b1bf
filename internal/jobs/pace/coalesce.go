package pace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// RetryAfterError is what a write function returns when GitHub refused the
// write and said when to try again (a secondary rate limit: 403 or 429 with
// retry-after). The Coalescer stops all of the user's writers for After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// Coalescer keeps each job's status comment up to date with as few writes
// as possible. One writer at a time holds a comment (a lease in the store,
// so across processes too); it writes the newest stored state of the job,
// then looks again, until the comment shows the state last stored. Other
// callers return at once: the holder writes their state for them.
//
// Job.Rendered records what the comment shows: after writing the state of
// Version v, the holder stores Rendered = v+1 over version v, which is the
// version that store write gives the job. So Rendered == Version means the
// comment is current, and a state is never written over a newer one by a
// holder that has lost track (it re-reads the job before every write).
type Coalescer struct {
	Store jobs.Store
	// Write renders j's status comment and writes it with j's user's token.
	Write func(ctx context.Context, j *jobs.Job) error
	// Pacer, when set, paces every write (and every retried write).
	Pacer *Pacer
	// Lease is how long a holder may keep a comment before another writer
	// may take it over (a holder that crashed); 2 minutes when 0. A holder
	// waiting for its pacing slot extends its lease to cover the wait.
	Lease time.Duration
	// Owner names this process in leases; random when empty.
	Owner string
	// Attempts is how often one render is tried when writing fails (5 when
	// 0); Backoff the first pause between tries, doubling (1 s when 0).
	Attempts int
	Backoff  time.Duration
	// Now and Sleep are the clock, as in Pacer.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger

	owner sync.Once // fills Owner once, however many Updates run at once
}

// maxRounds bounds one Update's writes: a job that changes faster than its
// comment can be written is left to the next caller.
const maxRounds = 50

func (c *Coalescer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Coalescer) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

func (c *Coalescer) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Coalescer) lease() time.Duration {
	if c.Lease > 0 {
		return c.Lease
	}
	return 2 * time.Minute
}

// LeaseKey is the store reference held while a comment is being written.
func LeaseKey(jobID string) string { return "comment#" + jobID }

// Update makes the status comment of job jobID show the job's stored state.
// Call it after storing a new state: when another writer holds the comment,
// Update returns nil at once and that writer shows the new state. An error
// means the comment may be stale until the next Update; it never needs to
// fail the step that called.
func (c *Coalescer) Update(ctx context.Context, jobID string) error {
	c.owner.Do(func() {
		if c.Owner == "" {
			var b [8]byte
			_, _ = rand.Read(b[:])
			c.Owner = hex.EncodeToString(b[:])
		}
	})
	for round := 0; round < maxRounds; {
		held, err := c.acquire(ctx, jobID, c.now().Add(c.lease()))
		if err != nil || held == "" {
			return err // someone else holds the comment and will show our state
		}
		var n int
		held, n, err = c.drain(ctx, jobID, held, maxRounds-round)
		round += n
		c.release(jobID, held)
		if err != nil {
			return err
		}
		// A caller that found the lease taken after our last look left its
		// state to us: look once more now that the lease is free.
		j, err := c.Store.Get(ctx, jobID)
		if err != nil {
			return fmt.Errorf("status comment of %s: %w", jobID, err)
		}
		if j.Rendered >= j.Version {
			return nil
		}
	}
	c.logger().Warn("status comment left behind a fast-changing job", "job_id", jobID)
	return nil
}

// drain writes the job's newest state until the comment shows it; it
// returns the lease value it holds and how many writes it made.
func (c *Coalescer) drain(ctx context.Context, jobID, held string, rounds int) (string, int, error) {
	for n := 0; n < rounds; n++ {
		j, err := c.Store.Get(ctx, jobID)
		if err != nil {
			return held, n, fmt.Errorf("status comment of %s: %w", jobID, err)
		}
		if j.Rendered >= j.Version {
			return held, n, nil
		}
		if held, err = c.write(ctx, jobID, j.User.ID, held); err != nil {
			return held, n, err
		}
		if held == "" {
			return "", n + 1, nil // the lease was taken over: the new holder goes on
		}
	}
	return held, rounds, nil
}

// write waits for a pacing slot, then writes the job's newest state
// (read after the wait, so updates that arrived meanwhile are in it) and
// records it as rendered. Failed writes are retried with backoff.
func (c *Coalescer) write(ctx context.Context, jobID string, userID int64, held string) (string, error) {
	attempts := cmp(c.Attempts, 5)
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		var err error
		if held, err = c.pace(ctx, jobID, userID, held); err != nil || held == "" {
			return held, err
		}
		j, err := c.Store.Get(ctx, jobID)
		if err != nil {
			return held, fmt.Errorf("status comment of %s: %w", jobID, err)
		}
		if j.Rendered >= j.Version {
			return held, nil
		}
		if last = c.Write(ctx, j); last == nil {
			j.Rendered = j.Version + 1 // the version this store write gives the job
			if err := c.Store.Update(ctx, j); err != nil && !errors.Is(err, jobs.ErrConflict) {
				return held, fmt.Errorf("record status comment of %s: %w", jobID, err)
			}
			return held, nil // on conflict the job moved on: drain writes it next
		}
		var ra *RetryAfterError
		switch {
		case errors.As(last, &ra) && c.Pacer != nil:
			if err := c.Pacer.Penalize(ctx, userID, ra.After); err != nil {
				return held, err
			}
		case errors.As(last, &ra):
			if err := c.sleep(ctx, max(ra.After, backoff)); err != nil {
				return held, err
			}
		case attempt < attempts:
			if err := c.sleep(ctx, backoff); err != nil {
				return held, err
			}
			backoff *= 2
		}
		c.logger().Warn("status comment write failed", "job_id", jobID, "attempt", attempt, "err", last)
	}
	return held, fmt.Errorf("write status comment of %s: %w", jobID, last)
}

// pace waits for the user's next slot, extending the lease over the wait.
func (c *Coalescer) pace(ctx context.Context, jobID string, userID int64, held string) (string, error) {
	if c.Pacer == nil {
		return held, nil
	}
	for {
		d, err := c.Pacer.Reserve(ctx, userID)
		if err != nil {
			return held, err
		}
		if d > 0 {
			next := c.leaseValue(c.now().Add(d + c.lease()))
			if err := c.Store.SwapRef(ctx, LeaseKey(jobID), held, next); err != nil {
				if errors.Is(err, jobs.ErrConflict) {
					return "", nil // taken over
				}
				return held, fmt.Errorf("extend %s: %w", LeaseKey(jobID), err)
			}
			held = next
			if err := c.sleep(ctx, d); err != nil {
				return held, err
			}
		}
		b, err := c.Pacer.budget(ctx, userID)
		if err != nil {
			return held, err
		}
		if !b.blocked.After(c.now()) {
			return held, nil
		}
		// penalised while we waited: take a slot after the penalty
	}
}

func (p *Pacer) budget(ctx context.Context, userID int64) (budget, error) {
	v, err := p.Store.GetRef(ctx, Key(userID))
	if err != nil && !errors.Is(err, jobs.ErrNotFound) {
		return budget{}, fmt.Errorf("read %s: %w", Key(userID), err)
	}
	return decode(v)
}

func (c *Coalescer) leaseValue(until time.Time) string {
	return c.Owner + " " + strconv.FormatInt(until.UnixMilli(), 10)
}

// acquire takes the comment's lease until the given time, or takes over a
// lease that expired; it returns the lease value held, or "" when another
// live writer holds it.
func (c *Coalescer) acquire(ctx context.Context, jobID string, until time.Time) (string, error) {
	key, mine := LeaseKey(jobID), c.leaseValue(until)
	for range 5 {
		// The value carries the expiry; the store's TTL only cleans up
		// after holders that crashed, long after any lease ended.
		cur, err := c.Store.PutRef(ctx, key, mine, 24*time.Hour)
		if err == nil {
			return mine, nil
		}
		if !errors.Is(err, jobs.ErrExists) {
			return "", fmt.Errorf("take %s: %w", key, err)
		}
		_, ms, ok := strings.Cut(cur, " ")
		exp, perr := strconv.ParseInt(ms, 10, 64)
		if ok && perr == nil && c.now().UnixMilli() < exp {
			return "", nil
		}
		// Expired (or unreadable): take it over, unless someone else just did.
		switch err := c.Store.SwapRef(ctx, key, cur, mine); {
		case err == nil:
			c.logger().Info("took over an expired status comment lease", "job_id", jobID)
			return mine, nil
		case errors.Is(err, jobs.ErrConflict):
			continue
		default:
			return "", fmt.Errorf("take over %s: %w", key, err)
		}
	}
	return "", nil
}

// release frees the lease if it is still ours; it runs even when the
// caller's context ended, so a comment is not held until its lease expires.
func (c *Coalescer) release(jobID, held string) {
	if held == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Store.SwapRef(ctx, LeaseKey(jobID), held, ""); err != nil && !errors.Is(err, jobs.ErrConflict) {
		c.logger().Warn("release status comment lease", "job_id", jobID, "err", err)
	}
}
