package bus

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// A handler that ignores its context and never returns must not hold the
// event: the attempt times out, the retry delivers it.
func TestHungHandlerDoesNotLoseEvent(t *testing.T) {
	ctx := context.Background()
	opts := fastOpts()
	// Long enough that the retry, which returns at once, is not itself
	// timed out on a slow machine (its goroutine must run within it).
	opts.HandlerTimeout = time.Second
	b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), opts)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stub := newRecorder(events.TargetStub)
	stub.step = func(call int, env *events.Envelope) error {
		if call == 1 {
			<-release // hang, ignoring ctx
		}
		return nil
	}
	b.Subscribe(stub)
	run(t, b)
	if err := b.Publish(ctx, envelope("hang", "push")); err != nil {
		t.Fatal(err)
	}
	if got := stub.waitFor(t, 1); got[0] != "hang" {
		t.Fatalf("got %v", got)
	}
	if n := len(stub.calls()); n != 2 {
		t.Fatalf("handler called %d times, want 2 (hung attempt + retry)", n)
	}
}

// Events published while nothing runs, or pending when the process stops,
// are delivered after the bus is reopened on the same file.
func TestPendingEventsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bus.db")

	// First process: publishes 20 events; the handler fails everything it
	// sees, then the process stops with events pending or in backoff.
	db1 := openDB(t, path)
	b1 := newBus(t, db1, Options{Logger: quiet(), BackoffBase: time.Hour, PollInterval: 10 * time.Millisecond})
	failing := newRecorder(events.TargetStub)
	failing.step = func(int, *events.Envelope) error { return errors.New("down") }
	b1.Subscribe(failing)
	var want []string
	for i := range 20 {
		id := fmt.Sprintf("r%02d", i)
		want = append(want, id)
		if err := b1.Publish(ctx, envelope(id, "push")); err != nil {
			t.Fatal(err)
		}
	}
	stop := run(t, b1)
	waitUntil(t, func() bool { return len(failing.calls()) >= 1 })
	stop()
	// Simulate a crash in the middle of a delivery: a lease that nobody
	// will ever finish.
	if _, err := db1.ExecContext(ctx, `UPDATE bus_deliveries SET lease_until = ? WHERE id = (SELECT min(id) FROM bus_deliveries)`, time.Now().Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := db1.Close(); err != nil {
		t.Fatal(err)
	}

	// Second process: same file, a working handler. Backoff scheduled by the
	// first process is honoured, so make the retries due now, as an operator
	// would after the outage, by letting the clock pass: rewrite next_at.
	db2 := openDB(t, path)
	if _, err := db2.ExecContext(ctx, `UPDATE bus_deliveries SET next_at = 0`); err != nil {
		t.Fatal(err)
	}
	b2 := newBus(t, db2, fastOpts())
	var leased int
	if err := db2.QueryRowContext(ctx, `SELECT count(*) FROM bus_deliveries WHERE lease_until > 0`).Scan(&leased); err != nil || leased != 1 {
		t.Fatalf("Open changed the leases (%d left, %v): a CLI opening the bus would disturb a running server", leased, err)
	}
	ok := newRecorder(events.TargetStub)
	b2.Subscribe(ok)
	run(t, b2)
	got := ok.waitFor(t, 20)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("after restart delivered %v, want %v", got, want)
	}
	ok.noMore(t, 100*time.Millisecond)
}

// A Run stopped while a handler is working gives the delivery back without
// counting the attempt; the next Run delivers it.
func TestShutdownMidDeliveryGivesBack(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	opts := fastOpts()
	opts.MaxAttempts = 1 // a counted attempt would dead-letter it
	b := newBus(t, db, opts)
	started, stopped := make(chan struct{}, 1), make(chan struct{})
	slow := newRecorder(events.TargetStub)
	slow.step = func(call int, env *events.Envelope) error {
		if call == 1 {
			started <- struct{}{}
			<-stopped // still at work when Run is stopped
			return errors.New("interrupted by shutdown")
		}
		return nil
	}
	b.Subscribe(slow)
	if err := b.Publish(ctx, envelope("mid", "push")); err != nil {
		t.Fatal(err)
	}
	stop := run(t, b)
	<-started
	stop()
	close(stopped)
	if dls, _ := b.DeadLetters(ctx); len(dls) != 0 {
		t.Fatalf("interrupted delivery was dead-lettered: %+v", dls[0].Letter)
	}
	run(t, b)
	slow.waitFor(t, 1)
}

// Dead letters recorded while no alert handler is subscribed, or while it
// fails, are alerted later: an alert is never dropped.
func TestAlertsAreDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bus.db")
	db := openDB(t, path)
	b := newBus(t, db, fastOpts())
	bad := newRecorder(events.TargetStub)
	bad.step = func(int, *events.Envelope) error { return events.Permanent(errors.New("cannot parse")) }
	b.Subscribe(bad)
	stop := run(t, b)
	if err := b.Publish(ctx, envelope("lonely", "push")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { rows, _ := b.DeadLetters(ctx); return len(rows) == 1 })
	stop()
	db.Close()

	b2 := newBus(t, openDB(t, path), fastOpts())
	a := newAlerts()
	a.fail = 2
	b2.SubscribeDeadLetters(a)
	b2.Subscribe(newRecorder(events.TargetStub))
	run(t, b2)
	dl := a.wait(t)
	if dl.Envelope.DeliveryID != "lonely" || dl.Reason != "cannot parse" {
		t.Fatalf("alert %+v", dl)
	}
}

func TestRedrive(t *testing.T) {
	ctx := context.Background()
	b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), fastOpts())
	var broken atomic.Bool
	broken.Store(true)
	h := newRecorder(events.TargetStub)
	h.step = func(int, *events.Envelope) error {
		if broken.Load() {
			return events.Permanent(errors.New("bug"))
		}
		return nil
	}
	b.Subscribe(h)
	stop := run(t, b)
	if err := b.Publish(ctx, envelope("again", "push")); err != nil {
		t.Fatal(err)
	}
	var rows []DeadLetter
	waitUntil(t, func() bool { rows, _ = b.DeadLetters(ctx); return len(rows) == 1 })
	stop()
	broken.Store(false) // "fixed" while the bus is stopped
	if err := b.Redrive(ctx, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Redrive(ctx, rows[0].ID); err == nil {
		t.Fatal("redriving a dead letter twice succeeded")
	}
	run(t, b)
	if got := h.waitFor(t, 1); got[0] != "again" {
		t.Fatalf("got %v", got)
	}
	if rows, _ := b.DeadLetters(ctx); len(rows) != 0 {
		t.Fatalf("dead letter still present after redrive: %+v", rows)
	}
}

// Publish on a database that is gone fails (the receiver then answers 5xx
// and GitHub's redelivery is processed), and Check reports it.
func TestBusDown(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	b := newBus(t, db, fastOpts())
	b.Subscribe(newRecorder(events.TargetStub))
	if err := b.Check(ctx); err != nil {
		t.Fatalf("Check on a working bus: %v", err)
	}
	db.Close()
	if err := b.Publish(ctx, envelope("lost?", "push")); err == nil {
		t.Fatal("Publish on a closed database returned nil: the receiver would answer 200 for an event that is not stored")
	}
	if err := b.Check(ctx); err == nil {
		t.Fatal("Check on a closed database returned nil")
	}
}

// Many concurrent publishers: every event reaches the handler exactly once
// when nothing fails.
func TestConcurrentPublish(t *testing.T) {
	ctx := context.Background()
	b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), fastOpts())
	stub := newRecorder(events.TargetStub)
	b.Subscribe(stub)
	run(t, b)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- b.Publish(ctx, envelope(fmt.Sprintf("c%03d", i), "push")) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := stub.waitFor(t, n)
	slices.Sort(got)
	if got = slices.Compact(got); len(got) != n {
		t.Fatalf("%d distinct deliveries, want %d", len(got), n)
	}
	stub.noMore(t, 100*time.Millisecond)
}
