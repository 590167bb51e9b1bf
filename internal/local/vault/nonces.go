package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
)

const noncesSchema = `CREATE TABLE IF NOT EXISTS oauth_states (
	key        TEXT    PRIMARY KEY,
	verifier   TEXT    NOT NULL,
	browser    TEXT    NOT NULL DEFAULT '',
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
)`

// NonceStore is an oauth.NonceStore in SQLite.
type NonceStore struct{ db *sql.DB }

// NewNonceStore creates the table if needed and returns the store.
func NewNonceStore(ctx context.Context, db *sql.DB) (*NonceStore, error) {
	if _, err := db.ExecContext(ctx, noncesSchema); err != nil {
		return nil, fmt.Errorf("create oauth_states table: %w", err)
	}
	// Tables made before logins were bound to the browser lack the column.
	var has int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('oauth_states') WHERE name='browser'`).Scan(&has); err != nil {
		return nil, fmt.Errorf("inspect oauth_states table: %w", err)
	}
	if has == 0 {
		if _, err := db.ExecContext(ctx, `ALTER TABLE oauth_states ADD COLUMN browser TEXT NOT NULL DEFAULT ''`); err != nil {
			return nil, fmt.Errorf("add browser column to oauth_states: %w", err)
		}
	}
	return &NonceStore{db: db}, nil
}

// Put implements oauth.NonceStore.
func (s *NonceStore) Put(ctx context.Context, key string, n oauth.Nonce) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO oauth_states (key, verifier, browser, expires_at) VALUES (?,?,?,?) ON CONFLICT (key) DO NOTHING`,
		key, n.Verifier, n.Browser, n.ExpiresAt.UnixNano())
	if err != nil {
		return fmt.Errorf("store login state: %w", err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return oauth.ErrStateExists
	}
	return nil
}

// Consume implements oauth.NonceStore with one UPDATE … RETURNING, so two
// callbacks racing on one state cannot both succeed.
func (s *NonceStore) Consume(ctx context.Context, key string, now time.Time) (oauth.Nonce, error) {
	var n oauth.Nonce
	var exp int64
	err := s.db.QueryRowContext(ctx, `UPDATE oauth_states SET used_at=? WHERE key=? AND used_at IS NULL RETURNING verifier, browser, expires_at`,
		now.UnixNano(), key).Scan(&n.Verifier, &n.Browser, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		switch err := s.db.QueryRowContext(ctx, `SELECT 1 FROM oauth_states WHERE key=?`, key).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return oauth.Nonce{}, oauth.ErrStateUnknown
		case err != nil:
			return oauth.Nonce{}, fmt.Errorf("consume login state: %w", err)
		}
		return oauth.Nonce{}, oauth.ErrStateUsed
	}
	if err != nil {
		return oauth.Nonce{}, fmt.Errorf("consume login state: %w", err)
	}
	n.ExpiresAt = time.Unix(0, exp).UTC()
	if !now.Before(n.ExpiresAt) {
		return oauth.Nonce{}, oauth.ErrStateExpired
	}
	return n, nil
}

// Sweep deletes states nobody used once they expire (logins started and
// abandoned, or a flood of them) and used states a day after they expired;
// until then a replay is still reported as "already used" rather than
// "unknown".
func (s *NonceStore) Sweep(ctx context.Context, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at < ? AND (used_at IS NULL OR expires_at < ?)`,
		now.UnixNano(), now.Add(-24*time.Hour).UnixNano()); err != nil {
		return fmt.Errorf("sweep login states: %w", err)
	}
	return nil
}
