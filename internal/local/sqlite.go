// Package local holds the embedded adapters of ai3's ports: SQLite stores,
// payload files on disk, the durable in-process bus and the local keyring.
package local

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver ("sqlite")
)

// OpenSQLite opens (creating if needed) the SQLite database at path with the
// settings every embedded store relies on: WAL journal, a busy timeout so
// concurrent writers wait instead of failing, foreign keys on, and
// synchronous=FULL so a committed write survives a crash.
//
// A new database file is created 0600 (SQLite gives its -wal and -shm files
// the same mode): it holds payloads and sealed tokens.
func OpenSQLite(ctx context.Context, path string) (*sql.DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	f.Close()
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"busy_timeout(10000)",
		"foreign_keys(ON)",
		"synchronous(FULL)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// database/sql keeps 2 idle connections by default: with more
	// concurrent readers than that, connections are closed and reopened
	// all the time, and opening one (pragmas, schema) costs more than the
	// query it serves.
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// Prepare prepares each query of stmts into the statement it is keyed by
// (prepared once: parsing SQL is a large share of a small write's CPU). If
// one fails, the ones already prepared are closed and set back to nil.
func Prepare(ctx context.Context, db *sql.DB, stmts map[**sql.Stmt]string) error {
	for dst, query := range stmts {
		st, err := db.PrepareContext(ctx, query)
		if err != nil {
			for p := range stmts {
				CloseStatements(*p)
				*p = nil
			}
			return err
		}
		*dst = st
	}
	return nil
}

// CloseStatements closes the statements that are not nil.
func CloseStatements(stmts ...*sql.Stmt) {
	for _, st := range stmts {
		if st != nil {
			st.Close()
		}
	}
}
