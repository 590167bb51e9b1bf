// Package claims is the embedded (SQLite) webhook.ClaimStore: one row per
// hook id + delivery id, taken and changed only by conditional statements.
package claims

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

const schema = `CREATE TABLE IF NOT EXISTS webhook_claims (
	key         TEXT PRIMARY KEY,
	state       TEXT NOT NULL CHECK (state IN ('processing', 'done')),
	token       TEXT NOT NULL,
	lease_until INTEGER NOT NULL, -- unix milliseconds
	expires_at  INTEGER NOT NULL  -- unix milliseconds (the 24 h TTL)
) WITHOUT ROWID`

// Store keeps claims in a SQLite table. It is safe for concurrent use.
type Store struct{ db *sql.DB }

var _ webhook.ClaimStore = (*Store)(nil)

// Open creates the claims table when needed and returns the store.
func Open(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("create webhook_claims table: %w", err)
	}
	return &Store{db: db}, nil
}

// Claim implements webhook.ClaimStore with one upsert whose update only
// happens when the existing row is expired or its lease has ended, so two
// callers can never both acquire.
func (s *Store) Claim(ctx context.Context, c webhook.Claim) (webhook.Outcome, error) {
	at := c.At.UnixMilli()
	res, err := s.db.ExecContext(ctx, `
INSERT INTO webhook_claims (key, state, token, lease_until, expires_at) VALUES (?1, 'processing', ?2, ?3, ?4)
ON CONFLICT (key) DO UPDATE SET state = 'processing', token = ?2, lease_until = ?3, expires_at = ?4
WHERE webhook_claims.expires_at <= ?5 OR (webhook_claims.state = 'processing' AND webhook_claims.lease_until <= ?5)`,
		c.Key, c.Token, c.LeaseUntil.UnixMilli(), c.ExpiresAt.UnixMilli(), at)
	if err != nil {
		return 0, fmt.Errorf("claim %s: %w", c.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("claim %s: %w", c.Key, err)
	} else if n == 1 {
		return webhook.Acquired, nil
	}
	var state string
	err = s.db.QueryRowContext(ctx, `SELECT state FROM webhook_claims WHERE key = ?`, c.Key).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		// Released between our two statements: the caller may try again.
		return webhook.InProgress, nil
	}
	if err != nil {
		return 0, fmt.Errorf("claim %s: %w", c.Key, err)
	}
	if state == "done" {
		return webhook.Duplicate, nil
	}
	return webhook.InProgress, nil
}

// Finish implements webhook.ClaimStore.
func (s *Store) Finish(ctx context.Context, c webhook.Claim) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE webhook_claims SET state = 'done' WHERE key = ? AND token = ? AND state = 'processing'`, c.Key, c.Token)
	if err != nil {
		return fmt.Errorf("finish claim %s: %w", c.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish claim %s: %w", c.Key, err)
	} else if n == 0 {
		return fmt.Errorf("finish claim %s: %w", c.Key, webhook.ErrNotHolder)
	}
	return nil
}

// Release implements webhook.ClaimStore.
func (s *Store) Release(ctx context.Context, c webhook.Claim) error {
	_, err := s.db.ExecContext(ctx,
		`DELETE FROM webhook_claims WHERE key = ? AND token = ? AND state = 'processing'`, c.Key, c.Token)
	if err != nil {
		return fmt.Errorf("release claim %s: %w", c.Key, err)
	}
	return nil
}

// Sweep deletes claims whose TTL ended before now and reports how many; the
// dev server runs it periodically so the table does not grow without bound.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
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
