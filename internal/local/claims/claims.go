// Package claims is the embedded (SQLite) webhook.ClaimStore: one row per
// hook id + delivery id, taken and changed only by conditional statements.
package claims

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

const schema = `CREATE TABLE IF NOT EXISTS webhook_claims (
	key         TEXT PRIMARY KEY,
	state       TEXT NOT NULL CHECK (state IN ('processing', 'done')),
	token       TEXT NOT NULL,
	lease_until INTEGER NOT NULL, -- unix milliseconds
	expires_at  INTEGER NOT NULL  -- unix milliseconds (the 24 h TTL)
) WITHOUT ROWID`

// Options configure the store; the zero value is usable.
type Options struct {
	// WriteLock, when set, is held around every write transaction: pass the
	// lock the other writers of this database share (bus.Options.WriteLock),
	// so writers queue in Go instead of colliding on SQLite's write lock and
	// sleeping in its busy handler (1 ms, then 2, 5, 10 ms...).
	WriteLock sync.Locker
	// Committer, when set, is the database's shared group commit (its
	// lock is then the write lock and WriteLock is ignored): pass the one
	// the other receiver-path stores use, so their writes share batches.
	Committer *local.Committer
}

// Store keeps claims in a SQLite table. It is safe for concurrent use.
// Concurrent calls are group-committed (local.Committer): one transaction
// (one fsync) runs every operation pending at that moment, in arrival
// order, so each sees exactly what it would have seen alone. The batch also
// carries the receivers' payloads and publishes (Publisher), so one
// transaction serves the claims of new deliveries and the archive, publish
// and finish of earlier ones.
type Store struct {
	db *sql.DB
	// Statements prepared once: parsing SQL is most of a claim's CPU.
	claimStmt, stateStmt, finishStmt, releaseStmt *sql.Stmt

	commits *local.Committer
}

var _ webhook.ClaimStore = (*Store)(nil)

// Open creates the claims table when needed and returns the store.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("create webhook_claims table: %w", err)
	}
	s := &Store{db: db, commits: opts.Committer}
	if s.commits == nil {
		s.commits = local.NewCommitter(db, opts.WriteLock)
	} else if s.commits.DB() != db {
		return nil, fmt.Errorf("claims: the committer writes to another database")
	}
	err := local.Prepare(ctx, db, map[**sql.Stmt]string{
		&s.claimStmt: claimSQL, &s.stateStmt: stateSQL, &s.finishStmt: finishSQL, &s.releaseStmt: releaseSQL,
	})
	if err != nil {
		return nil, fmt.Errorf("prepare webhook claim statements: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements (not the database).
func (s *Store) Close() error {
	local.CloseStatements(s.claimStmt, s.stateStmt, s.finishStmt, s.releaseStmt)
	return nil
}

// claimSQL takes a key with an upsert that only updates a row that is
// expired or whose lease has ended, so two attempts can never both acquire.
const (
	claimSQL = `
INSERT INTO webhook_claims (key, state, token, lease_until, expires_at) VALUES (?1, 'processing', ?2, ?3, ?4)
ON CONFLICT (key) DO UPDATE SET state = 'processing', token = ?2, lease_until = ?3, expires_at = ?4
WHERE webhook_claims.expires_at <= ?5 OR (webhook_claims.state = 'processing' AND webhook_claims.lease_until <= ?5)`
	stateSQL   = `SELECT state FROM webhook_claims WHERE key = ?`
	finishSQL  = `UPDATE webhook_claims SET state = 'done' WHERE key = ? AND token = ? AND state = 'processing'`
	releaseSQL = `DELETE FROM webhook_claims WHERE key = ? AND token = ? AND state = 'processing'`
)

// claim runs the conditional claim of c inside tx.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, c webhook.Claim) (webhook.Outcome, error) {
	res, err := tx.StmtContext(ctx, s.claimStmt).ExecContext(ctx, c.Key, c.Token, c.LeaseUntil.UnixMilli(), c.ExpiresAt.UnixMilli(), c.At.UnixMilli())
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 1 {
		return webhook.Acquired, nil
	}
	var state string
	if err := tx.StmtContext(ctx, s.stateStmt).QueryRowContext(ctx, c.Key).Scan(&state); err != nil {
		return 0, err
	}
	if state == "done" {
		return webhook.Duplicate, nil
	}
	return webhook.InProgress, nil
}

// finish marks c done inside tx; held is false when c's holder no longer
// holds it (its lease ended and another took it, or it was released).
func (s *Store) finish(ctx context.Context, tx *sql.Tx, c webhook.Claim) (held bool, err error) {
	res, err := tx.StmtContext(ctx, s.finishStmt).ExecContext(ctx, c.Key, c.Token)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Claim implements webhook.ClaimStore.
func (s *Store) Claim(ctx context.Context, c webhook.Claim) (webhook.Outcome, error) {
	var outcome webhook.Outcome
	err := s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		outcome, err = s.claim(ctx, tx, c)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("claim %s: %w", c.Key, err)
	}
	return outcome, nil
}

// Finish implements webhook.ClaimStore.
func (s *Store) Finish(ctx context.Context, c webhook.Claim) error {
	var held bool
	err := s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		held, err = s.finish(ctx, tx, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish claim %s: %w", c.Key, err)
	}
	if !held {
		return fmt.Errorf("finish claim %s: %w", c.Key, webhook.ErrNotHolder)
	}
	return nil
}

// Release implements webhook.ClaimStore.
func (s *Store) Release(ctx context.Context, c webhook.Claim) error {
	err := s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.releaseStmt).ExecContext(ctx, c.Key, c.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("release claim %s: %w", c.Key, err)
	}
	return nil
}

// Sweep deletes claims whose TTL ended before now and reports how many; the
// dev server runs it periodically so the table does not grow without bound.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	lock := s.commits.Lock()
	lock.Lock()
	defer lock.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhook_claims WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sweep webhook claims: %w", err)
	}
	return res.RowsAffected()
}

// Check reports whether the claims table answers (GET /healthz).
func (s *Store) Check(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_claims WHERE 0`).Scan(&n); err != nil {
		return fmt.Errorf("webhook claims table: %w", err)
	}
	return nil
}
