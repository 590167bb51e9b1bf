package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// finishingBus is a webhook.FinishingPublisher over memBus and memClaims:
// the publish and the finish happen together or not at all.
type finishingBus struct {
	*memBus
	claims   *memClaims
	combined int // PublishAndFinish calls
	steal    bool
}

func (f *finishingBus) PublishAndFinish(ctx context.Context, env *events.Envelope, c webhook.Claim) error {
	f.combined++
	if f.steal { // another attempt took the claim over after our lease ended
		f.claims.Release(ctx, c)
	}
	if err := f.Publish(ctx, env); err != nil {
		return err
	}
	if err := f.claims.Finish(ctx, c); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}

// countingClaims counts the receiver's own Finish calls.
type countingClaims struct {
	*memClaims
	finishes int
}

func (c *countingClaims) Finish(ctx context.Context, cl webhook.Claim) error {
	c.finishes++
	return c.memClaims.Finish(ctx, cl)
}

// With a FinishingPublisher the receiver publishes and finishes in one call
// (never a separate Finish); a failure releases the claim and answers 503; a
// claim lost meanwhile still answers 200, since the event is on the bus.
func TestFinishingPublisher(t *testing.T) {
	cases := []struct {
		name       string
		down       bool
		steal      bool
		status     int
		published  int
		duplicate  bool // a redelivery afterwards is a duplicate
		redelivery int  // status of that redelivery
	}{
		{name: "published and finished", status: 200, published: 1, duplicate: true, redelivery: 200},
		{name: "bus down", down: true, status: 503, published: 0, redelivery: 200},
		{name: "claim lost", steal: true, status: 200, published: 1, redelivery: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mc := &memClaims{}
			claims := &countingClaims{memClaims: mc}
			fb := &finishingBus{memBus: &memBus{down: tc.down}, claims: mc, steal: tc.steal}
			now := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
			r, err := webhook.New(context.Background(), webhook.Config{
				Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: claims, Archive: &memArchive{},
				Publisher: fb, Now: func() time.Time { return now },
			})
			if err != nil {
				t.Fatal(err)
			}
			resp := r.Handle(context.Background(), delivery("d-fp", issuePayload))
			if resp.Status != tc.status {
				t.Fatalf("answer %d %s, want %d", resp.Status, resp.Body, tc.status)
			}
			if n := len(fb.envelopes()); n != tc.published || fb.combined != 1 || claims.finishes != 0 {
				t.Fatalf("published %d (want %d), PublishAndFinish %d times (want 1), Finish %d times (want 0)",
					n, tc.published, fb.combined, claims.finishes)
			}
			if tc.down && mc.len() != 0 {
				t.Fatal("the claim was not released after the failed publish")
			}
			fb.down, fb.steal = false, false
			now = now.Add(2 * time.Minute) // GitHub's redelivery, after any lease
			resp = r.Handle(context.Background(), delivery("d-fp", issuePayload))
			a := decode(t, resp)
			if resp.Status != tc.redelivery || a.Duplicate != tc.duplicate {
				t.Fatalf("redelivery = %d %s, want %d duplicate=%v", resp.Status, resp.Body, tc.redelivery, tc.duplicate)
			}
		})
	}
}
