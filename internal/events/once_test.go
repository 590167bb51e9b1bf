package events

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeMarks is a minimal in-memory Marks for this package's tests; the real
// adapters are checked by the markstest contract suite.
type fakeMarks struct {
	mu    sync.Mutex
	state map[string]MarkState
	until map[string]time.Time
	fail  error
}

func newFakeMarks() *fakeMarks {
	return &fakeMarks{state: map[string]MarkState{}, until: map[string]time.Time{}}
}

func (f *fakeMarks) Acquire(ctx context.Context, key string, lease time.Duration) (MarkState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	switch f.state[key] {
	case MarkDone:
		return MarkDone, nil
	case MarkAcquired:
		if time.Now().Before(f.until[key]) {
			return MarkBusy, nil
		}
	}
	f.state[key], f.until[key] = MarkAcquired, time.Now().Add(lease)
	return MarkAcquired, nil
}

func (f *fakeMarks) Done(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[key] = MarkDone
	return nil
}

func (f *fakeMarks) Release(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.state, key)
	return nil
}

func TestOnce(t *testing.T) {
	ctx := context.Background()
	env := &Envelope{DeliveryID: "d1", Event: "push"}
	marks := newFakeMarks()
	calls := 0
	fail := errors.New("boom")
	var next error
	h := Once(marks, HandlerFunc("counter", func(ctx context.Context, env *Envelope) error {
		calls++
		return next
	}), time.Minute)

	if h.Name() != "counter" {
		t.Fatalf("Once renamed the handler to %q", h.Name())
	}
	next = fail
	if err := h.Handle(ctx, env); !errors.Is(err, fail) {
		t.Fatalf("first run: %v, want the handler's error", err)
	}
	next = nil
	if err := h.Handle(ctx, env); err != nil {
		t.Fatalf("retry after failure: %v", err)
	}
	if err := h.Handle(ctx, env); err != nil {
		t.Fatalf("repeat after success: %v", err)
	}
	if calls != 2 {
		t.Fatalf("handler ran %d times, want 2 (failed run + its retry, not the repeat)", calls)
	}
	// Another handler on the same delivery has its own mark.
	other := Once(marks, HandlerFunc("other", func(ctx context.Context, env *Envelope) error { calls++; return nil }), time.Minute)
	if err := other.Handle(ctx, env); err != nil || calls != 3 {
		t.Fatalf("second handler: err=%v calls=%d, want it to run", err, calls)
	}
}

func TestOnceBusyAndPanic(t *testing.T) {
	ctx := context.Background()
	env := &Envelope{DeliveryID: "d2", Event: "push"}
	marks := newFakeMarks()
	if _, err := marks.Acquire(ctx, MarkKey("d2", "h"), time.Hour); err != nil {
		t.Fatal(err)
	}
	ran := false
	h := Once(marks, HandlerFunc("h", func(ctx context.Context, env *Envelope) error { ran = true; return nil }), 0)
	if err := h.Handle(ctx, env); !errors.Is(err, ErrBusy) || ran {
		t.Fatalf("while another run holds the mark: err=%v ran=%v, want ErrBusy and no run", err, ran)
	}

	panicky := Once(marks, HandlerFunc("p", func(ctx context.Context, env *Envelope) error { panic("bad") }), time.Hour)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic was swallowed")
			}
		}()
		_ = panicky.Handle(ctx, env)
	}()
	if st, _ := marks.Acquire(ctx, MarkKey("d2", "p"), time.Hour); st != MarkAcquired {
		t.Fatalf("after a panic the mark is %v, want it released", st)
	}

	marks.fail = errors.New("store down")
	if err := h.Handle(ctx, env); !errors.Is(err, marks.fail) {
		t.Fatalf("store down: %v", err)
	}
}
