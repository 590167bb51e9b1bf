// Package publishertest is the contract test suite every events.Publisher
// adapter must pass. The adapter's test supplies a Harness: the publisher,
// a way to see what reached the far side of the bus, and a way to break the
// bus.
package publishertest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Harness is one fresh publisher under test.
type Harness struct {
	Publisher events.Publisher
	// Received waits until at least n envelopes have reached the far side (a
	// subscribed handler, or the EventBridge wire) and returns all that have.
	Received func(t *testing.T, n int) []*events.Envelope
	// Break makes the bus unavailable; Publish must then fail.
	Break func()
}

// Run checks the Publisher contract against harnesses made by open.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Helper()
	ctx := context.Background()
	received := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	inline := &events.Envelope{
		DeliveryID: "3f2a-inline", Event: "issue_comment", Action: "created", HookID: "77", InstallationID: 42,
		Repository: "octo-org/hello", Sender: "octocat", ReceivedAt: received, PayloadComplete: true,
		S3Reference: &events.Ref{Bucket: "b", Key: "2026/11/28/issue_comment/3f2a-inline.json"},
		Payload:     json.RawMessage(`{"action":"created","comment":{"body":"@ai3-mvp help"}}`),
	}
	byRef := &events.Envelope{
		DeliveryID: "3f2a-ref", Event: "workflow_run", Action: "completed", HookID: "77", ReceivedAt: received,
		S3Reference: &events.Ref{Bucket: "b", Key: "2026/11/28/workflow_run/3f2a-ref.json"},
	}

	t.Run("envelopes arrive intact", func(t *testing.T) {
		h := open(t)
		for _, env := range []*events.Envelope{inline, byRef} {
			if err := h.Publisher.Publish(ctx, env); err != nil {
				t.Fatalf("Publish %s: %v", env.DeliveryID, err)
			}
		}
		got := h.Received(t, 2)
		byID := map[string]*events.Envelope{}
		for _, e := range got {
			byID[e.DeliveryID] = e
		}
		for _, want := range []*events.Envelope{inline, byRef} {
			e := byID[want.DeliveryID]
			if e == nil {
				t.Fatalf("delivery %s did not arrive (got %d envelopes)", want.DeliveryID, len(got))
			}
			if !sameEnvelope(e, want) {
				gj, _ := json.Marshal(e)
				wj, _ := json.Marshal(want)
				t.Errorf("delivery %s arrived changed:\n got %s\nwant %s", want.DeliveryID, gj, wj)
			}
		}
	})

	t.Run("invalid envelopes are refused", func(t *testing.T) {
		h := open(t)
		for _, env := range []*events.Envelope{nil, {Event: "push", HookID: "1"}, {DeliveryID: "d", HookID: "1"}, {DeliveryID: "d", Event: "push"}} {
			if err := h.Publisher.Publish(ctx, env); !errors.Is(err, events.ErrInvalidEnvelope) {
				t.Errorf("Publish(%+v) = %v, want ErrInvalidEnvelope", env, err)
			}
		}
		// Something valid afterwards is the only thing that arrives.
		if err := h.Publisher.Publish(ctx, inline); err != nil {
			t.Fatal(err)
		}
		if got := h.Received(t, 1); len(got) != 1 || got[0].DeliveryID != inline.DeliveryID {
			t.Fatalf("received %d envelopes, first %q; want only %s", len(got), got[0].DeliveryID, inline.DeliveryID)
		}
	})

	t.Run("bus down is an error", func(t *testing.T) {
		h := open(t)
		h.Break()
		err := h.Publisher.Publish(ctx, inline)
		if err == nil {
			t.Fatal("Publish returned nil with the bus down: the receiver would acknowledge an event nobody holds")
		}
		if !strings.Contains(err.Error(), inline.DeliveryID) {
			t.Errorf("error %q does not name the delivery", err)
		}
	})
}

// sameEnvelope compares envelopes as their JSON meaning (payload whitespace
// and time zone representation aside).
func sameEnvelope(a, b *events.Envelope) bool {
	norm := func(e *events.Envelope) map[string]any {
		raw, _ := json.Marshal(e)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m
	}
	return reflect.DeepEqual(norm(a), norm(b)) && a.ReceivedAt.Equal(b.ReceivedAt)
}
