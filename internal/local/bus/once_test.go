package bus

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local/marks"
)

// The same GitHub event arriving through two hooks is two bus events (same
// delivery id, different hook), and a retry after a failure is a second
// attempt; a handler wrapped with events.Once over the SQLite marks takes
// effect exactly once across all of them.
func TestOnceOverTheBus(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	m, err := marks.Open(ctx, db, marks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBus(t, db, fastOpts())
	var attempts, effects atomic.Int64
	handler := events.HandlerFunc(events.TargetComment, func(ctx context.Context, env *events.Envelope) error {
		if attempts.Add(1) == 1 {
			return errors.New("github answered 502")
		}
		effects.Add(1)
		return nil
	})
	b.Subscribe(events.Once(m, handler, time.Minute))
	run(t, b)
	for _, hook := range []string{"1", "2"} {
		env := envelope("same-event", "issue_comment")
		env.HookID = hook
		if err := b.Publish(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, func() bool { n, _ := b.Pending(ctx); return n == 0 && effects.Load() == 1 })
	time.Sleep(100 * time.Millisecond)
	if effects.Load() != 1 {
		t.Fatalf("handler took effect %d times, want once", effects.Load())
	}
	if dls, _ := b.DeadLetters(ctx); len(dls) != 0 {
		t.Fatalf("dead letters: %+v", dls[0].Letter)
	}
}
