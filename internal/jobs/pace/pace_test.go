package pace_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// maxInWindow is the most writes of times that fall in any window of length
// w (a write at t counts in (t-w, t]).
func maxInWindow(times []time.Time, w time.Duration) int {
	s := slices.Clone(times)
	slices.SortFunc(s, time.Time.Compare)
	best, lo := 0, 0
	for hi := range s {
		for !s[lo].After(s[hi].Add(-w)) {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// advancing is a sleeper that moves the test's clock (one goroutine only).
func advancing(c *testenv.Clock) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		if d > 0 {
			c.Advance(d)
		}
		return nil
	}
}

// TestReserveKeepsWithinLimits writes as fast as the pacer lets a single
// writer and checks every minute and hour window, and that the pacer never
// holds a write back without cause.
func TestReserveKeepsWithinLimits(t *testing.T) {
	for _, tc := range []struct {
		name              string
		perMinute, perHr  int
		writes            int
		wantFirstMinute   int
		wantSpanAtLeast   time.Duration
		wantSpanAtMostish time.Duration
	}{
		{"defaults", 0, 0, 1000, 70, 2 * time.Hour, 3 * time.Hour},
		{"small", 3, 5, 12, 3, 2 * time.Hour, 3 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := testenv.NewClock(t0)
			p := &pace.Pacer{Store: newMemStore(), PerMinute: tc.perMinute, PerHour: tc.perHr, Now: clock.Now, Sleep: advancing(clock)}
			perMinute, perHour := tc.perMinute, tc.perHr
			if perMinute == 0 {
				perMinute, perHour = pace.DefaultPerMinute, pace.DefaultPerHour
			}
			var at []time.Time
			for range tc.writes {
				if err := p.Wait(context.Background(), 7, nil); err != nil {
					t.Fatal(err)
				}
				at = append(at, clock.Now())
			}
			if got := maxInWindow(at, time.Minute); got > perMinute {
				t.Errorf("%d writes in one minute, limit %d", got, perMinute)
			}
			if got := maxInWindow(at, time.Hour); got > perHour {
				t.Errorf("%d writes in one hour, limit %d", got, perHour)
			}
			first := 0
			for _, a := range at {
				if a.Equal(t0) {
					first++
				}
			}
			if first != tc.wantFirstMinute {
				t.Errorf("%d writes went at once, want the minute's budget %d", first, tc.wantFirstMinute)
			}
			// Full use of the budget: the hour's writes are not spread thinner than the limits ask.
			if span := at[len(at)-1].Sub(t0); span < tc.wantSpanAtLeast || span > tc.wantSpanAtMostish {
				t.Errorf("%d writes took %s, want %s..%s", tc.writes, span, tc.wantSpanAtLeast, tc.wantSpanAtMostish)
			}
		})
	}
}

// TestBudgetIsPerUserAndShared: two pacers (two Lambdas) on one store share
// a user's budget; another user's budget is untouched.
func TestBudgetIsPerUserAndShared(t *testing.T) {
	clock := testenv.NewClock(t0)
	store := newMemStore()
	a := &pace.Pacer{Store: store, PerMinute: 4, PerHour: 100, Now: clock.Now}
	b := &pace.Pacer{Store: store, PerMinute: 4, PerHour: 100, Now: clock.Now}
	ctx := context.Background()
	var waits []time.Duration
	for i := range 6 {
		p := a
		if i%2 == 1 {
			p = b
		}
		d, err := p.Reserve(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, d)
	}
	want := []time.Duration{0, 0, 0, 0, time.Minute, time.Minute}
	if !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
	if d, err := a.Reserve(ctx, 2); err != nil || d != 0 {
		t.Errorf("another user waits %s, %v; want 0", d, err)
	}
	if _, ok := store.ref(pace.Key(1)); !ok {
		t.Errorf("no budget stored under %s", pace.Key(1))
	}
}

// TestConcurrentReserve: many writers at once never get more slots than
// the limits allow, and every reservation lands.
func TestConcurrentReserve(t *testing.T) {
	concurrentReserve(t, newMemStore())
}

func concurrentReserve(t *testing.T, store jobs.Store) {
	clock := testenv.NewClock(t0)
	p := &pace.Pacer{Store: store, PerMinute: 10, PerHour: 30, Now: clock.Now}
	var (
		mu    sync.Mutex
		slots []time.Time
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				d, err := p.Reserve(context.Background(), 1)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				slots = append(slots, t0.Add(d))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(slots) != 40 {
		t.Fatalf("%d slots, want 40", len(slots))
	}
	if got := maxInWindow(slots, time.Minute); got > 10 {
		t.Errorf("%d slots in a minute, limit 10", got)
	}
	if got := maxInWindow(slots, time.Hour); got > 30 {
		t.Errorf("%d slots in an hour, limit 30", got)
	}
}

// TestPenalize: retry-after stops every writer of the user; a writer
// already waiting for a slot when the penalty comes takes a new one after it.
func TestPenalize(t *testing.T) {
	ctx := context.Background()
	t.Run("next slot after the penalty", func(t *testing.T) {
		clock := testenv.NewClock(t0)
		p := &pace.Pacer{Store: newMemStore(), Now: clock.Now}
		if err := p.Penalize(ctx, 1, 42*time.Second); err != nil {
			t.Fatal(err)
		}
		if d, err := p.Reserve(ctx, 1); err != nil || d != 42*time.Second {
			t.Errorf("Reserve = %s, %v; want 42s", d, err)
		}
		if d, err := p.Reserve(ctx, 2); err != nil || d != 0 {
			t.Errorf("another user: Reserve = %s, %v; want 0", d, err)
		}
	})
	t.Run("no retry-after means a minute", func(t *testing.T) {
		clock := testenv.NewClock(t0)
		p := &pace.Pacer{Store: newMemStore(), Now: clock.Now}
		if err := p.Penalize(ctx, 1, 0); err != nil {
			t.Fatal(err)
		}
		if d, _ := p.Reserve(ctx, 1); d != time.Minute {
			t.Errorf("Reserve = %s, want 1m", d)
		}
	})
	t.Run("waiting writer re-reserves", func(t *testing.T) {
		clock := testenv.NewClock(t0)
		store := newMemStore()
		other := &pace.Pacer{Store: store, Now: clock.Now}
		penalised := false
		p := &pace.Pacer{Store: store, PerMinute: 1, Now: clock.Now, Sleep: func(_ context.Context, d time.Duration) error {
			if !penalised { // while this writer sleeps, another is told to wait 5 minutes
				penalised = true
				clock.Advance(time.Second)
				if err := other.Penalize(ctx, 1, 5*time.Minute); err != nil {
					return err
				}
				clock.Advance(d - time.Second)
				return nil
			}
			clock.Advance(d)
			return nil
		}}
		if _, err := p.Reserve(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctx, 1, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := clock.Now(), t0.Add(time.Second+5*time.Minute); got.Before(want) {
			t.Errorf("wrote at %s, before the penalty ended at %s", got, want)
		}
	})
}

// TestWaitHolds: a writer is told how long it will wait before it sleeps
// (to extend its comment lease), and an error from it stops the wait
// without sleeping.
func TestWaitHolds(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(t0)
	var slept []time.Duration
	p := &pace.Pacer{Store: newMemStore(), PerMinute: 1, Now: clock.Now, Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clock.Advance(d)
		return nil
	}}
	var held []time.Duration
	hold := func(d time.Duration) error { held = append(held, d); return nil }
	for range 2 {
		if err := p.Wait(ctx, 1, hold); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(held, []time.Duration{time.Minute}) || !slices.Equal(slept, held) {
		t.Errorf("held %v, slept %v; want one wait of a minute announced before it was slept", held, slept)
	}
	lost := errors.New("lease lost")
	if err := p.Wait(ctx, 1, func(time.Duration) error { return lost }); !errors.Is(err, lost) {
		t.Errorf("Wait = %v, want hold's error", err)
	}
	if len(slept) != 1 {
		t.Errorf("slept %v after hold refused", slept)
	}
}

// TestBadStoredBudget: a budget this package did not write is an error,
// and is left as it was.
func TestBadStoredBudget(t *testing.T) {
	store := newMemStore()
	store.setRef(pace.Key(1), "garbage")
	p := &pace.Pacer{Store: store}
	if _, err := p.Reserve(context.Background(), 1); !errors.Is(err, pace.ErrBadState) {
		t.Errorf("Reserve = %v, want ErrBadState", err)
	}
	if v, _ := store.ref(pace.Key(1)); v != "garbage" {
		t.Errorf("stored budget changed to %q", v)
	}
	store.failRef = errors.New("store down")
	if _, err := p.Reserve(context.Background(), 2); err == nil || !errors.Is(err, store.failRef) {
		t.Errorf("Reserve with the store down = %v, want the store's error", err)
	}
}

// TestContextEnds: a writer whose context ends stops waiting.
func TestContextEnds(t *testing.T) {
	p := &pace.Pacer{Store: newMemStore(), PerMinute: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Wait(ctx, 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want the context's deadline", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("Wait did not stop when its context ended")
	}
}

var _ jobs.Store = (*memStore)(nil)

// TestWaitWithinSpendsNoSlotItWillNotUse: a writer that may wait 10 s takes
// a slot within that time and waits for it; when the next slot is further
// away it takes none, and the writers that can wait get the same slots as if
// it had never asked.
func TestWaitWithinSpendsNoSlotItWillNotUse(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(t0)
	p := &pace.Pacer{Store: newMemStore(), PerMinute: 2, Now: clock.Now, Sleep: advancing(clock)}
	if ok, err := p.WaitWithin(ctx, 1, 10*time.Second, nil); err != nil || !ok {
		t.Fatalf("first slot: %v, %v; want it now", ok, err)
	}
	if ok, err := p.WaitWithin(ctx, 1, 10*time.Second, nil); err != nil || !ok || !clock.Now().Equal(t0) {
		t.Fatalf("second slot: %v, %v at %s; want it now", ok, err, clock.Now())
	}
	// The third slot is a minute after the first: too far for 10 s.
	var held []time.Duration
	for range 3 {
		ok, err := p.WaitWithin(ctx, 1, 10*time.Second, func(d time.Duration) error { held = append(held, d); return nil })
		if err != nil || ok {
			t.Fatalf("third slot within 10 s: %v, %v; want none", ok, err)
		}
	}
	if len(held) != 0 || !clock.Now().Equal(t0) {
		t.Errorf("declined slots waited: held %v, clock moved %s", held, clock.Now().Sub(t0))
	}
	if d, err := p.Reserve(ctx, 1); err != nil || d != time.Minute {
		t.Errorf("the next writer that can wait: %s, %v; want the slot a minute on, untouched by the declined ones", d, err)
	}
	// Within the limit it waits for its slot, announcing the wait first.
	clock.Advance(50 * time.Second)
	ok, err := p.WaitWithin(ctx, 1, 20*time.Second, func(d time.Duration) error { held = append(held, d); return nil })
	if err != nil || !ok || len(held) != 1 || held[0] != 10*time.Second {
		t.Errorf("a slot 10 s away within 20 s: %v, %v, held %v; want it after a 10 s wait", ok, err, held)
	}
}
