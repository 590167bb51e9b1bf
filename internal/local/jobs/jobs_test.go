package jobs

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/jobstest"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

func openDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ai3.db")
	db, err := local.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func open(t testing.TB, db *sql.DB, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	jobstest.Run(t, func(t *testing.T, now func() time.Time) jobs.Store {
		db, _ := openDB(t)
		return open(t, db, Options{Now: now})
	})
}

// With the database's shared committer, as `ai3 dev` wires it.
func TestContractSharedCommitter(t *testing.T) {
	jobstest.Run(t, func(t *testing.T, now func() time.Time) jobs.Store {
		db, _ := openDB(t)
		c := local.NewCommitter(db, nil)
		t.Cleanup(func() { c.Close() })
		return open(t, db, Options{Committer: c, Now: now})
	})
}

func TestCommitterOfAnotherDatabase(t *testing.T) {
	db, _ := openDB(t)
	other, _ := openDB(t)
	if _, err := Open(context.Background(), db, Options{Committer: local.NewCommitter(other, nil)}); err == nil {
		t.Fatal("Open accepted a committer of another database")
	}
}

// Jobs and references survive closing and reopening the database; Open on
// existing tables is a no-op migration.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	db, path := openDB(t)
	s := open(t, db, Options{})
	j := jobstest.Sample("job-1", "octo/app", 7, time.Now())
	if err := s.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutRef(ctx, "lock/octo/app", "job-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db.Close()

	db2, err := local.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	s2 := open(t, db2, Options{})
	got, err := s2.Get(ctx, "job-1")
	if err != nil || got.Version != 1 || got.Workflow != "deploy" {
		t.Fatalf("after reopen Get = %+v, %v", got, err)
	}
	if v, err := s2.GetRef(ctx, "lock/octo/app"); err != nil || v != "job-1" {
		t.Fatalf("after reopen GetRef = %q, %v", v, err)
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	s := open(t, db, Options{})
	for key, ttl := range map[string]time.Duration{"short-1": time.Minute, "short-2": time.Second, "long": time.Hour, "forever": 0} {
		if _, err := s.PutRef(ctx, key, "v", ttl); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Sweep(ctx, time.Now().Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want the 2 expired refs", n, err)
	}
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM job_refs`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("%d refs left (%v), want long and forever", rows, err)
	}
	for _, key := range []string{"long", "forever"} {
		if _, err := s.GetRef(ctx, key); err != nil {
			t.Errorf("Sweep removed live ref %s: %v", key, err)
		}
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	s := open(t, db, Options{})
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check of fresh tables: %v", err)
	}
	if _, err := db.Exec(`DROP TABLE job_refs`); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err == nil {
		t.Fatal("Check passed without the job_refs table")
	}
}

// A row that is not a job is an error, never a zero job.
func TestCorruptBody(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	s := open(t, db, Options{})
	if err := s.Create(ctx, jobstest.Sample("job-1", "octo/app", 7, time.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE jobs SET body = '{"id":' WHERE id = 'job-1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "job-1"); err == nil || errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("Get of a corrupt row = %v, want a decode error", err)
	}
	if _, err := s.List(ctx, 10, time.Time{}); err == nil {
		t.Fatal("List of a corrupt row succeeded")
	}
}

// BenchmarkUpdate: one read-modify-write (Get, change a step, Update) of a
// 10-step job.
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	db, _ := openDB(b)
	s := open(b, db, Options{})
	if err := s.Create(ctx, jobstest.Big("bench", 10)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		j, err := s.Get(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		j.Steps["step-0001"].Attempts++
		if err := s.Update(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
}
