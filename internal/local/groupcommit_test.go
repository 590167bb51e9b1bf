package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// openCommitDB opens a fresh database with a table t(id, v) and returns it
// with its path.
func openCommitDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ai3.db")
	db, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// newTestCommitter returns the committer of db; when the test ends it waits
// for the committer's background checkpoint (before db is closed).
func newTestCommitter(t *testing.T, db *sql.DB, lock sync.Locker) *Committer {
	t.Helper()
	c := NewCommitter(db, lock)
	t.Cleanup(func() { waitFor(t, "the background checkpoint to end", func() bool { return !c.ckpt.running.Load() }) })
	return c
}

// waitFor polls cond until it holds; the test fails after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// pendingCalls is the number of calls in the batch gathering now.
func pendingCalls(c *Committer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return 0
	}
	return len(c.pending.fns)
}

func insert(id int, v string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, id, v)
		return err
	}
}

// hold starts a Do whose fn blocks until release is called, so that the
// calls made meanwhile gather in the next batch. It returns once fn runs
// (the batch is committing); wait returns that Do's error.
func hold(t *testing.T, c *Committer, id int) (release func(), wait func() error) {
	t.Helper()
	entered, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(entered)
			<-unblock
			return insert(id, "held")(ctx, tx)
		})
	}()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("the holding call returned before running: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the holding call never ran")
	}
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return release, func() error { return <-done }
}

// ids returns the ids of the rows of t, read through db.
func ids(t *testing.T, db *sql.DB) map[int]string {
	t.Helper()
	rows, err := db.Query(`SELECT id, v FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]string{}
	for rows.Next() {
		var id int
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got[id] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// crashCopy copies the database file and its log, as they are on disk now,
// to a new directory (what a restart after a crash would find; the
// shared-memory index is left behind, as a reboot loses it) and opens the
// copy. The caller holds the write lock so that no commit runs meanwhile.
func crashCopy(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := OpenSQLite(context.Background(), testenv.CrashCopy(t, path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// txRecorder records which transaction each call ran in.
type txRecorder struct {
	mu  sync.Mutex
	txs map[*sql.Tx]int // calls per transaction
}

func (r *txRecorder) wrap(fn func(context.Context, *sql.Tx) error) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		r.mu.Lock()
		if r.txs == nil {
			r.txs = map[*sql.Tx]int{}
		}
		r.txs[tx]++
		r.mu.Unlock()
		return fn(ctx, tx)
	}
}

func (r *txRecorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.txs) }

// Calls made while a batch commits gather in the next one: 50 calls queued
// behind a committing batch share exactly one transaction.
func TestDoBatchesCallsQueuedBehindACommit(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	release, waitHeld := hold(t, c, 1000)
	var rec txRecorder
	const n = 50
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		go func() {
			<-start
			errs <- c.Do(context.Background(), rec.wrap(insert(i, fmt.Sprint("v", i))))
		}()
	}
	close(start)
	waitFor(t, "50 calls to queue", func() bool { return pendingCalls(c) == n })
	release()
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.count(); got != 1 {
		t.Fatalf("50 queued calls ran in %d transactions, want 1", got)
	}
	if got := len(ids(t, db)); got != n+1 {
		t.Fatalf("%d rows, want %d", got, n+1)
	}
}

// 50 calls released together share transactions: fewer commits than calls.
func TestDoBatchesConcurrentCalls(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	var rec txRecorder
	const n = 50
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs <- c.Do(context.Background(), rec.wrap(insert(i, "v")))
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.count(); got >= n {
		t.Fatalf("%d calls ran in %d transactions: no batching", n, got)
	}
	if got := len(ids(t, db)); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	t.Logf("%d calls in %d transactions", n, rec.count())
}

// Calls run in arrival order, and a batch commits after the one before it.
func TestDoRunsCallsInArrivalOrder(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	var (
		mu    sync.Mutex
		order []int
	)
	record := func(i int) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			return insert(i, "v")(ctx, tx)
		}
	}
	release, waitHeld := hold(t, c, 1000)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- c.Do(context.Background(), record(i)) }()
		waitFor(t, fmt.Sprintf("call %d to queue", i), func() bool { return pendingCalls(c) == i+1 })
	}
	mu.Lock()
	if len(order) != 0 {
		t.Errorf("calls of the next batch ran before the committing batch ended: %v", order)
	}
	mu.Unlock()
	release()
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, got := range order {
		if got != i {
			t.Fatalf("calls ran in order %v, want 0..%d", order, n-1)
		}
	}
}

// Each caller's write is committed when its Do returns: another database
// handle reads it at once, and a copy of the files on disk (a crash right
// after) holds every row.
func TestDoWritesAreDurableOnReturn(t *testing.T) {
	db, path := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	other, err := OpenSQLite(context.Background(), path) // a second pool: no shared connection
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			if err := c.Do(context.Background(), insert(i, fmt.Sprint("v", i))); err != nil {
				errs <- err
				return
			}
			var v string
			if err := other.QueryRow(`SELECT v FROM t WHERE id = ?`, i).Scan(&v); err != nil || v != fmt.Sprint("v", i) {
				errs <- fmt.Errorf("row %d right after Do: %q, %v", i, v, err)
				return
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	c.Lock().Lock()
	copied := crashCopy(t, path)
	c.Lock().Unlock()
	got := ids(t, copied)
	for i := range n {
		if got[i] != fmt.Sprint("v", i) {
			t.Fatalf("after a crash row %d is %q, want %q (rows %v)", i, got[i], fmt.Sprint("v", i), got)
		}
	}
}

var errBoom = errors.New("boom")

// One failing call fails every call of its batch and none of the batch's
// writes is kept; the batch before it and the batch after it commit.
func TestFailingCallFailsItsWholeBatch(t *testing.T) {
	db, path := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	release1, wait1 := hold(t, c, 1000)

	// Batch 2: call 5 blocks (so that batch 3 gathers while batch 2 is
	// committing), then calls 0..4, of which call 2 fails after its insert.
	const n = 5
	errs2 := make(chan error, n+1)
	entered, unblock := make(chan struct{}), make(chan struct{})
	go func() {
		errs2 <- c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(entered)
			<-unblock
			return insert(5, "batch 2")(ctx, tx)
		})
	}()
	waitFor(t, "the first call of batch 2 to queue", func() bool { return pendingCalls(c) == 1 })
	for i := range n {
		fn := insert(i, "batch 2")
		if i == 2 {
			fn = func(ctx context.Context, tx *sql.Tx) error {
				if err := insert(i, "batch 2")(ctx, tx); err != nil {
					return err
				}
				return fmt.Errorf("call %d: %w", i, errBoom)
			}
		}
		go func() { errs2 <- c.Do(context.Background(), fn) }()
	}
	waitFor(t, "batch 2 to queue", func() bool { return pendingCalls(c) == n+1 })
	release1()
	if err := wait1(); err != nil {
		t.Fatalf("batch 1: %v", err)
	}
	<-entered // batch 2 is committing
	errs3 := make(chan error, 3)
	for i := 10; i < 13; i++ {
		go func() { errs3 <- c.Do(context.Background(), insert(i, "batch 3")) }()
	}
	waitFor(t, "batch 3 to queue", func() bool { return pendingCalls(c) == 3 })
	close(unblock)
	for range n + 1 {
		if err := <-errs2; !errors.Is(err, errBoom) {
			t.Errorf("a call of the failed batch returned %v, want %v", err, errBoom)
		}
	}
	for range 3 {
		if err := <-errs3; err != nil {
			t.Errorf("a call of the batch after the failed one: %v", err)
		}
	}
	if err := c.Do(context.Background(), insert(20, "later")); err != nil {
		t.Fatalf("a later call: %v", err)
	}
	c.Lock().Lock()
	copied := crashCopy(t, path)
	c.Lock().Unlock()
	want := map[int]string{1000: "held", 10: "batch 3", 11: "batch 3", 12: "batch 3", 20: "later"}
	for name, h := range map[string]*sql.DB{"database": db, "crash copy": copied} {
		got := ids(t, h)
		if len(got) != len(want) {
			t.Errorf("%s rows %v, want %v", name, got, want)
		}
		for id, v := range want {
			if got[id] != v {
				t.Errorf("%s rows %v, want %v", name, got, want)
				break
			}
		}
	}
}

// A context that has ended fails Do at once with its error and runs
// nothing; a context that ends once the call is queued does not stop it.
func TestDoWithEndedContext(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	ran := false
	for _, ctx := range []context.Context{cancelled, expired} {
		err := c.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			ran = true
			return insert(1, "x")(ctx, tx)
		})
		if err == nil || err != ctx.Err() {
			t.Errorf("Do = %v, want %v", err, ctx.Err())
		}
	}
	if ran || pendingCalls(c) != 0 {
		t.Fatalf("a call with an ended context was run (%v) or queued (%d)", ran, pendingCalls(c))
	}
	if got := ids(t, db); len(got) != 0 {
		t.Fatalf("rows %v after cancelled calls", got)
	}

	release, waitHeld := hold(t, c, 1000)
	ctx, cancel3 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Do(ctx, insert(2, "queued")) }()
	waitFor(t, "the call to queue", func() bool { return pendingCalls(c) == 1 })
	cancel3()
	release()
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("a queued call whose context ended: %v, want nil (it goes ahead with its batch)", err)
	}
	if got := ids(t, db); got[2] != "queued" {
		t.Fatalf("rows %v, want the queued call's row", got)
	}
}

// Many callers, each making many calls: every call returns nil and every
// write is there (no hand-off is lost, nothing deadlocks).
func TestDoUnderHeavyConcurrency(t *testing.T) {
	db, path := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	const callers, calls = 200, 20
	var rec txRecorder
	errs := make(chan error, callers*calls)
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for g := range callers {
			wg.Go(func() {
				for i := range calls {
					errs <- c.Do(context.Background(), rec.wrap(insert(g*calls+i, "v")))
				}
			})
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%d of %d calls returned in 60 s: a hand-off was lost", len(errs), callers*calls)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.Lock().Lock()
	copied := crashCopy(t, path)
	c.Lock().Unlock()
	for name, h := range map[string]*sql.DB{"database": db, "crash copy": copied} {
		if got := len(ids(t, h)); got != callers*calls {
			t.Errorf("%s has %d rows, want %d", name, got, callers*calls)
		}
	}
	if n := rec.count(); n >= callers*calls {
		t.Errorf("%d calls in %d transactions: no batching", callers*calls, n)
	} else {
		t.Logf("%d calls in %d transactions", callers*calls, n)
	}
	c.mu.Lock()
	idle := !c.busy && c.pending == nil
	c.mu.Unlock()
	if !idle {
		t.Fatal("the committer is still busy or has a pending batch after every call returned")
	}
}

// The committer holds the lock it was given around each transaction, so
// other writers of the database queue on it.
func TestDoHoldsTheWriteLock(t *testing.T) {
	db, _ := openCommitDB(t)
	lock := &sync.Mutex{}
	c := newTestCommitter(t, db, lock)
	if c.Lock() != lock || c.DB() != db {
		t.Fatal("Lock or DB is not what the committer was given")
	}
	err := c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		if lock.TryLock() {
			lock.Unlock()
			return errors.New("the write lock is free during the transaction")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !lock.TryLock() {
		t.Fatal("the write lock is held after Do returned")
	}
	lock.Unlock()
}

// A call that panics fails its whole batch (rolled back) instead of leaving
// the write lock held: the committer goes on with the next batch.
func TestPanickingCallFailsItsBatch(t *testing.T) {
	db, _ := openCommitDB(t)
	lock := &sync.Mutex{}
	c := newTestCommitter(t, db, lock)
	release, waitHeld := hold(t, c, 1000)
	errs := make(chan error, 2)
	go func() { errs <- c.Do(context.Background(), insert(1, "beside the panic")) }()
	waitFor(t, "the first call to queue", func() bool { return pendingCalls(c) == 1 })
	go func() {
		errs <- c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error { panic("write exploded") })
	}()
	waitFor(t, "the panicking call to queue", func() bool { return pendingCalls(c) == 2 })
	release()
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a call of the batch with a panic returned nil")
		}
	}
	if !lock.TryLock() {
		t.Fatal("the write lock is held after the panic")
	}
	lock.Unlock()
	if err := c.Do(context.Background(), insert(2, "after")); err != nil {
		t.Fatalf("Do after a panic: %v", err)
	}
	if got := ids(t, db); len(got) != 2 || got[1000] != "held" || got[2] != "after" {
		t.Fatalf("rows %v, want 1000 and 2", got)
	}
}

// Close releases the committer's connection; a later Do opens another.
func TestCloseReleasesTheConnection(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	if err := c.Do(context.Background(), insert(1, "a")); err != nil {
		t.Fatal(err)
	}
	old := writerConn(c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if writerConn(c) != nil {
		t.Fatal("the connection is kept after Close")
	}
	if err := old.PingContext(context.Background()); !errors.Is(err, sql.ErrConnDone) {
		t.Fatalf("the old connection answers after Close: %v", err)
	}
	if err := c.Do(context.Background(), insert(2, "b")); err != nil {
		t.Fatal(err)
	}
	if got := len(ids(t, db)); got != 2 {
		t.Fatalf("%d rows, want 2", got)
	}
}

// A batch that does not commit within its deadline fails every call in it
// with ErrBatchTimeout and writes nothing; the next batch commits.
func TestBatchTimeout(t *testing.T) {
	db, _ := openCommitDB(t)
	c := newTestCommitter(t, db, nil)
	c.timeout = 50 * time.Millisecond
	stuck := func(ctx context.Context, tx *sql.Tx) error {
		if err := insert(1, "stuck")(ctx, tx); err != nil {
			return err
		}
		<-ctx.Done() // a write that hangs until the batch's deadline
		return ctx.Err()
	}
	if err := c.Do(context.Background(), stuck); !errors.Is(err, ErrBatchTimeout) {
		t.Fatalf("Do of a hanging write = %v, want ErrBatchTimeout", err)
	}
	// The next batch gets the default deadline: 50 ms is too short for a
	// real commit on a slow machine (Do has returned: nothing reads it now).
	c.timeout = 0
	if err := c.Do(context.Background(), insert(2, "after")); err != nil {
		t.Fatalf("Do after a timed-out batch: %v", err)
	}
	if rows := ids(t, db); len(rows) != 1 || rows[2] != "after" {
		t.Fatalf("rows %v, want only 2", rows)
	}
}
