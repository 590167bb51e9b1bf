// Package claims is the embedded (SQLite) webhook.ClaimStore: one row per
// hook id + delivery id, taken and changed only by conditional statements.
package claims

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local/bus"
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
}

// Store keeps claims in a SQLite table. It is safe for concurrent use.
// Concurrent calls are group-committed: one caller runs every operation
// pending at that moment in a single transaction (one fsync), in arrival
// order, so each sees exactly what it would have seen alone. The batch also
// carries the receivers' publishes (Publisher), so one transaction serves
// the claims of new deliveries and the publish + finish of earlier ones.
type Store struct {
	db *sql.DB
	// Statements prepared once: parsing SQL is most of a claim's CPU.
	claimStmt, stateStmt, finishStmt, releaseStmt *sql.Stmt

	lock      sync.Locker
	pendingMu sync.Mutex
	pending   *batch
	commitMu  sync.Mutex
}

var _ webhook.ClaimStore = (*Store)(nil)

// Open creates the claims table when needed and returns the store.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("create webhook_claims table: %w", err)
	}
	s := &Store{db: db, lock: opts.WriteLock}
	if s.lock == nil {
		s.lock = &sync.Mutex{}
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{{&s.claimStmt, claimSQL}, {&s.stateStmt, stateSQL}, {&s.finishStmt, finishSQL}, {&s.releaseStmt, releaseSQL}} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("prepare webhook claim statements: %w", err)
		}
		*p.stmt = stmt
	}
	return s, nil
}

// Close releases the prepared statements (not the database).
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.claimStmt, s.stateStmt, s.finishStmt, s.releaseStmt} {
		if st != nil {
			st.Close()
		}
	}
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

type opKind int

const (
	opClaim opKind = iota
	opFinish
	opRelease
	opPublishFinish // publish on a bus, then finish (claims.Publisher)
)

type op struct {
	kind    opKind
	c       webhook.Claim
	bus     *bus.Bus     // opPublishFinish
	event   bus.Prepared // opPublishFinish
	outcome webhook.Outcome
	err     error // this operation's own failure (ErrNotHolder)
}

type batch struct {
	ops       []*op
	committed bool  // guarded by Store.commitMu
	err       error // the transaction's failure, shared by every op
}

// run queues o and returns once the batch holding it is committed.
func (s *Store) run(o *op) error {
	s.pendingMu.Lock()
	if s.pending == nil {
		s.pending = &batch{}
	}
	b := s.pending
	b.ops = append(b.ops, o)
	s.pendingMu.Unlock()

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if !b.committed {
		s.pendingMu.Lock()
		s.pending = nil
		s.pendingMu.Unlock()
		// The batch carries other callers' operations, so it must not fail
		// because this caller's context ends: it gets its own deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b.err = s.commit(ctx, b.ops)
		cancel()
		b.committed = true
		if b.err == nil {
			wakeBuses(b.ops)
		}
	}
	if b.err != nil {
		return b.err
	}
	return o.err
}

func (s *Store) commit(ctx context.Context, ops []*op) error {
	s.lock.Lock()
	defer s.lock.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, o := range ops {
		if err := s.apply(ctx, tx, o); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// apply runs one operation inside the batch's transaction. Its return value
// is a database failure (fails the batch); o.err is the operation's answer.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, o *op) error {
	c := o.c
	switch o.kind {
	case opClaim:
		res, err := tx.StmtContext(ctx, s.claimStmt).ExecContext(ctx, c.Key, c.Token, c.LeaseUntil.UnixMilli(), c.ExpiresAt.UnixMilli(), c.At.UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			o.outcome = webhook.Acquired
			return nil
		}
		var state string
		if err := tx.StmtContext(ctx, s.stateStmt).QueryRowContext(ctx, c.Key).Scan(&state); err != nil {
			return err
		}
		o.outcome = webhook.InProgress
		if state == "done" {
			o.outcome = webhook.Duplicate
		}
	case opFinish, opPublishFinish:
		if o.kind == opPublishFinish {
			if err := o.bus.PublishIn(ctx, tx, o.event); err != nil {
				return err
			}
		}
		res, err := tx.StmtContext(ctx, s.finishStmt).ExecContext(ctx, c.Key, c.Token)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			o.err = webhook.ErrNotHolder
		}
	case opRelease:
		if _, err := tx.StmtContext(ctx, s.releaseStmt).ExecContext(ctx, c.Key, c.Token); err != nil {
			return err
		}
	}
	return nil
}

// wakeBuses tells each bus that got events in a committed batch to deliver.
func wakeBuses(ops []*op) {
	var woken *bus.Bus
	for _, o := range ops {
		if o.kind == opPublishFinish && o.bus != woken {
			o.bus.Wake()
			woken = o.bus
		}
	}
}

// Claim implements webhook.ClaimStore.
func (s *Store) Claim(ctx context.Context, c webhook.Claim) (webhook.Outcome, error) {
	o := &op{kind: opClaim, c: c}
	if err := s.run(o); err != nil {
		return 0, fmt.Errorf("claim %s: %w", c.Key, err)
	}
	return o.outcome, nil
}

// Finish implements webhook.ClaimStore.
func (s *Store) Finish(ctx context.Context, c webhook.Claim) error {
	if err := s.run(&op{kind: opFinish, c: c}); err != nil {
		return fmt.Errorf("finish claim %s: %w", c.Key, err)
	}
	return nil
}

// Release implements webhook.ClaimStore.
func (s *Store) Release(ctx context.Context, c webhook.Claim) error {
	if err := s.run(&op{kind: opRelease, c: c}); err != nil {
		return fmt.Errorf("release claim %s: %w", c.Key, err)
	}
	return nil
}

// Sweep deletes claims whose TTL ended before now and reports how many; the
// dev server runs it periodically so the table does not grow without bound.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	s.lock.Lock()
	defer s.lock.Unlock()
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
