package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/archivetest"
)

func TestContract(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) events.Archive {
		a, err := Open(context.Background(), filepath.Join(t.TempDir(), "payloads"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return a
	})
}

func TestFilesArePrivate(t *testing.T) {
	root := filepath.Join(t.TempDir(), "payloads")
	a, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(context.Background(), "2026/11/28/push/p.json", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		path string
		want os.FileMode
	}{
		{root, 0o700}, {filepath.Join(root, "2026", "11", "28", "push"), 0o700}, {filepath.Join(root, "2026/11/28/push/p.json"), 0o600},
	} {
		st, err := os.Stat(p.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != p.want {
			t.Errorf("%s has mode %v, want %v", p.path, st.Mode().Perm(), p.want)
		}
	}
}

// A crash in the middle of a write leaves only a hidden temp file: the key
// reads as absent (never partial) and the next Put succeeds.
func TestCrashLeftoverIsNeverRead(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	a, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "2026/11/28/push/crash.json"
	dir := filepath.Join(root, "2026/11/28/push")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tmp-crash.json-123"), []byte(`{"half":`), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := events.Ref{Bucket: Bucket, Key: key}
	if _, err := a.Get(ctx, ref); !errors.Is(err, events.ErrNotFound) {
		t.Fatalf("Get after a crashed write: %v, want ErrNotFound", err)
	}
	if _, err := a.Put(ctx, key, []byte(`{"whole":true}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx, ref); err != nil || string(got) != `{"whole":true}` {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

// A write that fails at the last step (rename) reports the error and leaves
// neither the key nor a temp file behind.
func TestFailedWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	a, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "2026/11/28/push/blocked.json"
	// A non-empty directory where the file should go makes rename fail.
	if err := os.MkdirAll(filepath.Join(root, key, "inside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, key, []byte(`{}`)); err == nil {
		t.Fatal("Put over a directory succeeded")
	}
	entries, err := os.ReadDir(filepath.Join(root, "2026/11/28/push"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Fatalf("failed Put left temp file %s", e.Name())
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Put(cctx, "2026/11/28/push/cancelled.json", []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "2026/11/28/push/cancelled.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cancelled Put stored a file: %v", err)
	}
}

// Writers racing to archive other bytes at one key: exactly one wins, the
// others get ErrArchived, and readers see nothing or the winner whole, never
// a mix or a replacement.
func TestRacingWritersNeverReplace(t *testing.T) {
	ctx := context.Background()
	a, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "2026/11/28/push/1/race.json"
	ref := events.Ref{Bucket: Bucket, Key: key}
	versions := [][]byte{bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 2<<20), bytes.Repeat([]byte("c"), 3<<20)}
	var wg sync.WaitGroup
	wins := make(chan []byte, len(versions))
	for _, v := range versions {
		wg.Go(func() {
			_, err := a.Put(ctx, key, v)
			switch {
			case err == nil:
				wins <- v
			case !errors.Is(err, events.ErrArchived):
				t.Error(err)
			}
		})
	}
	seen := map[int]bool{}
	for range 200 {
		got, err := a.Get(ctx, ref)
		if errors.Is(err, events.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(got, v) }) {
			t.Fatalf("read a torn payload of %d bytes", len(got))
		}
		seen[len(got)] = true
	}
	wg.Wait()
	close(wins)
	var won [][]byte
	for w := range wins {
		won = append(won, w)
	}
	if len(won) != 1 || len(seen) > 1 {
		t.Fatalf("%d writers won, readers saw %d versions; want exactly one of each", len(won), len(seen))
	}
	if got, err := a.Get(ctx, ref); err != nil || !bytes.Equal(got, won[0]) {
		t.Fatalf("Get = %d bytes, %v; want the winner's %d", len(got), err, len(won[0]))
	}
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	a, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(context.Background()); err == nil {
		t.Fatal("Check on a deleted root returned nil")
	}
}

// stageKeptAndDropped stages two payloads, checks that neither is visible,
// discards one, commits the other and checks that it reads back whole. It
// returns their keys.
func stageKeptAndDropped(t *testing.T, a *Archive) (kept, dropped string) {
	t.Helper()
	ctx := context.Background()
	kept, dropped = "2026/11/28/push/kept.json", "2026/11/28/push/dropped.json"
	sk, err := a.Stage(ctx, kept, []byte(`{"kept":true}`))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := a.Stage(ctx, dropped, []byte(`{"dropped":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, events.Ref{Bucket: Bucket, Key: kept}); !errors.Is(err, events.ErrNotFound) {
		t.Fatalf("a staged payload is visible before Commit: %v", err)
	}
	sd.Discard()
	ref, err := sk.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx, ref); err != nil || string(got) != `{"kept":true}` {
		t.Fatalf("Get after Commit = %q, %v", got, err)
	}
	if _, err := a.Get(ctx, events.Ref{Bucket: Bucket, Key: dropped}); !errors.Is(err, events.ErrNotFound) {
		t.Fatalf("a discarded payload can be read: %v", err)
	}
	return kept, dropped
}

// A staged payload is invisible until committed; a discarded one leaves no
// file; a committed one reads back whole.
func TestStageCommitDiscard(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	a, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := stageKeptAndDropped(t, a)
	entries, err := os.ReadDir(filepath.Join(root, "2026/11/28/push"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "kept.json" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files after commit and discard: %v, want [kept.json]", names)
	}
	// The day's directory removed under a running archive is made again.
	if err := os.RemoveAll(filepath.Join(root, "2026")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, kept, []byte(`{}`)); err != nil {
		t.Fatalf("Put after the directory was removed: %v", err)
	}
}
