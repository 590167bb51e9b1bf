package webhook_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// Each fault leaves the delivery re-processable: the claim is released, the
// answer is 5xx, and once the fault clears the redelivery is published exactly
// once.
func TestFaultsReleaseTheClaim(t *testing.T) {
	cases := []struct {
		name string
		fail func(g *rig)
		fix  func(g *rig)
		code string
	}{
		{"archive down", func(g *rig) { g.archive.down = true }, func(g *rig) { g.archive.down = false }, "archive_unavailable"},
		{"bus down", func(g *rig) { g.bus.down = true }, func(g *rig) { g.bus.down = false }, "bus_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t)
			tc.fail(g)
			resp := g.r.Handle(context.Background(), delivery("d-f", issuePayload))
			if a := decode(t, resp); resp.Status != 503 || a.Error != tc.code {
				t.Fatalf("with %s = %d %s, want 503 %s", tc.name, resp.Status, resp.Body, tc.code)
			}
			if g.claims.len() != 0 {
				t.Fatal("the claim was not released after the failure")
			}
			if n := len(g.bus.envelopes()); n != 0 {
				t.Fatalf("%d envelopes published during the fault", n)
			}
			tc.fix(g)
			g.advance(time.Second) // GitHub's redelivery, seconds later
			resp = g.r.Handle(context.Background(), delivery("d-f", issuePayload))
			if a := decode(t, resp); resp.Status != 200 || a.Duplicate {
				t.Fatalf("redelivery after the fault = %d %s, want 200 processed", resp.Status, resp.Body)
			}
			if n := len(g.bus.envelopes()); n != 1 {
				t.Fatalf("published %d envelopes, want exactly 1", n)
			}
		})
	}
}

// A receiver that crashed after claiming never releases; a redelivery during
// the lease is refused (409, not "duplicate"), and one after the lease ended
// takes the claim over and publishes.
func TestCrashBetweenClaimAndPublish(t *testing.T) {
	g := newRig(t)
	crashed := webhook.Claim{Key: "123/d-c", Token: "crashed", At: g.clock(), LeaseUntil: g.clock().Add(60 * time.Second), ExpiresAt: g.clock().Add(24 * time.Hour)}
	if o, err := g.claims.Claim(context.Background(), crashed); o != webhook.Acquired || err != nil {
		t.Fatalf("setup claim = %s, %v", o, err)
	}
	g.advance(10 * time.Second)
	resp := g.r.Handle(context.Background(), delivery("d-c", issuePayload))
	if a := decode(t, resp); resp.Status != http.StatusConflict || a.Error != "in_progress" {
		t.Fatalf("redelivery inside the lease = %d %s, want 409 in_progress", resp.Status, resp.Body)
	}
	g.advance(51 * time.Second)
	resp = g.r.Handle(context.Background(), delivery("d-c", issuePayload))
	if a := decode(t, resp); resp.Status != 200 || a.Duplicate {
		t.Fatalf("redelivery after the lease = %d %s, want 200 processed", resp.Status, resp.Body)
	}
	if n := len(g.bus.envelopes()); n != 1 {
		t.Fatalf("published %d envelopes, want 1", n)
	}
	if err := g.claims.Finish(context.Background(), crashed); err == nil {
		t.Fatal("the crashed attempt could still finish a claim taken over by another")
	}
}

// When marking the claim done fails after a successful publish, the delivery
// is still answered 200: it is on the bus, and a 5xx would invite a second
// publish.
func TestFinishFailureStillAnswers200(t *testing.T) {
	g := newRig(t)
	g.claims.finishDown = true
	if resp := g.r.Handle(context.Background(), delivery("d-fin", issuePayload)); resp.Status != 200 {
		t.Fatalf("= %d %s, want 200", resp.Status, resp.Body)
	}
	if n := len(g.bus.envelopes()); n != 1 {
		t.Fatalf("published %d, want 1", n)
	}
	resp := g.r.Handle(context.Background(), delivery("d-fin", issuePayload))
	if resp.Status != http.StatusConflict {
		t.Fatalf("redelivery within the lease = %d, want 409 (the claim is still processing)", resp.Status)
	}
}

func TestConcurrentCopiesPublishOnce(t *testing.T) {
	g := newRig(t)
	g.bus.delay = 20 * time.Millisecond // keep the first attempt in flight
	const copies = 100
	var wg sync.WaitGroup
	statuses := make([]int, copies)
	for i := range copies {
		wg.Go(func() {
			statuses[i] = g.r.Handle(context.Background(), delivery("d-race", issuePayload)).Status
		})
	}
	wg.Wait()
	ok := 0
	for i, s := range statuses {
		switch s {
		case 200:
			ok++
		case http.StatusConflict:
		default:
			t.Fatalf("copy %d answered %d", i, s)
		}
	}
	if n := len(g.bus.envelopes()); n != 1 {
		t.Fatalf("%d copies published %d envelopes, want exactly 1", copies, n)
	}
	if ok < 1 {
		t.Fatal("no copy was accepted")
	}
	// After the race, the delivery is done: every further copy is a duplicate.
	if a := decode(t, g.r.Handle(context.Background(), delivery("d-race", issuePayload))); !a.Duplicate {
		t.Fatalf("copy after the race = %+v, want duplicate", a)
	}
}
