package pace_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local"
	localjobs "github.com/sbalswa/ai3-mvp/internal/local/jobs"
)

func openSQLite(t testing.TB, now func() time.Time) jobs.Store {
	t.Helper()
	db, err := local.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := localjobs.Open(context.Background(), db, localjobs.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestOnSQLite runs the budget on the embedded shape's real store, where
// compare-and-swap goes through SQLite's group commit.
func TestOnSQLite(t *testing.T) {
	t.Run("concurrent reserve", func(t *testing.T) { concurrentReserve(t, openSQLite(t, nil)) })
}
