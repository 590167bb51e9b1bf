package marks

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/markstest"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

func open(t *testing.T, retention time.Duration) *Store {
	t.Helper()
	ctx := context.Background()
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "marks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Open(ctx, db, Options{Retention: retention})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	markstest.Run(t, func(t *testing.T, retention time.Duration) events.Marks { return open(t, retention) })
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := open(t, 10*time.Millisecond)
	for _, k := range []string{"a", "b"} {
		if err := s.Done(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(30 * time.Millisecond)
	if _, err := s.Acquire(ctx, "fresh", time.Hour); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want the 2 expired marks", n, err)
	}
	if st, _ := s.Acquire(ctx, "fresh", time.Hour); st != events.MarkBusy {
		t.Fatalf("Prune removed a live mark (Acquire = %v)", st)
	}
}
