package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
)

// TestListDeliveriesStates: each handler's state is what the bus holds — a
// handler that gave up shows dead-lettered with its reason, one still busy
// shows pending, one that finished shows delivered — newest first, limited.
func TestListDeliveriesStates(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	payloads, err := archive.Open(ctx, filepath.Join(t.TempDir(), "payloads"), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bus.Open(ctx, db, bus.Options{MaxAttempts: 1, PollInterval: 10 * time.Millisecond, Archive: payloads})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	b.Subscribe(events.HandlerFunc(events.TargetStub, func(context.Context, *events.Envelope) error { return nil }))
	b.Subscribe(events.HandlerFunc(events.TargetComment, func(context.Context, *events.Envelope) error {
		return events.Permanent(errors.New("cannot read the comment"))
	}))
	b.Subscribe(events.HandlerFunc(events.TargetWorkflowRun, func(ctx context.Context, _ *events.Envelope) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return ctx.Err()
	}))
	b.SubscribeDeadLetters(quietAlerts{})
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	publish := func(id, event, action string) {
		payload, _ := json.Marshal(map[string]any{"action": action, "repository": map[string]any{"full_name": "o/r"},
			"sender": map[string]any{"login": "alice"}})
		env := &events.Envelope{DeliveryID: id, Event: event, Action: action, HookID: "7", ReceivedAt: time.Now(),
			Repository: "o/r", Sender: "alice", PayloadComplete: true, Payload: payload}
		// As the receiver does: archive the payload, then publish.
		key, err := events.ArchiveKey(events.Delivery{ID: id, Event: event, HookID: "7", ReceivedAt: env.ReceivedAt})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := payloads.Put(ctx, key, payload)
		if err != nil {
			t.Fatal(err)
		}
		env.S3Reference = &ref
		if err := b.Publish(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	publish("d-ping", "ping", "")
	publish("d-comment", "issue_comment", "created")
	publish("d-run", "workflow_run", "completed")

	var got []delivery
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, err = listDeliveries(ctx, db, payloads, 10); err != nil {
			t.Fatal(err)
		}
		if len(got) == 3 && got[0].State == "pending" && got[1].State == "dead-lettered" && got[2].State == "delivered" &&
			len(got[0].Handlers) == 2 && got[0].Handlers[1].State == "pending" && got[0].Handlers[0].State == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never reached their states: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Once every handler is done the bus drops the envelope: what it said
	// comes back from the archive.
	c := got[1]
	if c.DeliveryID != "d-comment" || c.HookID != "7" || c.Action != "created" || c.Sender != "alice" || c.Repository != "o/r" || len(c.Handlers) != 2 || c.Handlers[0].Handler != "comment" ||
		c.Handlers[0].State != "dead-lettered" || c.Handlers[0].LastError == "" || c.Handlers[1].State != "delivered" {
		t.Fatalf("dead-lettered delivery %+v", c)
	}
	if got[2].DeliveryID != "d-ping" || len(got[2].Handlers) != 1 || got[2].Handlers[0].Handler != "stub" {
		t.Fatalf("delivered ping %+v", got[2])
	}
	if one, err := listDeliveries(ctx, db, payloads, 1); err != nil || len(one) != 1 || one[0].DeliveryID != "d-run" {
		t.Fatalf("limit 1: %+v, %v", one, err)
	}
	cancel()
	<-done
}

type quietAlerts struct{}

func (quietAlerts) HandleDeadLetter(context.Context, events.DeadLetter) error { return nil }
