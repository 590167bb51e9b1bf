package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := local.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fastOpts retries quickly so fault tests finish in well under a second.
func fastOpts() Options {
	return Options{MaxAttempts: 3, BackoffBase: 20 * time.Millisecond, BackoffMax: 80 * time.Millisecond,
		HandlerTimeout: 2 * time.Second, PollInterval: 10 * time.Millisecond, Logger: quiet()}
}

func newBus(t testing.TB, db *sql.DB, opts Options) *Bus {
	t.Helper()
	b, err := Open(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run starts b.Run and stops it when the test ends (or when stop is called).
func run(t testing.TB, b *Bus) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// recorder is a handler that records what it received and can be scripted to
// fail, panic or hang.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []string // delivery ids, in arrival order
	at   []time.Time
	step func(call int, env *events.Envelope) error // nil: succeed
	seen chan string
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, seen: make(chan string, 1000)}
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Handle(ctx context.Context, env *events.Envelope) error {
	r.mu.Lock()
	r.got = append(r.got, env.DeliveryID)
	r.at = append(r.at, time.Now())
	call := len(r.got)
	step := r.step
	r.mu.Unlock()
	var err error
	if step != nil {
		err = step(call, env)
	}
	if err == nil {
		r.seen <- env.DeliveryID
	}
	return err
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor waits until the recorder succeeded on n deliveries.
func (r *recorder) waitFor(t testing.TB, n int) []string {
	t.Helper()
	var ids []string
	timeout := time.After(30 * time.Second)
	for len(ids) < n {
		select {
		case id := <-r.seen:
			ids = append(ids, id)
		case <-timeout:
			t.Fatalf("handler %s: %d of %d deliveries after 30s (calls: %v)", r.name, len(ids), n, r.calls())
		}
	}
	return ids
}

func envelope(id, event string) *events.Envelope {
	return &events.Envelope{DeliveryID: id, Event: event, HookID: "1", ReceivedAt: time.Now().UTC(),
		PayloadComplete: true, Payload: []byte(`{"action":"created"}`)}
}

type alerts struct {
	mu   sync.Mutex
	got  []events.DeadLetter
	fail int // fail this many calls first
	seen chan events.DeadLetter
}

func newAlerts() *alerts { return &alerts{seen: make(chan events.DeadLetter, 100)} }

func (a *alerts) HandleDeadLetter(ctx context.Context, dl events.DeadLetter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail > 0 {
		a.fail--
		return errors.New("alert sink down")
	}
	a.got = append(a.got, dl)
	a.seen <- dl
	return nil
}

func (a *alerts) wait(t testing.TB) events.DeadLetter {
	t.Helper()
	select {
	case dl := <-a.seen:
		return dl
	case <-time.After(30 * time.Second):
		t.Fatal("no dead letter reached the alert handler within 30s")
		return events.DeadLetter{}
	}
}

// noMore fails if the recorder succeeds on anything else within d.
func (r *recorder) noMore(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case id := <-r.seen:
		t.Fatalf("handler %s got an unexpected extra delivery %s", r.name, id)
	case <-time.After(d):
	}
}

func TestRoutesByRules(t *testing.T) {
	ctx := context.Background()
	b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), fastOpts())
	stub, comment, wf := newRecorder(events.TargetStub), newRecorder(events.TargetComment), newRecorder(events.TargetWorkflowRun)
	for _, h := range []events.Handler{stub, comment, wf} {
		b.Subscribe(h)
	}
	run(t, b)
	for i, ev := range []string{"issue_comment", "push", "workflow_run", "pull_request_review_comment", "ping"} {
		if err := b.Publish(ctx, envelope(fmt.Sprintf("d%d-%s", i, ev), ev)); err != nil {
			t.Fatal(err)
		}
	}
	sorted := func(s []string) []string { slices.Sort(s); return s }
	if got := sorted(stub.waitFor(t, 5)); len(got) != 5 {
		t.Fatalf("stub got %v", got)
	}
	if got, want := sorted(comment.waitFor(t, 2)), []string{"d0-issue_comment", "d3-pull_request_review_comment"}; !slices.Equal(got, want) {
		t.Fatalf("comment handler got %v, want %v", got, want)
	}
	if got := wf.waitFor(t, 1); got[0] != "d2-workflow_run" {
		t.Fatalf("workflow_run handler got %v", got)
	}
	for _, r := range []*recorder{stub, comment, wf} {
		r.noMore(t, 100*time.Millisecond)
	}
	if n, err := b.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pending after delivery = %d, %v; want 0", n, err)
	}
}

func TestPublishRejectsBadInputAndDedupes(t *testing.T) {
	ctx := context.Background()
	b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), fastOpts())
	stub := newRecorder(events.TargetStub)
	b.Subscribe(stub)
	for _, env := range []*events.Envelope{nil, {Event: "push", HookID: "1"}, {DeliveryID: "x", HookID: "1"}, {DeliveryID: "x", Event: "push"}} {
		if err := b.Publish(ctx, env); !errors.Is(err, events.ErrInvalidEnvelope) {
			t.Errorf("Publish(%+v) = %v, want ErrInvalidEnvelope", env, err)
		}
	}
	if n, _ := b.Pending(ctx); n != 0 {
		t.Fatalf("bad input stored %d deliveries", n)
	}
	env := envelope("same", "push")
	for range 3 {
		if err := b.Publish(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	other := *env
	other.HookID = "2" // another hook, same delivery id: a separate event
	if err := b.Publish(ctx, &other); err != nil {
		t.Fatal(err)
	}
	run(t, b)
	stub.waitFor(t, 2)
	stub.noMore(t, 150*time.Millisecond)
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	ctx := context.Background()
	b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), fastOpts())
	stub := newRecorder(events.TargetStub)
	stub.step = func(call int, env *events.Envelope) error {
		if call < 3 {
			return fmt.Errorf("transient failure %d", call)
		}
		return nil
	}
	a := newAlerts()
	b.Subscribe(stub)
	b.SubscribeDeadLetters(a)
	run(t, b)
	if err := b.Publish(ctx, envelope("d1", "push")); err != nil {
		t.Fatal(err)
	}
	stub.waitFor(t, 1)
	stub.mu.Lock()
	at := slices.Clone(stub.at)
	stub.mu.Unlock()
	if len(at) != 3 {
		t.Fatalf("handler called %d times, want 3", len(at))
	}
	// Backoff: >= base/2 after the first failure, >= base after the second.
	if g1, g2 := at[1].Sub(at[0]), at[2].Sub(at[1]); g1 < 10*time.Millisecond || g2 < 20*time.Millisecond {
		t.Fatalf("retry gaps %v, %v: want backoff of at least 10ms then 20ms", g1, g2)
	}
	if dls, _ := b.DeadLetters(ctx); len(dls) != 0 {
		t.Fatalf("a delivery that eventually succeeded was dead-lettered: %+v", dls)
	}
}

func TestDeadLetterAfterLastAttemptAlerts(t *testing.T) {
	tests := []struct {
		name         string
		step         func(call int, env *events.Envelope) error
		wantAttempts int
		wantReason   string
	}{
		{"always fails", func(int, *events.Envelope) error { return errors.New("github answered 502") }, 3, "github answered 502"},
		{"permanent", func(int, *events.Envelope) error { return events.Permanent(errors.New("payload has no repository")) }, 1, "payload has no repository"},
		{"panics", func(int, *events.Envelope) error { panic("nil map write") }, 3, "panicked: nil map write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := newBus(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), fastOpts())
			stub := newRecorder(events.TargetStub)
			stub.step = tt.step
			a := newAlerts()
			b.Subscribe(stub)
			b.SubscribeDeadLetters(a)
			run(t, b)
			if err := b.Publish(ctx, envelope("doomed", "issues")); err != nil {
				t.Fatal(err)
			}
			dl := a.wait(t)
			if dl.Envelope.DeliveryID != "doomed" || dl.Target != events.TargetStub || dl.Attempts != tt.wantAttempts || !strings.Contains(dl.Reason, tt.wantReason) {
				t.Fatalf("alert got %+v (delivery %s), want target stub, %d attempts, reason with %q", dl, dl.Envelope.DeliveryID, tt.wantAttempts, tt.wantReason)
			}
			if n := len(stub.calls()); n != tt.wantAttempts {
				t.Fatalf("handler called %d times, want %d", n, tt.wantAttempts)
			}
			waitUntil(t, func() bool {
				rows, err := b.DeadLetters(ctx)
				return err == nil && len(rows) == 1 && rows[0].Alerted
			})
			if n, _ := b.Pending(ctx); n != 0 {
				t.Fatalf("dead-lettered delivery still pending (%d)", n)
			}
		})
	}
}

func waitUntil(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Delivered events keep only their publish key: the stored envelope (up to
// 200 KB each) is dropped once every handler has it.
func TestDeliveredEnvelopesAreDropped(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	b := newBus(t, db, fastOpts())
	stub, comment := newRecorder(events.TargetStub), newRecorder(events.TargetComment)
	b.Subscribe(stub)
	b.Subscribe(comment)
	run(t, b)
	for i := range 10 {
		if err := b.Publish(ctx, envelope(fmt.Sprintf("k%d", i), "issue_comment")); err != nil {
			t.Fatal(err)
		}
	}
	stub.waitFor(t, 10)
	comment.waitFor(t, 10)
	waitUntil(t, func() bool {
		var stored int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM bus_events WHERE length(envelope) > 0`).Scan(&stored)
		return err == nil && stored == 0
	})
	// The keys are still there: a repeated publish is still a no-op.
	if err := b.Publish(ctx, envelope("k3", "issue_comment")); err != nil {
		t.Fatal(err)
	}
	stub.noMore(t, 150*time.Millisecond)
}
