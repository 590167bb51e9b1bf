package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// failFirst fails its first n calls, then passes through.
type failFirst struct {
	n       atomic.Int64
	archive events.Archive
	pub     events.Publisher
}

func (f *failFirst) Put(ctx context.Context, key string, body []byte) (events.Ref, error) {
	if f.n.Add(-1) >= 0 {
		return events.Ref{}, errors.New("disk full")
	}
	return f.archive.Put(ctx, key, body)
}

func (f *failFirst) Get(ctx context.Context, ref events.Ref) ([]byte, error) {
	return f.archive.Get(ctx, ref)
}

func (f *failFirst) Publish(ctx context.Context, env *events.Envelope) error {
	if f.n.Add(-1) >= 0 {
		return errors.New("database is locked")
	}
	return f.pub.Publish(ctx, env)
}

// With the real embedded adapters, a failing archive or bus answers 503 and
// leaves no claim behind; GitHub's redelivery is then processed, and the stub
// sees the delivery exactly once.
func TestFaultThenRedelivery(t *testing.T) {
	body := []byte(`{"action":"opened","repository":{"full_name":"acme/widgets"}}`)
	for _, tc := range []struct {
		name string
		opts func(*failFirst) options
		code string
	}{
		{"archive down", func(f *failFirst) options {
			return options{wrapArchive: func(a events.Archive) events.Archive { f.archive = a; return f }}
		}, "archive_unavailable"},
		{"bus down", func(f *failFirst) options {
			return options{wrapPublisher: func(p events.Publisher) events.Publisher { f.pub = p; return f }}
		}, "bus_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &failFirst{}
			f.n.Store(2)
			s := newStack(t, tc.opts(f))
			client := &http.Client{Timeout: 30 * time.Second}
			for attempt := range 2 {
				status, resp := s.post(t, client, "issues", "fault-1", body, webhook.Sign(secret, body))
				if status != 503 || !contains(resp, tc.code) {
					t.Fatalf("attempt %d during the fault: %d %s, want 503 %s", attempt, status, resp, tc.code)
				}
				if n := s.count(t, "webhook_claims"); n != 0 {
					t.Fatalf("attempt %d left %d claims", attempt, n)
				}
			}
			if status, resp := s.post(t, client, "issues", "fault-1", body, webhook.Sign(secret, body)); status != 200 || contains(resp, `"duplicate":true`) {
				t.Fatalf("redelivery after the fault: %d %s", status, resp)
			}
			got := s.stub.waitFor(t, 1, 30*time.Second)
			time.Sleep(100 * time.Millisecond) // a second delivery would show by now
			if g := s.stub.snapshot()["fault-1"]; g.calls != 1 || g.event != "issues" {
				t.Fatalf("stub saw %+v (all: %d), want one issues event", g, len(got))
			}
			if n := s.count(t, "bus_events"); n != 1 {
				t.Fatalf("bus holds %d events, want 1", n)
			}
		})
	}
}

// A receiver that dies between claim and publish leaves a processing claim
// that nobody releases. Redeliveries are refused (409) while its lease runs,
// and the first one after the lease ends takes the claim over and publishes.
// The receiver's clock is a fake one: the lease ends when the test says so.
func TestCrashBetweenClaimAndPublish(t *testing.T) {
	const lease = time.Minute
	clk := testenv.NewClock(time.Now())
	s := newStack(t, options{lease: lease, now: clk.Now})
	body := []byte(`{"action":"opened"}`)
	now := clk.Now()
	crashed := webhook.Claim{Key: "4242/crash-1", Token: "dead-process", At: now, LeaseUntil: now.Add(lease), ExpiresAt: now.Add(24 * time.Hour)}
	if o, err := s.claims.Claim(context.Background(), crashed); o != webhook.Acquired || err != nil {
		t.Fatalf("crashed receiver's claim: %s %v", o, err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if status, resp := s.post(t, client, "issues", "crash-1", body, webhook.Sign(secret, body)); status != http.StatusConflict {
		t.Fatalf("redelivery during the lease: %d %s, want 409", status, resp)
	}
	clk.Advance(lease - time.Millisecond)
	if status, resp := s.post(t, client, "issues", "crash-1", body, webhook.Sign(secret, body)); status != http.StatusConflict {
		t.Fatalf("redelivery just before the lease ends: %d %s, want 409", status, resp)
	}
	clk.Advance(time.Millisecond)
	if status, resp := s.post(t, client, "issues", "crash-1", body, webhook.Sign(secret, body)); status != 200 {
		t.Fatalf("redelivery once the lease ended: %d %s, want 200", status, resp)
	}
	s.stub.waitFor(t, 1, 30*time.Second)
	if err := s.claims.Finish(context.Background(), crashed); !errors.Is(err, webhook.ErrNotHolder) {
		t.Fatalf("the dead process could still finish: %v", err)
	}
	if status, resp := s.post(t, client, "issues", "crash-1", body, webhook.Sign(secret, body)); status != 200 || !contains(resp, `"duplicate":true`) {
		t.Fatalf("redelivery after processing: %d %s, want a duplicate", status, resp)
	}
}

// 100 concurrent copies of one delivery over HTTP: exactly one is published
// and handled; the rest are told it is in progress or a duplicate.
func TestHundredConcurrentCopies(t *testing.T) {
	s := newStack(t, options{})
	body := payloadOfSize(25 << 10)
	sig := webhook.Sign(secret, body)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	statuses := make([]int, 100)
	for i := range statuses {
		wg.Go(func() { statuses[i], _ = s.post(t, client, "issue_comment", "same-1", body, sig) })
	}
	wg.Wait()
	accepted := 0
	for i, st := range statuses {
		switch st {
		case 200:
			accepted++
		case http.StatusConflict:
		default:
			t.Fatalf("copy %d answered %d", i, st)
		}
	}
	if accepted == 0 {
		t.Fatal("no copy was accepted")
	}
	s.stub.waitFor(t, 1, 30*time.Second)
	time.Sleep(200 * time.Millisecond)
	if g := s.stub.snapshot()["same-1"]; g.calls != 1 {
		t.Fatalf("the stub handled the delivery %d times, want 1", g.calls)
	}
	if n := s.count(t, "bus_events"); n != 1 {
		t.Fatalf("bus holds %d events, want 1", n)
	}
	if n := s.archived(t); n != 1 {
		t.Fatalf("%d archived payloads, want 1", n)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// In `ai3 dev` a small payload, its bus event and the claim's "done" are
// one transaction. A database failure inside it (a trigger raising an
// error on the event's insert, after the payload's row was written) rolls
// all of it back: 503, no claim, no archived payload, no event. The
// redelivery after the fault is processed once.
func TestStoreFaultRollsBackPayloadAndEvent(t *testing.T) {
	s := newStack(t, options{})
	if _, err := s.db.Exec(`CREATE TRIGGER inject_fault BEFORE INSERT ON bus_events
		BEGIN SELECT RAISE(ABORT, 'injected fault'); END`); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"action":"opened","repository":{"full_name":"acme/widgets"}}`)
	client := &http.Client{Timeout: 30 * time.Second}
	status, resp := s.post(t, client, "issues", "store-fault-1", body, webhook.Sign(secret, body))
	if status != 503 || !contains(resp, "store_unavailable") {
		t.Fatalf("during the fault: %d %s, want 503 store_unavailable", status, resp)
	}
	for _, table := range []string{"webhook_claims", "archive_payloads", "bus_events"} {
		if n := s.count(t, table); n != 0 {
			t.Errorf("the failed delivery left %d rows in %s", n, table)
		}
	}
	if _, err := s.db.Exec(`DROP TRIGGER inject_fault`); err != nil {
		t.Fatal(err)
	}
	if status, resp := s.post(t, client, "issues", "store-fault-1", body, webhook.Sign(secret, body)); status != 200 || contains(resp, `"duplicate":true`) {
		t.Fatalf("redelivery after the fault: %d %s", status, resp)
	}
	s.stub.waitFor(t, 1, 30*time.Second)
	time.Sleep(100 * time.Millisecond) // a second delivery would show by now
	if g := s.stub.snapshot()["store-fault-1"]; g.calls != 1 || !bytes.Equal(g.payload, body) {
		t.Fatalf("stub saw %+v, want the payload once", g)
	}
	if n := s.archived(t); n != 1 {
		t.Fatalf("%d archived payloads, want 1", n)
	}
}
