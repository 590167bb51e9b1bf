package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// logLines parses JSON log output into records.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

func jsonLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(ContextHandler{slog.NewJSONHandler(buf, nil)})
}

// brokenMetrics fails every Put.
type brokenMetrics struct{}

func (brokenMetrics) Put(context.Context, Metric) error { return errors.New("stdout closed") }

func loadEnvelope(t *testing.T) *events.Envelope {
	t.Helper()
	raw, err := os.ReadFile("testdata/eventbridge_event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev awsevents.CloudWatchEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	env, err := EnvelopeFromEventBridge(ev)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestStubLogsEveryEventWithDeliveryID(t *testing.T) {
	var logs, metrics bytes.Buffer
	s := NewStub(jsonLogger(&logs), NewEMF(&metrics, Namespace))
	env := loadEnvelope(t)
	if err := s.Handle(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, &logs)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1", len(lines))
	}
	l := lines[0]
	if l["delivery_id"] != env.DeliveryID || l["event"] != "issue_comment" || l["repository"] != "octo-org/hello" {
		t.Fatalf("log line %v lacks the delivery's identity", l)
	}
	if strings.Contains(logs.String(), "SECRET_IN_PAYLOAD") {
		t.Fatal("the stub logged the payload")
	}
	doc := checkEMF(t, bytes.TrimSpace(metrics.Bytes()))
	if doc["EventsReceived"] != 1.0 || doc["Event"] != "issue_comment" || doc["delivery_id"] != env.DeliveryID {
		t.Fatalf("metric %v", doc)
	}
	// A metric failure does not fail the delivery (the event was handled).
	logs.Reset()
	if err := NewStub(jsonLogger(&logs), brokenMetrics{}).Handle(context.Background(), env); err != nil {
		t.Fatalf("stub failed because of metrics: %v", err)
	}
	for _, l := range logLines(t, &logs) {
		if l["delivery_id"] != env.DeliveryID {
			t.Fatalf("log line without delivery_id: %v", l)
		}
	}
}

func TestAlertLogsReasonAndCounts(t *testing.T) {
	var logs, metrics bytes.Buffer
	a := NewAlert(jsonLogger(&logs), NewEMF(&metrics, Namespace))
	env := loadEnvelope(t)
	dl := events.DeadLetter{Envelope: env, Target: "comment", Reason: "github answered 502", Attempts: 5}
	if err := a.HandleDeadLetter(context.Background(), dl); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, &logs)
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["reason"] != "github answered 502" || lines[0]["delivery_id"] != env.DeliveryID || lines[0]["target"] != "comment" {
		t.Fatalf("alert log %v", lines)
	}
	doc := checkEMF(t, bytes.TrimSpace(metrics.Bytes()))
	if doc["DeadLetters"] != 1.0 || doc["Target"] != "comment" {
		t.Fatalf("alert metric %v", doc)
	}
	if err := NewAlert(jsonLogger(&logs), brokenMetrics{}).HandleDeadLetter(context.Background(), dl); err == nil {
		t.Fatal("alert whose metric was lost reported success; the dead letter would not be retried")
	}
	if err := a.HandleDeadLetter(context.Background(), events.DeadLetter{Reason: "odd"}); err != nil {
		t.Fatalf("alert without an envelope: %v", err)
	}
}

func TestHealth(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	tests := []struct {
		name     string
		checks   map[string]Check
		wantDown []string
	}{
		{"all up", map[string]Check{"sqlite": func(context.Context) error { return nil }, "bus": func(context.Context) error { return nil }}, nil},
		{"one down", map[string]Check{"sqlite": func(context.Context) error { return nil }, "archive": func(context.Context) error { return errors.New("disk full") }}, []string{"archive"}},
		{"hanging check", map[string]Check{"s3": func(context.Context) error { <-hang; return nil }}, []string{"s3"}},
		{"panicking check", map[string]Check{"kms": func(context.Context) error { panic("nil client") }}, []string{"kms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs, metrics bytes.Buffer
			h := NewHealth(jsonLogger(&logs), NewEMF(&metrics, Namespace), tt.checks)
			h.timeout = 50 * time.Millisecond
			err := h.Beat(context.Background())
			if (err != nil) != (len(tt.wantDown) > 0) {
				t.Fatalf("Beat = %v, want down %v", err, tt.wantDown)
			}
			for _, d := range tt.wantDown {
				if !strings.Contains(err.Error(), d) {
					t.Errorf("error %q does not name %s", err, d)
				}
			}
			up := map[string]float64{}
			heartbeats := 0
			for _, line := range bytes.Split(bytes.TrimSpace(metrics.Bytes()), []byte("\n")) {
				doc := checkEMF(t, line)
				if doc["Heartbeat"] == 1.0 {
					heartbeats++
				}
				if v, ok := doc["DependencyUp"].(float64); ok {
					up[doc["Dependency"].(string)] = v
				}
			}
			if heartbeats != 1 || len(up) != len(tt.checks) {
				t.Fatalf("%d heartbeats and %d dependency metrics, want 1 and %d", heartbeats, len(up), len(tt.checks))
			}
			for name := range tt.checks {
				want := 1.0
				for _, d := range tt.wantDown {
					if d == name {
						want = 0
					}
				}
				if up[name] != want {
					t.Errorf("DependencyUp{%s} = %v, want %v", name, up[name], want)
				}
			}
		})
	}
}

func TestHealthRunBeatsUntilCancelled(t *testing.T) {
	var metrics testenv.SyncBuffer
	h := NewHealth(slog.New(slog.DiscardHandler), NewEMF(&metrics, Namespace), map[string]Check{"x": func(context.Context) error { return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, 20*time.Millisecond) }()
	// At least 3 beats, however slow the machine: wait for them rather than
	// count what a fixed window held.
	beats := func() int { return strings.Count(metrics.String(), `"Heartbeat":1`) }
	for deadline := time.Now().Add(20 * time.Second); beats() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d heartbeats in 20 s at a 20ms interval", beats())
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before it was cancelled", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestContextHandlerAddsDeliveryID(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf).With("component", "x")
	ctx := WithDelivery(context.Background(), "d-9")
	log.InfoContext(ctx, "from code that knows nothing about deliveries")
	log.InfoContext(ctx, "explicit", "delivery_id", "d-9")
	log.Info("no context")
	lines := logLines(t, &buf)
	if lines[0]["delivery_id"] != "d-9" || lines[1]["delivery_id"] != "d-9" || lines[2]["delivery_id"] != nil {
		t.Fatalf("lines %v", lines)
	}
	if strings.Count(buf.String(), `"delivery_id"`) != 2 {
		t.Fatalf("delivery_id duplicated: %s", buf.String())
	}
}
