package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// The embedded shape end to end: a failing handler is retried with backoff,
// dead-lettered after its last attempt, and the real alert handler logs the
// reason and emits the DeadLetters metric, while the stub logs the event.
func TestFailingHandlerReachesAlert(t *testing.T) {
	ctx := context.Background()
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs, metrics testenv.SyncBuffer
	log := slog.New(monitor.ContextHandler{Handler: slog.NewJSONHandler(&logs, nil)})
	emf := monitor.NewEMF(&metrics, monitor.Namespace)
	b, err := bus.Open(ctx, db, bus.Options{MaxAttempts: 3, BackoffBase: 10 * time.Millisecond, PollInterval: 5 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	b.Subscribe(monitor.NewStub(log, emf))
	b.Subscribe(events.HandlerFunc(events.TargetComment, func(context.Context, *events.Envelope) error {
		return errors.New("github answered 502")
	}))
	b.SubscribeDeadLetters(monitor.NewAlert(log, emf))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	env := &events.Envelope{DeliveryID: "dl-1", Event: "issue_comment", HookID: "1", ReceivedAt: time.Now().UTC(), PayloadComplete: true, Payload: json.RawMessage(`{}`)}
	if err := b.Publish(ctx, env); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(metrics.String(), `"DeadLetters":1`) {
		if time.Now().After(deadline) {
			t.Fatalf("no DeadLetters metric within 30s; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var alert, stub map[string]any
	retries := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line not JSON: %s", line)
		}
		if m["delivery_id"] != "dl-1" {
			t.Errorf("log line without the delivery id: %s", line)
		}
		switch m["msg"] {
		case "event dead-lettered":
			alert = m
		case "event received":
			stub = m
		case "bus: handler failed, will retry":
			retries++
		}
	}
	if alert == nil || alert["reason"] != "github answered 502" || alert["target"] != events.TargetComment || alert["attempts"] != 3.0 {
		t.Fatalf("alert log %v", alert)
	}
	if stub == nil {
		t.Fatal("the stub did not log the event")
	}
	if retries != 2 {
		t.Fatalf("%d retry lines, want 2 before the third and last attempt", retries)
	}
}
