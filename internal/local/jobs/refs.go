package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// PutRef implements jobs.Store. An expired reference counts as absent, though
// Sweep may not have deleted it yet.
func (s *Store) PutRef(ctx context.Context, key, value string, ttl time.Duration) (string, error) {
	if err := jobs.ValidRef(key, value, ttl); err != nil {
		return "", err
	}
	now := s.now()
	var expires sql.NullInt64
	if ttl > 0 {
		expires = sql.NullInt64{Int64: now.Add(ttl).UnixMilli(), Valid: true}
	}
	var taken bool
	var holder string
	err := s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.putRefStmt).ExecContext(ctx, key, value, expires, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			taken = n == 1
			return err
		}
		return tx.StmtContext(ctx, s.getRefStmt).QueryRowContext(ctx, key, now.UnixMilli()).Scan(&holder)
	})
	if err != nil {
		return "", fmt.Errorf("put ref %s: %w", key, err)
	}
	if !taken {
		return holder, fmt.Errorf("put ref %s: %w", key, jobs.ErrExists)
	}
	return "", nil
}

// GetRef implements jobs.Store.
func (s *Store) GetRef(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", errors.New("get ref: empty key")
	}
	var v string
	err := s.getRefStmt.QueryRowContext(ctx, key, s.now().UnixMilli()).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("get ref %s: %w", key, jobs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get ref %s: %w", key, err)
	}
	return v, nil
}

// SwapRef implements jobs.Store.
func (s *Store) SwapRef(ctx context.Context, key, old, value string) error {
	if key == "" {
		return errors.New("swap ref: empty key")
	}
	now := s.now().UnixMilli()
	var swapped bool
	err := s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var res sql.Result
		var err error
		if value == "" {
			res, err = tx.StmtContext(ctx, s.dropRefStmt).ExecContext(ctx, key, old, now)
		} else {
			res, err = tx.StmtContext(ctx, s.swapRefStmt).ExecContext(ctx, value, key, old, now)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		swapped = n == 1
		return err
	})
	if err != nil {
		return fmt.Errorf("swap ref %s: %w", key, err)
	}
	if !swapped {
		return fmt.Errorf("swap ref %s: %w", key, jobs.ErrConflict)
	}
	return nil
}

// Sweep deletes references whose ttl ended at or before now and reports how
// many; the dev server runs it now and then so the table stays small.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM job_refs WHERE expires_at IS NOT NULL AND expires_at <= ?`, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep job refs: %w", err)
	}
	return n, nil
}

// Check reports whether the jobs tables answer (GET /healthz).
func (s *Store) Check(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM jobs WHERE 0) + (SELECT count(*) FROM job_refs WHERE 0)`).Scan(&n); err != nil {
		return fmt.Errorf("jobs tables: %w", err)
	}
	return nil
}
