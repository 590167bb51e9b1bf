package archive

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

const dbSchema = `
CREATE TABLE IF NOT EXISTS archive_payloads (
	key       TEXT PRIMARY KEY,  -- yyyy/mm/dd/<event>/<hook id>/<delivery>.json
	encoding  TEXT NOT NULL CHECK (encoding IN ('', 'snappy')),
	size      INTEGER NOT NULL,  -- bytes of the payload itself
	crc       INTEGER NOT NULL,  -- CRC-32C of the payload itself
	body      BLOB NOT NULL,     -- the payload, compressed when encoding says so
	stored_at INTEGER NOT NULL   -- unix ms
);
CREATE INDEX IF NOT EXISTS archive_payloads_stored ON archive_payloads (stored_at);
`

// dbTier keeps small payloads in the committer's database.
type dbTier struct {
	commits          *local.Committer
	smallMax         int
	putStmt, getStmt *sql.Stmt
}

func openDBTier(ctx context.Context, opts Options) (*dbTier, error) {
	db := opts.Committer.DB()
	if _, err := db.ExecContext(ctx, dbSchema); err != nil {
		return nil, fmt.Errorf("archive: create payload table: %w", err)
	}
	t := &dbTier{commits: opts.Committer, smallMax: opts.SmallMax}
	if t.smallMax <= 0 {
		t.smallMax = DefaultSmallMax
	}
	err := local.Prepare(ctx, db, map[**sql.Stmt]string{
		// DO NOTHING: an archived payload is never replaced (CommitIn
		// compares what is there).
		&t.putStmt: `INSERT INTO archive_payloads (key, encoding, size, crc, body, stored_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
			ON CONFLICT (key) DO NOTHING`,
		&t.getStmt: `SELECT encoding, size, crc, body FROM archive_payloads WHERE key = ?`,
	})
	if err != nil {
		return nil, fmt.Errorf("archive: prepare payload statements: %w", err)
	}
	return t, nil
}

func (t *dbTier) close() error {
	local.CloseStatements(t.putStmt, t.getStmt)
	return nil
}

func (t *dbTier) get(ctx context.Context, key string) ([]byte, error) {
	var (
		encoding string
		size     int
		sum      uint32
		body     []byte
	)
	err := t.getStmt.QueryRowContext(ctx, key).Scan(&encoding, &size, &sum, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("archive: get %s: %w", key, events.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: get %s: %w", key, err)
	}
	if body, err = decode(encoding, size, sum, body); err != nil {
		return nil, fmt.Errorf("archive: get %s: %w", key, err)
	}
	return body, nil
}

func (t *dbTier) check(ctx context.Context) error {
	var n int
	if err := t.commits.DB().QueryRowContext(ctx, `SELECT count(*) FROM archive_payloads WHERE 0`).Scan(&n); err != nil {
		return fmt.Errorf("archive: payload table: %w", err)
	}
	return nil
}

// dbStaged is a small payload waiting for its Commit (an events.Staged),
// already encoded.
type dbStaged struct {
	a        *Archive
	key      string
	encoding string
	size     int
	sum      uint32
	body     []byte
	raw      []byte // the payload itself
}

// Commit writes the payload in the database's next group commit; once it
// returns the payload survives a crash. It never replaces an archived
// payload (see CommitIn).
func (s *dbStaged) Commit(ctx context.Context) (events.Ref, error) {
	if err := s.a.db.commits.Do(ctx, s.CommitIn); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", s.key, err)
	}
	return s.Ref(), nil
}

// Ref is where the payload is once committed.
func (s *dbStaged) Ref() events.Ref { return events.Ref{Bucket: Bucket, Key: s.key} }

// CommitIn writes the payload in tx, a transaction on the archive's
// database (claims.TxStaged): the receiver commits it with the delivery's
// event and claim. When the key holds a payload already, as a row or as a
// file, the same bytes are accepted as written and other bytes fail with
// events.ErrArchived, writing nothing.
func (s *dbStaged) CommitIn(ctx context.Context, tx *sql.Tx) error {
	if have, err := os.ReadFile(s.a.path(s.key)); err == nil {
		_, err = sameOrArchived(s.Ref(), have, s.raw)
		return err
	}
	res, err := tx.StmtContext(ctx, s.a.db.putStmt).ExecContext(ctx, s.key, s.encoding, s.size, s.sum, s.body, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var (
		encoding string
		size     int
		sum      uint32
		have     []byte
	)
	if err := tx.StmtContext(ctx, s.a.db.getStmt).QueryRowContext(ctx, s.key).Scan(&encoding, &size, &sum, &have); err != nil {
		return fmt.Errorf("read the payload archived at %s: %w", s.key, err)
	}
	if encoding != s.encoding || size != s.size || sum != s.sum || !bytes.Equal(have, s.body) {
		return fmt.Errorf("%s: %w", s.key, events.ErrArchived)
	}
	return nil
}

// Discard forgets the payload (nothing was written).
func (s *dbStaged) Discard() {}
