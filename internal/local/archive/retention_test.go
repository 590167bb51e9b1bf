package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

// openTiered returns an archive with both tiers: payloads up to 64 bytes
// in the database, larger ones as files.
func openTiered(t *testing.T) *Archive {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	commits := local.NewCommitter(db, nil)
	t.Cleanup(func() { commits.Close() })
	a, err := Open(ctx, filepath.Join(dir, "payloads"), Options{Committer: commits, SmallMax: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestListBothTiers(t *testing.T) {
	ctx := context.Background()
	a := openTiered(t)
	small, large := []byte(`{"a":1}`), bytes.Repeat([]byte("x"), 200)
	for _, p := range []struct {
		key  string
		body []byte
	}{
		{"2026/11/28/push/b.json", small},
		{"2026/11/28/push/a.json", large},
		{"2026/11/28/issues/c.json", small},
		{"2026/11/27/push/d.json", large},
	} {
		if _, err := a.Put(ctx, p.key, p.body); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"", 0, []string{"2026/11/27/push/d.json", "2026/11/28/issues/c.json", "2026/11/28/push/a.json", "2026/11/28/push/b.json"}},
		{"2026/11/28/push/", 0, []string{"2026/11/28/push/a.json", "2026/11/28/push/b.json"}},
		{"2026/11/28/p", 0, []string{"2026/11/28/push/a.json", "2026/11/28/push/b.json"}},
		{"2026/11/2", 2, []string{"2026/11/27/push/d.json", "2026/11/28/issues/c.json"}},
		{"2025/", 0, []string{}},
	} {
		got, err := a.List(ctx, tc.prefix, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q, %d) = %q, want %q", tc.prefix, tc.limit, got, tc.want)
		}
	}
}

// Sweep deletes rows stored before the cutoff and the files of days that
// ended by then; what is newer stays readable.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	a := openTiered(t)
	large := bytes.Repeat([]byte("y"), 200)
	today := time.Now().UTC()
	todayKey := today.Format("2006/01/02") + "/push/new.json"
	oldKey := today.AddDate(0, 0, -100).Format("2006/01/02") + "/push/old.json"
	for _, k := range []string{todayKey, oldKey} {
		if _, err := a.Put(ctx, k, large); err != nil {
			t.Fatal(err)
		}
	}
	rowKey := today.Format("2006/01/02") + "/issues/row.json"
	if _, err := a.Put(ctx, rowKey, []byte(`{"small":true}`)); err != nil {
		t.Fatal(err)
	}

	// 90 days back: only the old day's file goes.
	n, err := a.Sweep(ctx, time.Now().Add(-Retention))
	if err != nil || n != 1 {
		t.Fatalf("Sweep(90 days ago) = %d, %v; want 1 deleted", n, err)
	}
	if _, err := a.Get(ctx, events.Ref{Bucket: Bucket, Key: oldKey}); !errors.Is(err, events.ErrNotFound) {
		t.Errorf("the 100-day-old payload is still there: %v", err)
	}
	for _, k := range []string{todayKey, rowKey} {
		if _, err := a.Get(ctx, events.Ref{Bucket: Bucket, Key: k}); err != nil {
			t.Errorf("%s was swept too early: %v", k, err)
		}
	}
	// A Put into a swept day recreates its directory.
	if _, err := a.Put(ctx, oldKey, large); err != nil {
		t.Fatalf("Put into a swept day: %v", err)
	}

	// A cutoff after everything deletes it all: the row, today's file and
	// the one just written back.
	n, err = a.Sweep(ctx, time.Now().Add(48*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("Sweep(the day after tomorrow) = %d, %v; want 3 deleted", n, err)
	}
	if keys, err := a.List(ctx, "", 0); err != nil || len(keys) != 0 {
		t.Fatalf("after sweeping everything List = %q, %v", keys, err)
	}
}

// Sweeping more rows than one chunk deletes them all, chunk by chunk.
func TestSweepManyRows(t *testing.T) {
	ctx := context.Background()
	a := openTiered(t)
	const rows = sweepChunk*2 + 7
	for i := range rows {
		if _, err := a.Put(ctx, fmt.Sprintf("2026/11/28/push/d-%d.json", i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := a.Sweep(ctx, time.Now().Add(time.Minute))
	if err != nil || n != rows {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, rows)
	}
}
