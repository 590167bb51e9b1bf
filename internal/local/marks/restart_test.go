package marks

import (
	"context"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// TestReleaseUnfinished: after a restart the marks a killed run held are
// free at once, while done marks still block repeats.
func TestReleaseUnfinished(t *testing.T) {
	ctx := context.Background()
	s := open(t, 0)
	for _, k := range []string{"held#comment", "done#comment"} {
		if st, err := s.Acquire(ctx, k, time.Hour); err != nil || st != events.MarkAcquired {
			t.Fatalf("acquire %s: %v %v", k, st, err)
		}
	}
	if err := s.Done(ctx, "done#comment"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Acquire(ctx, "held#comment", time.Hour); st != events.MarkBusy {
		t.Fatalf("before the restart: %v, want busy", st)
	}
	restarted, err := Open(ctx, s.db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := restarted.ReleaseUnfinished(ctx); err != nil || n != 1 {
		t.Fatalf("ReleaseUnfinished = %d, %v; want 1", n, err)
	}
	if st, _ := restarted.Acquire(ctx, "held#comment", time.Hour); st != events.MarkAcquired {
		t.Fatalf("the killed run's mark after the restart: %v, want acquired", st)
	}
	if st, _ := restarted.Acquire(ctx, "done#comment", time.Hour); st != events.MarkDone {
		t.Fatalf("a done mark after the restart: %v, want done", st)
	}
}
