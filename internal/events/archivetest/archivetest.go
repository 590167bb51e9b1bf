// Package archivetest is the contract test suite every events.Archive adapter
// must pass. An adapter's test calls Run with a constructor that returns a
// fresh, empty archive.
package archivetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Run checks the Archive contract against archives made by open.
func Run(t *testing.T, open func(t *testing.T) events.Archive) {
	t.Helper()
	ctx := context.Background()
	body := []byte(`{"action":"created","comment":{"body":"@ai3-mvp run ci"}}`)

	t.Run("put then get returns the same bytes", func(t *testing.T) {
		a := open(t)
		key := "2026/11/28/issue_comment/d-1.json"
		ref, err := a.Put(ctx, key, body)
		if err != nil {
			t.Fatal(err)
		}
		if ref.Key != key || ref.Bucket == "" {
			t.Fatalf("Put returned ref %+v, want key %q and a bucket", ref, key)
		}
		got, err := a.Get(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("Get = %q, want %q", got, body)
		}
	})

	t.Run("put is idempotent", func(t *testing.T) {
		a := open(t)
		key := "2026/11/28/push/d-2.json"
		r1, err := a.Put(ctx, key, body)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := a.Put(ctx, key, body)
		if err != nil {
			t.Fatalf("second Put of the same key and body: %v", err)
		}
		if r1 != r2 {
			t.Fatalf("refs differ: %+v vs %+v", r1, r2)
		}
		if got, err := a.Get(ctx, r2); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("Get after repeat = %q, %v", got, err)
		}
	})

	t.Run("a put never replaces another payload", func(t *testing.T) {
		for _, size := range []int{len(body), 2 << 20} { // both tiers of a tiered archive
			a := open(t)
			key := fmt.Sprintf("2026/11/28/push/1/first-%d.json", size)
			first := bytes.Repeat([]byte("a"), size)
			ref, err := a.Put(ctx, key, first)
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range [][]byte{body, bytes.Repeat([]byte("b"), size), bytes.Repeat([]byte("b"), 2<<20)} {
				if _, err := a.Put(ctx, key, other); !errors.Is(err, events.ErrArchived) {
					t.Fatalf("Put of other bytes (%d) over an archived payload (%d) = %v, want ErrArchived", len(other), size, err)
				}
			}
			if again, err := a.Put(ctx, key, first); err != nil || again != ref {
				t.Fatalf("repeating the archived payload = %+v, %v; want %+v", again, err, ref)
			}
			got, err := a.Get(ctx, ref)
			if err != nil || !bytes.Equal(got, first) {
				t.Fatalf("after refused overwrites Get = %d bytes, %v; want the first payload (%d bytes)", len(got), err, size)
			}
		}
	})

	t.Run("missing object is ErrNotFound", func(t *testing.T) {
		a := open(t)
		ref, err := a.Put(ctx, "2026/11/28/push/present.json", body)
		if err != nil {
			t.Fatal(err)
		}
		ref.Key = "2026/11/28/push/absent.json"
		if _, err := a.Get(ctx, ref); !errors.Is(err, events.ErrNotFound) {
			t.Fatalf("Get of an absent key: %v, want ErrNotFound", err)
		}
	})

	t.Run("large payload round trip", func(t *testing.T) {
		a := open(t)
		big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16) // 5 MB
		ref, err := a.Put(ctx, "2026/11/28/workflow_run/big.json", big)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Get(ctx, ref)
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("5 MB round trip: %d bytes, %v", len(got), err)
		}
	})

	t.Run("unsafe keys are refused and store nothing", func(t *testing.T) {
		a := open(t)
		for _, key := range []string{"", "/etc/passwd", "../escape.json", "2026/../../x.json", "a//b.json", "a/./b.json", "dir/", "a\\b.json", "a\x00b"} {
			if _, err := a.Put(ctx, key, body); err == nil {
				t.Errorf("Put(%q) succeeded, want an error", key)
			}
		}
		if _, err := a.Get(ctx, events.Ref{Bucket: "x", Key: "../escape.json"}); err == nil {
			t.Error("Get of an unsafe key succeeded")
		}
	})

	t.Run("ref from another bucket is refused", func(t *testing.T) {
		a := open(t)
		ref, err := a.Put(ctx, "2026/11/28/push/mine.json", body)
		if err != nil {
			t.Fatal(err)
		}
		ref.Bucket += "-other"
		if got, err := a.Get(ctx, ref); err == nil {
			t.Fatalf("Get with a foreign bucket returned %q", got)
		}
	})

	t.Run("concurrent puts of distinct keys", func(t *testing.T) {
		a := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Go(func() {
				key := fmt.Sprintf("2026/11/28/push/c-%02d.json", i)
				b := []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("p", i*100)))
				ref, err := a.Put(ctx, key, b)
				if err == nil {
					var got []byte
					got, err = a.Get(ctx, ref)
					if err == nil && !bytes.Equal(got, b) {
						err = fmt.Errorf("key %s: read back %d bytes, wrote %d", key, len(got), len(b))
					}
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}
