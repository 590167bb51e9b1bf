// Package marks is the embedded shape's events.Marks: handler idempotency
// marks in a SQLite table.
//
// Wiring (cmd/ai3 dev):
//
//	m, err := marks.Open(ctx, env.DB, marks.Options{})
//	b.Subscribe(events.Once(m, handler, 0))
package marks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// DefaultRetention is how long a done mark is kept (and a repeat of its
// delivery ignored). GitHub redeliveries happen within days.
const DefaultRetention = 7 * 24 * time.Hour

// Options configure the store.
type Options struct {
	Retention time.Duration // how long done marks are kept; default DefaultRetention
	// WriteLock, when set, is held around every write: pass the lock the
	// other writers of this database share (see bus.Options.WriteLock).
	WriteLock sync.Locker
}

// Store keeps marks in the handler_marks table.
type Store struct {
	db        *sql.DB
	retention time.Duration
	lock      sync.Locker
}

const schema = `
CREATE TABLE IF NOT EXISTS handler_marks (
	key         TEXT PRIMARY KEY,
	state       TEXT NOT NULL,            -- 'processing' or 'done'
	lease_until INTEGER NOT NULL,         -- unix ms; meaningful while processing
	expires_at  INTEGER NOT NULL          -- unix ms; after it the mark is gone
);
CREATE INDEX IF NOT EXISTS handler_marks_expiry ON handler_marks (expires_at);
`

// Open creates the table if needed and returns the store.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("marks: create table: %w", err)
	}
	if opts.WriteLock == nil {
		opts.WriteLock = noLock{}
	}
	return &Store{db: db, retention: opts.Retention, lock: opts.WriteLock}, nil
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("marks: empty key")
	}
	return nil
}

// Acquire takes key unless it is done, or held by a run whose lease has not
// expired. The insert-or-take is one conditional statement, so two racing
// callers cannot both acquire.
func (s *Store) Acquire(ctx context.Context, key string, lease time.Duration) (events.MarkState, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("marks: acquire %s: lease must be positive", key)
	}
	now := time.Now()
	nowMS := now.UnixMilli()
	s.lock.Lock()
	defer s.lock.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("marks: acquire %s: %w", key, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO handler_marks (key, state, lease_until, expires_at) VALUES (?, 'processing', ?, ?)
		ON CONFLICT (key) DO UPDATE SET state = 'processing', lease_until = excluded.lease_until, expires_at = excluded.expires_at
		WHERE handler_marks.expires_at <= ? OR (handler_marks.state = 'processing' AND handler_marks.lease_until <= ?)`,
		key, now.Add(lease).UnixMilli(), now.Add(max(lease, s.retention)).UnixMilli(), nowMS, nowMS)
	if err != nil {
		return 0, fmt.Errorf("marks: acquire %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("marks: acquire %s: %w", key, err)
	}
	state := events.MarkAcquired
	if n == 0 {
		var st string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM handler_marks WHERE key = ?`, key).Scan(&st); err != nil {
			return 0, fmt.Errorf("marks: acquire %s: read holder: %w", key, err)
		}
		state = events.MarkBusy
		if st == "done" {
			state = events.MarkDone
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("marks: acquire %s: %w", key, err)
	}
	return state, nil
}

// Done records key as finished for the retention period.
func (s *Store) Done(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.lock.Lock()
	defer s.lock.Unlock()
	_, err := s.db.ExecContext(ctx, `INSERT INTO handler_marks (key, state, lease_until, expires_at) VALUES (?, 'done', 0, ?)
		ON CONFLICT (key) DO UPDATE SET state = 'done', lease_until = 0, expires_at = excluded.expires_at`,
		key, time.Now().Add(s.retention).UnixMilli())
	if err != nil {
		return fmt.Errorf("marks: done %s: %w", key, err)
	}
	return nil
}

// Release gives back an unfinished mark; a done mark is kept.
func (s *Store) Release(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.lock.Lock()
	defer s.lock.Unlock()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM handler_marks WHERE key = ? AND state = 'processing'`, key); err != nil {
		return fmt.Errorf("marks: release %s: %w", key, err)
	}
	return nil
}

// Prune deletes expired marks; the dev server may call it now and then.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	s.lock.Lock()
	defer s.lock.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM handler_marks WHERE expires_at <= ?`, time.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("marks: prune: %w", err)
	}
	return res.RowsAffected()
}

// noLock is the default: SQLite's own locking (and busy timeout) only.
type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}
