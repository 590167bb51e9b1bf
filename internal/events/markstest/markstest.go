// Package markstest is the contract test suite every events.Marks adapter
// must pass. The adapter's test calls Run with a constructor that returns an
// empty store whose marks are retained for the given duration.
package markstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Run checks the Marks contract against stores made by open.
func Run(t *testing.T, open func(t *testing.T, retention time.Duration) events.Marks) {
	t.Helper()
	ctx := context.Background()
	acquire := func(t *testing.T, m events.Marks, key string, lease time.Duration, want events.MarkState) {
		t.Helper()
		got, err := m.Acquire(ctx, key, lease)
		if err != nil {
			t.Fatalf("Acquire(%s): %v", key, err)
		}
		if got != want {
			t.Fatalf("Acquire(%s) = %v, want %v", key, got, want)
		}
	}

	t.Run("acquire, busy, done", func(t *testing.T) {
		m := open(t, time.Hour)
		key := events.MarkKey("d-1", "comment")
		acquire(t, m, key, time.Minute, events.MarkAcquired)
		acquire(t, m, key, time.Minute, events.MarkBusy)
		if err := m.Done(ctx, key); err != nil {
			t.Fatal(err)
		}
		acquire(t, m, key, time.Minute, events.MarkDone)
		acquire(t, m, events.MarkKey("d-1", "stub"), time.Minute, events.MarkAcquired)
	})

	t.Run("release lets the next run acquire", func(t *testing.T) {
		m := open(t, time.Hour)
		acquire(t, m, "k", time.Minute, events.MarkAcquired)
		if err := m.Release(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		acquire(t, m, "k", time.Minute, events.MarkAcquired)
	})

	t.Run("release never undoes done", func(t *testing.T) {
		m := open(t, time.Hour)
		acquire(t, m, "k", time.Minute, events.MarkAcquired)
		if err := m.Done(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := m.Release(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := m.Release(ctx, "never-acquired"); err != nil {
			t.Fatalf("Release of an absent key: %v", err)
		}
		acquire(t, m, "k", time.Minute, events.MarkDone)
	})

	t.Run("expired lease can be taken again", func(t *testing.T) {
		m := open(t, time.Hour)
		acquire(t, m, "crashed", 50*time.Millisecond, events.MarkAcquired)
		time.Sleep(120 * time.Millisecond)
		acquire(t, m, "crashed", time.Minute, events.MarkAcquired)
		acquire(t, m, "crashed", time.Minute, events.MarkBusy)
	})

	t.Run("done marks end with retention", func(t *testing.T) {
		// Retention is long enough for Done and the next Acquire to land
		// inside it on a loaded machine (dynalite under -race), short
		// enough to wait out.
		const retention = 4 * time.Second
		m := open(t, retention)
		acquire(t, m, "old", time.Minute, events.MarkAcquired)
		if err := m.Done(ctx, "old"); err != nil {
			t.Fatal(err)
		}
		acquire(t, m, "old", time.Minute, events.MarkDone)
		time.Sleep(retention + 600*time.Millisecond)
		acquire(t, m, "old", time.Minute, events.MarkAcquired)
	})

	t.Run("one of many concurrent acquirers wins", func(t *testing.T) {
		m := open(t, time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[events.MarkState]int{}
		for range 20 {
			wg.Go(func() {
				st, err := m.Acquire(ctx, "contended", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[st]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[events.MarkAcquired] != 1 || counts[events.MarkBusy] != 19 {
			t.Fatalf("outcomes %v, want exactly one acquired and 19 busy", counts)
		}
	})

	t.Run("bad keys are refused", func(t *testing.T) {
		m := open(t, time.Hour)
		if _, err := m.Acquire(ctx, "", time.Minute); err == nil {
			t.Error("Acquire of an empty key succeeded")
		}
		if _, err := m.Acquire(ctx, "k", 0); err == nil {
			t.Error("Acquire with a zero lease succeeded")
		}
	})

	t.Run("Once over the store runs a handler once per delivery", func(t *testing.T) {
		m := open(t, time.Hour)
		calls := 0
		h := events.Once(m, events.HandlerFunc("counter", func(context.Context, *events.Envelope) error {
			calls++
			if calls == 1 {
				return fmt.Errorf("first run fails")
			}
			return nil
		}), time.Minute)
		env := &events.Envelope{DeliveryID: "once-1", Event: "push", HookID: "1"}
		for range 4 {
			_ = h.Handle(ctx, env)
		}
		if calls != 2 {
			t.Fatalf("handler ran %d times over 4 deliveries, want 2 (a failure, then one success)", calls)
		}
	})
}
