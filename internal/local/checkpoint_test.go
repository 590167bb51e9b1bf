package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"sync"
	"testing"
	"time"
)

// autocheckpoint is conn's wal_autocheckpoint setting.
func autocheckpoint(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRowContext(context.Background(), `PRAGMA wal_autocheckpoint`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writerConn is the committer's connection (nil when it has none), read
// under the write lock.
func writerConn(c *Committer) *sql.Conn {
	c.lock.Lock()
	defer c.lock.Unlock()
	return c.ckpt.conn
}

// writeRows writes n rows of size random (incompressible) bytes, one
// commit each.
func writeRows(t *testing.T, c *Committer, first, n, size int) {
	t.Helper()
	for i := range n {
		v := make([]byte, size)
		rand.Read(v)
		err := c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, first+i, v)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// walSalt is the salt in the log's header, which changes each time the log
// restarts from its beginning.
func walSalt(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr := make([]byte, 32)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	return hdr[16:24]
}

// noop is a call that writes nothing (it still commits, and so schedules a
// checkpoint).
func noop(context.Context, *sql.Tx) error { return nil }

// pauseBackground keeps the committer from starting background checkpoints
// (as if one were always running) until the returned func is called.
func pauseBackground(t *testing.T, c *Committer) (resume func()) {
	t.Helper()
	waitFor(t, "the background checkpoint to end", func() bool { return c.ckpt.running.CompareAndSwap(false, true) })
	var once sync.Once
	resume = func() { once.Do(func() { c.ckpt.running.Store(false) }) }
	t.Cleanup(resume)
	return resume
}

// The committer's own connection never checkpoints inside a commit; the
// pool's other connections keep SQLite's default.
func TestCommitterConnectionDoesNotAutoCheckpoint(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	if err := c.Do(context.Background(), noop); err != nil {
		t.Fatal(err)
	}
	c.lock.Lock()
	got := autocheckpoint(t, c.ckpt.conn)
	c.lock.Unlock()
	if got != 0 {
		t.Fatalf("the committer's connection has wal_autocheckpoint=%d, want 0", got)
	}
	other, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got := autocheckpoint(t, other); got == 0 {
		t.Fatal("another connection of the pool has wal_autocheckpoint=0")
	}
}

// Commits leave their pages in the log until a background checkpoint
// copies them into the database file; that happens after commits, with no
// one else checkpointing.
func TestBackgroundCheckpointCopiesTheLog(t *testing.T) {
	db, path := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	resume := pauseBackground(t, c)
	const rows, size = 64, 16 << 10 // 1 MiB
	writeRows(t, c, 0, rows, size)
	before := fileSize(t, path)
	if before >= rows*size {
		t.Fatalf("the database file has %d bytes with background checkpoints paused: something else checkpointed", before)
	}
	if wal := fileSize(t, path+"-wal"); wal < rows*size {
		t.Fatalf("the log has %d bytes, want the %d written", wal, rows*size)
	}
	resume()
	waitFor(t, "a background checkpoint to copy the log", func() bool {
		if err := c.Do(context.Background(), noop); err != nil {
			t.Fatal(err)
		}
		return fileSize(t, path) >= rows*size
	})
}

// A background pass asks for a RESTART checkpoint when the log is larger
// than walLimit, and only then.
func TestBackgroundPassAsksForRestartPastWALLimit(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	resume := pauseBackground(t, c)
	writeRows(t, c, 0, 16, 16<<10) // 256 KiB in the log
	pass := func() bool {
		t.Helper()
		c.ckpt.mu.Lock()
		c.ckpt.last = time.Time{} // due now
		c.ckpt.mu.Unlock()
		c.ckpt.afterCommit(db)
		waitFor(t, "the background pass to end", func() bool { return !c.ckpt.running.Load() })
		return c.ckpt.restart.Load()
	}
	resume()
	if pass() {
		t.Fatalf("a 256 KiB log under a %d byte limit asked for a RESTART", walLimit)
	}
	defer func(old int64) { walLimit = old }(walLimit)
	walLimit = 64 << 10
	if !pass() {
		t.Fatalf("a 256 KiB log over a %d byte limit did not ask for a RESTART", walLimit)
	}
}

// Once a RESTART is asked for, the next commit first checkpoints the whole
// log into the database file and then writes from the log's beginning.
func TestRestartCheckpointRunsBeforeTheNextCommit(t *testing.T) {
	db, path := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	pauseBackground(t, c) // only the RESTART checkpoints
	const rows, size = 16, 16 << 10
	writeRows(t, c, 0, rows, size)
	salt := bytes.Clone(walSalt(t, path))
	if got := fileSize(t, path); got >= rows*size {
		t.Fatalf("the database file has %d bytes before any checkpoint", got)
	}
	// Without a request, a commit checkpoints nothing and appends.
	if err := c.Do(context.Background(), noop); err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, path); got >= rows*size {
		t.Fatalf("a commit checkpointed (database file %d bytes) with no RESTART asked for", got)
	}
	c.ckpt.restart.Store(true)
	writeRows(t, c, rows, 1, 100)
	if c.ckpt.restart.Load() {
		t.Fatal("the RESTART request is still pending after a commit")
	}
	if got := fileSize(t, path); got < rows*size {
		t.Fatalf("after the RESTART checkpoint the database file has %d bytes, want at least %d", got, rows*size)
	}
	if bytes.Equal(walSalt(t, path), salt) {
		t.Fatal("the commit after the RESTART checkpoint did not restart the log")
	}
	if got := len(ids(t, db)); got != rows+1 {
		t.Fatalf("%d rows, want %d", got, rows+1)
	}
}

// A connection found broken when a batch begins is replaced by another,
// set up the same way, and the batch commits on it; nothing is lost.
func TestBrokenConnectionIsReplaced(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	if err := c.Do(context.Background(), insert(1, "before")); err != nil {
		t.Fatal(err)
	}
	old := writerConn(c)
	if old == nil {
		t.Fatal("no writer connection after a commit")
	}
	c.lock.Lock()
	old.Close()
	c.lock.Unlock()
	if err := c.Do(context.Background(), insert(2, "after")); err != nil {
		t.Fatalf("Do after the connection broke: %v", err)
	}
	conn := writerConn(c)
	if conn == nil || conn == old {
		t.Fatal("no new writer connection")
	}
	c.lock.Lock()
	got := autocheckpoint(t, conn)
	c.lock.Unlock()
	if got != 0 {
		t.Fatalf("the new connection has wal_autocheckpoint=%d, want 0", got)
	}
	rows := ids(t, db)
	if len(rows) != 2 || rows[1] != "before" || rows[2] != "after" {
		t.Fatalf("rows %v, want 1 and 2", rows)
	}
}
