package local

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints: in WAL mode SQLite appends every commit to the -wal file and
// copies it back into the database file later (a checkpoint). By default
// the connection whose commit takes the log past 1000 pages does that copy
// itself, inside its commit: under the group commit's write lock that
// stalls every writer for the copy and an fsync of the database file. The
// committer's own connection therefore never checkpoints; a background
// goroutine runs PASSIVE checkpoints, which copy alongside the writer, and
// only when the log grows past walLimit despite them (sustained load never
// leaves a moment with everything copied, which is when SQLite rewinds the
// log) does the next commit first run a RESTART checkpoint under the lock,
// so the log starts again from its beginning.

// checkpointEvery spaces the background passes: a page written again and
// again between two passes (the B-tree pages that random delivery ids
// land in) is copied once per pass, so passes every 100 ms instead of 20
// copy less, fsync the database file less often, and measured 10–20% more
// deliveries/s (BenchmarkIngestHTTP), with the log still far from walLimit.
const checkpointEvery = 100 * time.Millisecond

// walLimit is the log size past which the next commit runs a RESTART
// checkpoint (a variable so that tests can lower it).
var walLimit int64 = 64 << 20

// checkpointer holds the committer's writer connection and schedules
// checkpoints. Its writer methods are called under the write lock.
type checkpointer struct {
	conn      *sql.Conn // the committer's connection (wal_autocheckpoint=0)
	restart   atomic.Bool
	running   atomic.Bool
	mu        sync.Mutex
	last      time.Time
	passes    sync.WaitGroup // background passes running
	pageBytes atomic.Int64
}

// writer returns the committer's connection, opening it when needed, and
// runs a RESTART checkpoint first when the log outgrew walLimit.
func (k *checkpointer) writer(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	if k.conn == nil {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		var pageSize int64
		if err := conn.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
			conn.Close()
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
			conn.Close()
			return nil, err
		}
		k.pageBytes.Store(pageSize)
		k.conn = conn
	}
	if k.restart.Swap(false) {
		// Waits (busy_timeout) for readers of the old log to finish; if it
		// cannot complete, the next background pass asks again.
		_, _ = k.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`)
	}
	return k.conn, nil
}

// dropIfBroken forgets the connection after an error that broke it, so the
// next commit opens another, and reports whether it did.
func (k *checkpointer) dropIfBroken(err error) bool {
	if err == nil || k.conn == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		k.drop()
		return true
	}
	return false
}

// drop closes and forgets the connection (under the write lock).
func (k *checkpointer) drop() {
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}

// afterCommit starts a background checkpoint unless one is running or ran
// within checkpointEvery.
func (k *checkpointer) afterCommit(db *sql.DB) {
	if k.running.Load() {
		return
	}
	k.mu.Lock()
	due := time.Since(k.last) >= checkpointEvery
	if due {
		k.last = time.Now()
	}
	k.mu.Unlock()
	if !due || !k.running.CompareAndSwap(false, true) {
		return
	}
	k.passes.Add(1)
	go func() {
		defer k.passes.Done()
		defer k.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var busy, logFrames, copied int64
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
			return // the next commit tries again
		}
		if logFrames*k.pageBytes.Load() > walLimit {
			k.restart.Store(true)
		}
	}()
}
