// Package jobs is the embedded shape's jobs.Store: job records and small
// references (locks, index entries) in two SQLite tables, jobs and job_refs,
// on the database the other embedded stores share.
//
// Wiring (cmd/ai3 dev):
//
//	s, err := jobs.Open(ctx, env.DB, jobs.Options{Committer: env.Committer})
//	// now and then: s.Sweep(ctx, time.Now()); health: s.Check(ctx)
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

// A job is one row: its JSON body, plus the columns Update's condition,
// Latest and List need. A body holds a whole job (a 1,000-step job is about
// 250 KB of JSON), so the table keeps its rowid (SQLite advises against
// WITHOUT ROWID for rows that large).
const schema = `
CREATE TABLE IF NOT EXISTS jobs (
	id      TEXT NOT NULL PRIMARY KEY,
	thread  TEXT NOT NULL,    -- "owner/name#number"
	created TEXT NOT NULL,    -- CreatedAt in UTC, fixed-width RFC 3339 (sorts as text)
	version INTEGER NOT NULL,
	body    TEXT NOT NULL     -- the job as JSON
);
CREATE INDEX IF NOT EXISTS jobs_by_thread ON jobs (thread, created, id);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created, id);
CREATE TABLE IF NOT EXISTS job_refs (
	key        TEXT NOT NULL PRIMARY KEY,
	value      TEXT NOT NULL,
	expires_at INTEGER        -- unix ms; NULL: never
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS job_refs_expiry ON job_refs (expires_at) WHERE expires_at IS NOT NULL;
`

const (
	createSQL = `INSERT INTO jobs (id, thread, created, version, body) VALUES (?, ?, ?, 1, ?) ON CONFLICT (id) DO NOTHING`
	updateSQL = `UPDATE jobs SET thread = ?, created = ?, version = version + 1, body = ? WHERE id = ? AND version = ?`
	existsSQL = `SELECT count(*) FROM jobs WHERE id = ?`
	getSQL    = `SELECT body FROM jobs WHERE id = ?`
	latestSQL = `SELECT body FROM jobs WHERE thread = ? ORDER BY created DESC, id DESC LIMIT 1`
	listSQL   = `SELECT body FROM jobs WHERE created < ? ORDER BY created DESC, id DESC LIMIT ?`

	// putRefSQL takes key unless it is held by a reference that has not
	// expired: one statement, so two racing puts cannot both win.
	putRefSQL = `INSERT INTO job_refs (key, value, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
WHERE job_refs.expires_at IS NOT NULL AND job_refs.expires_at <= ?4`
	live       = `(expires_at IS NULL OR expires_at > ?)`
	getRefSQL  = `SELECT value FROM job_refs WHERE key = ? AND ` + live
	swapRefSQL = `UPDATE job_refs SET value = ? WHERE key = ? AND value = ? AND ` + live
	dropRefSQL = `DELETE FROM job_refs WHERE key = ? AND value = ? AND ` + live
)

// beyond is a created value after every real one ("9999-…" < "~"): List's
// bound when it lists from the newest.
const beyond = "~"

// Options configure the store; the zero value is usable.
type Options struct {
	// Committer, when set, is the database's shared group commit: pass the
	// one the other stores of the database use, so writes share batches and
	// queue on one write lock. WriteLock is then ignored.
	Committer *local.Committer
	// WriteLock, when set (and Committer is not), is held around every
	// write transaction: the lock the other writers of this database share.
	WriteLock sync.Locker
	// Now is the store's clock (a zero CreatedAt, references' ttl);
	// default time.Now.
	Now func() time.Time
}

// Store keeps jobs and references in SQLite. It is safe for concurrent use;
// writes are group-committed (local.Committer), reads run beside them (WAL).
type Store struct {
	db      *sql.DB
	commits *local.Committer
	now     func() time.Time

	createStmt, updateStmt, existsStmt, getStmt, latestStmt, listStmt *sql.Stmt
	putRefStmt, getRefStmt, swapRefStmt, dropRefStmt                  *sql.Stmt
}

var _ jobs.Store = (*Store)(nil)

// Open creates the jobs and job_refs tables when needed and returns the store.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("create jobs tables: %w", err)
	}
	s := &Store{db: db, commits: opts.Committer, now: opts.Now}
	if s.commits == nil {
		s.commits = local.NewCommitter(db, opts.WriteLock)
	} else if s.commits.DB() != db {
		return nil, errors.New("jobs: the committer writes to another database")
	}
	if s.now == nil {
		s.now = time.Now
	}
	err := local.Prepare(ctx, db, map[**sql.Stmt]string{
		&s.createStmt: createSQL, &s.updateStmt: updateSQL, &s.existsStmt: existsSQL,
		&s.getStmt: getSQL, &s.latestStmt: latestSQL, &s.listStmt: listSQL,
		&s.putRefStmt: putRefSQL, &s.getRefStmt: getRefSQL, &s.swapRefStmt: swapRefSQL, &s.dropRefStmt: dropRefSQL,
	})
	if err != nil {
		return nil, fmt.Errorf("prepare jobs statements: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements (not the database).
func (s *Store) Close() error {
	local.CloseStatements(s.createStmt, s.updateStmt, s.existsStmt, s.getStmt, s.latestStmt, s.listStmt,
		s.putRefStmt, s.getRefStmt, s.swapRefStmt, s.dropRefStmt)
	return nil
}

// Create implements jobs.Store.
func (s *Store) Create(ctx context.Context, j *jobs.Job) error {
	if err := jobs.Validate(j); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	c := j.Clone()
	c.Version = 1
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("create job %s: %w", j.ID, err)
	}
	var created bool
	err = s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.createStmt).ExecContext(ctx, c.ID, jobs.ThreadKey(c.Thread.Repo, c.Thread.Number), jobs.CreatedKey(c.CreatedAt), body)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		created = n == 1
		return err
	})
	if err != nil {
		return fmt.Errorf("create job %s: %w", j.ID, err)
	}
	if !created {
		return fmt.Errorf("create job %s: %w", j.ID, jobs.ErrExists)
	}
	j.Version, j.CreatedAt = 1, c.CreatedAt
	return nil
}

// Update implements jobs.Store.
func (s *Store) Update(ctx context.Context, j *jobs.Job) error {
	if err := jobs.Validate(j); err != nil {
		return fmt.Errorf("update job: %w", err)
	}
	c := j.Clone()
	c.Version++
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("update job %s: %w", j.ID, err)
	}
	var written, exists bool
	err = s.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.updateStmt).ExecContext(ctx, jobs.ThreadKey(c.Thread.Repo, c.Thread.Number), jobs.CreatedKey(c.CreatedAt), body, c.ID, j.Version)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			written = n == 1
			return err
		}
		var count int
		err = tx.StmtContext(ctx, s.existsStmt).QueryRowContext(ctx, c.ID).Scan(&count)
		exists = count > 0
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("update job %s: %w", j.ID, err)
	case written:
		j.Version = c.Version
		return nil
	case exists:
		return fmt.Errorf("update job %s at version %d: %w", j.ID, j.Version, jobs.ErrConflict)
	default:
		return fmt.Errorf("update job %s: %w", j.ID, jobs.ErrNotFound)
	}
}

// Get implements jobs.Store.
func (s *Store) Get(ctx context.Context, id string) (*jobs.Job, error) {
	if id == "" {
		return nil, errors.New("get job: empty id")
	}
	j, err := decode(s.getStmt.QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", id, err)
	}
	return j, nil
}

// Latest implements jobs.Store.
func (s *Store) Latest(ctx context.Context, repo string, number int) (*jobs.Job, error) {
	if repo == "" {
		return nil, errors.New("latest job: empty repository")
	}
	j, err := decode(s.latestStmt.QueryRowContext(ctx, jobs.ThreadKey(repo, number)))
	if err != nil {
		return nil, fmt.Errorf("latest job of %s#%d: %w", repo, number, err)
	}
	return j, nil
}

// List implements jobs.Store.
func (s *Store) List(ctx context.Context, limit int, before time.Time) ([]*jobs.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs: limit %d: must be positive", limit)
	}
	bound := beyond
	if !before.IsZero() {
		bound = jobs.CreatedKey(before)
	}
	rows, err := s.listStmt.QueryContext(ctx, bound, limit)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []*jobs.Job
	for rows.Next() {
		j, err := decode(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// decode reads a job's body from row; ErrNotFound when there is none.
func decode(row interface{ Scan(...any) error }) (*jobs.Job, error) {
	var body []byte
	if err := row.Scan(&body); errors.Is(err, sql.ErrNoRows) {
		return nil, jobs.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	var j jobs.Job
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("corrupt job record: %w", err)
	}
	return &j, nil
}
