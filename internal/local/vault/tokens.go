// Package vault holds the embedded (SQLite) adapters of the token vault's
// ports: the user token store and the OAuth state nonce store.
package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

const tokensSchema = `CREATE TABLE IF NOT EXISTS user_tokens (
	user_id            INTEGER PRIMARY KEY,
	login              TEXT    NOT NULL,
	scopes             TEXT    NOT NULL,
	access_expires_at  INTEGER NOT NULL,
	refresh_expires_at INTEGER NOT NULL,
	version            INTEGER NOT NULL,
	reauth_required    INTEGER NOT NULL,
	wrapped_key        BLOB,
	sealed             BLOB,
	lease_owner        TEXT    NOT NULL DEFAULT '',
	lease_until        INTEGER NOT NULL DEFAULT 0,
	updated_at         INTEGER NOT NULL
)`

// TokenStore is a tokens.Store in SQLite. Conditional writes are single
// UPDATE/INSERT statements, so they are atomic across processes sharing the file.
type TokenStore struct{ db *sql.DB }

// NewTokenStore creates the table if needed and returns the store.
func NewTokenStore(ctx context.Context, db *sql.DB) (*TokenStore, error) {
	if _, err := db.ExecContext(ctx, tokensSchema); err != nil {
		return nil, fmt.Errorf("create user_tokens table: %w", err)
	}
	return &TokenStore{db: db}, nil
}

// Get implements tokens.Store.
func (s *TokenStore) Get(ctx context.Context, userID int64) (tokens.Record, error) {
	var r tokens.Record
	var scopes string
	var acc, ref, until, upd int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, login, scopes, access_expires_at, refresh_expires_at, version,
		reauth_required, wrapped_key, sealed, lease_owner, lease_until, updated_at FROM user_tokens WHERE user_id = ?`, userID).
		Scan(&r.UserID, &r.Login, &scopes, &acc, &ref, &r.Version, &r.ReauthRequired, &r.WrappedKey, &r.Sealed, &r.LeaseOwner, &until, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return tokens.Record{}, tokens.ErrNotFound
	}
	if err != nil {
		return tokens.Record{}, fmt.Errorf("read token record of user %d: %w", userID, err)
	}
	if scopes != "" {
		r.Scopes = strings.Split(scopes, " ")
	}
	r.AccessExpiresAt, r.RefreshExpiresAt, r.LeaseUntil, r.UpdatedAt = fromNanos(acc), fromNanos(ref), fromNanos(until), fromNanos(upd)
	return r, nil
}

// Put implements tokens.Store.
func (s *TokenStore) Put(ctx context.Context, r tokens.Record, prevVersion int64) error {
	if r.Version != prevVersion+1 {
		return fmt.Errorf("put token record of user %d: version %d does not follow %d", r.UserID, r.Version, prevVersion)
	}
	args := []any{r.Login, strings.Join(r.Scopes, " "), nanos(r.AccessExpiresAt), nanos(r.RefreshExpiresAt), r.Version,
		r.ReauthRequired, r.WrappedKey, r.Sealed, nanos(r.UpdatedAt), r.UserID}
	var res sql.Result
	var err error
	if prevVersion == 0 {
		res, err = s.db.ExecContext(ctx, `INSERT INTO user_tokens (login, scopes, access_expires_at, refresh_expires_at, version,
			reauth_required, wrapped_key, sealed, updated_at, user_id) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (user_id) DO NOTHING`, args...)
	} else {
		res, err = s.db.ExecContext(ctx, `UPDATE user_tokens SET login=?, scopes=?, access_expires_at=?, refresh_expires_at=?, version=?,
			reauth_required=?, wrapped_key=?, sealed=?, updated_at=?, lease_owner='', lease_until=0
			WHERE user_id=? AND version=?`, append(args, prevVersion)...)
	}
	if err != nil {
		return fmt.Errorf("put token record of user %d: %w", r.UserID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("put token record of user %d at version %d: %w", r.UserID, prevVersion, tokens.ErrConflict)
	}
	return nil
}

// Lease implements tokens.Store.
func (s *TokenStore) Lease(ctx context.Context, userID int64, owner string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE user_tokens SET lease_owner=?, lease_until=?
		WHERE user_id=? AND (lease_owner='' OR lease_owner=? OR lease_until<=?)`, owner, nanos(until), userID, owner, nanos(now))
	if err != nil {
		return false, fmt.Errorf("lease token record of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := s.Get(ctx, userID); err != nil {
		return false, err
	}
	return false, nil
}

// Release implements tokens.Store.
func (s *TokenStore) Release(ctx context.Context, userID int64, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE user_tokens SET lease_owner='', lease_until=0 WHERE user_id=? AND lease_owner=?`,
		userID, owner); err != nil {
		return fmt.Errorf("release lease of user %d: %w", userID, err)
	}
	return nil
}

// Delete implements tokens.Store.
func (s *TokenStore) Delete(ctx context.Context, userID int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id=?`, userID); err != nil {
		return fmt.Errorf("delete token record of user %d: %w", userID, err)
	}
	return nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
