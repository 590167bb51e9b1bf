package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Committer group-commits writes to one SQLite database: concurrent Do
// calls share one transaction, so one fsync (synchronous=FULL) makes all of
// them durable at once. While a batch commits, the next one gathers, so the
// number of commits a second is bounded by the disk, not by the callers.
//
// Every embedded store that writes on the receiver's path (claims, small
// payloads, bus events) uses the one Committer of the database, so a
// delivery's writes ride in the same batches as every other delivery's.
type Committer struct {
	db   *sql.DB
	lock sync.Locker

	mu      sync.Mutex
	pending *commitBatch // gathering: the next batch to commit
	busy    bool         // a batch is committing
	ckpt    checkpointer
	timeout time.Duration // a batch's deadline; 0: defaultBatchTimeout (tests set it)
}

// defaultBatchTimeout is the deadline of one batch's transaction.
const defaultBatchTimeout = 30 * time.Second

func (c *Committer) batchTimeout() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return defaultBatchTimeout
}

// commitBatch is the set of calls committed in one transaction. Its callers
// wait on done; lead (capacity 1) names the one of them that commits it.
type commitBatch struct {
	fns  []func(context.Context, *sql.Tx) error
	done chan struct{}
	lead chan struct{}
	err  error // the transaction's failure, shared by every call
}

// NewCommitter returns the committer of db. lock, when not nil, is held
// around each transaction: pass the lock every other writer of the database
// holds, so writers queue in Go instead of colliding on SQLite's write lock
// and sleeping in its busy handler (1 ms, then 2, 5, 10 ms...).
func NewCommitter(db *sql.DB, lock sync.Locker) *Committer {
	if lock == nil {
		lock = &sync.Mutex{}
	}
	return &Committer{db: db, lock: lock}
}

// DB is the committer's database (for reads and schema set-up).
func (c *Committer) DB() *sql.DB { return c.db }

// Lock is the write lock the committer holds around its transactions.
func (c *Committer) Lock() sync.Locker { return c.lock }

// ErrBatchTimeout is the failure of a batch whose transaction did not
// commit within its deadline (defaultBatchTimeout).
var ErrBatchTimeout = errors.New("group commit: the transaction did not commit in time")

// Do runs fn inside a transaction shared with the other calls pending at
// that moment, in arrival order, and returns once that transaction has
// committed. A non-nil error from any fn rolls the whole batch back and is
// returned to every caller in it, so fn returns only database failures and
// passes its own answers out through the variables it closes over (valid
// once Do returns nil). fn must not start transactions of its own.
//
// ctx is checked before fn is queued; once queued, fn goes ahead with its
// batch, which carries other callers' writes and so has its own deadline.
func (c *Committer) Do(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.pending == nil {
		c.pending = &commitBatch{done: make(chan struct{}), lead: make(chan struct{}, 1)}
	}
	b := c.pending
	b.fns = append(b.fns, fn)
	if !c.busy {
		c.busy = true
		c.pending = nil
		c.mu.Unlock()
		c.run(b)
		return b.err
	}
	c.mu.Unlock()
	// Waiters are woken together when their batch is done (no convoy on a
	// mutex); if the batch before finishes first, one of them commits this
	// one.
	select {
	case <-b.done:
	case <-b.lead:
		c.mu.Lock()
		c.pending = nil // b: a batch stays pending until its leader takes it
		c.mu.Unlock()
		c.run(b)
	}
	return b.err
}

// run commits b, wakes its callers, and passes the turn to the batch that
// gathered meanwhile, if any.
func (c *Committer) run(b *commitBatch) {
	ctx, cancel := context.WithTimeout(context.Background(), c.batchTimeout())
	b.err = c.commit(ctx, b.fns)
	cancel()
	if errors.Is(b.err, context.DeadlineExceeded) {
		b.err = ErrBatchTimeout
	}
	close(b.done)
	c.mu.Lock()
	if c.pending != nil {
		c.pending.lead <- struct{}{} // busy stays true: the turn passes on
	} else {
		c.busy = false
	}
	c.mu.Unlock()
}

func (c *Committer) commit(ctx context.Context, fns []func(context.Context, *sql.Tx) error) (err error) {
	c.lock.Lock()
	defer func() {
		// A panicking fn must not leave the write lock held and every
		// caller waiting: the batch fails (rolled back) instead.
		if r := recover(); r != nil {
			c.ckpt.drop()
			err = fmt.Errorf("group commit: panic in a batched write: %v", r)
		}
		c.lock.Unlock()
		if err == nil {
			c.ckpt.afterCommit(c.db)
		}
	}()
	return c.commitLocked(ctx, fns)
}

// Close waits for a background checkpoint to end and releases the
// committer's database connection (the next Do opens another). Call it
// before closing the database, so no connection of the committer's outlives
// it (a connection closing later still writes the database's files).
func (c *Committer) Close() error {
	c.ckpt.passes.Wait()
	c.lock.Lock()
	defer c.lock.Unlock()
	c.ckpt.drop()
	return nil
}

func (c *Committer) commitLocked(ctx context.Context, fns []func(context.Context, *sql.Tx) error) error {
	conn, err := c.ckpt.writer(ctx, c.db)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil && c.ckpt.dropIfBroken(err) {
		// Nothing was written on the broken connection: start over once
		// on a new one rather than fail the batch.
		if conn, err = c.ckpt.writer(ctx, c.db); err != nil {
			return err
		}
		tx, err = conn.BeginTx(ctx, nil)
	}
	if err != nil {
		c.ckpt.dropIfBroken(err)
		return err
	}
	defer tx.Rollback()
	for _, fn := range fns {
		if err := fn(ctx, tx); err != nil {
			c.ckpt.dropIfBroken(err)
			return err
		}
	}
	err = tx.Commit()
	c.ckpt.dropIfBroken(err)
	return err
}
