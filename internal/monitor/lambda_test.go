package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

func TestEnvelopeFromEventBridge(t *testing.T) {
	env := loadEnvelope(t)
	if env.DeliveryID != "72d3162e-cc78-11e3-81ab-4c9367dc0958" || env.Event != "issue_comment" || !env.PayloadComplete || env.S3Reference == nil {
		t.Fatalf("envelope %+v", env)
	}
	bad := []awsevents.CloudWatchEvent{
		{ID: "1", Source: "aws.events", DetailType: "Scheduled Event", Detail: json.RawMessage(`{}`)},
		{ID: "2", Source: "ai3.github", DetailType: "push", Detail: json.RawMessage(`[1,2]`)},
		{ID: "3", Source: "ai3.github", DetailType: "push", Detail: json.RawMessage(`{"event":"push"}`)},
	}
	for _, ev := range bad {
		if _, err := EnvelopeFromEventBridge(ev); err == nil {
			t.Errorf("event %s accepted", ev.ID)
		}
	}
}

func TestDeadLetterFromSQS(t *testing.T) {
	raw, err := os.ReadFile("testdata/sqs_dlq_event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev awsevents.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		wantReason   string
		wantTarget   string
		wantAttempts int
		wantDelivery string
	}{
		{"SDK_CLIENT_ERROR: Unable to invoke Lambda function: Rate Exceeded.", "arn:aws:lambda:eu-west-1:111122223333:function:ai3-comment", 3, "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"200: task timed out after 30.00 seconds", "", 0, "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"NO_PERMISSIONS: not authorized (DLQ body is not an EventBridge event", "", 0, ""},
	}
	if len(ev.Records) != len(tests) {
		t.Fatalf("%d records in the fixture, want %d", len(ev.Records), len(tests))
	}
	for i, tt := range tests {
		dl := DeadLetterFromSQS(ev.Records[i])
		if !strings.HasPrefix(dl.Reason, tt.wantReason) || dl.Target != tt.wantTarget || dl.Attempts != tt.wantAttempts || dl.Envelope == nil || dl.Envelope.DeliveryID != tt.wantDelivery {
			t.Errorf("record %d: %+v (delivery %q), want reason %q target %q attempts %d delivery %q", i, dl, dl.Envelope.DeliveryID, tt.wantReason, tt.wantTarget, tt.wantAttempts, tt.wantDelivery)
		}
	}
}

func TestLambdaAdapters(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := jsonLogger(&logs)
	raw, _ := os.ReadFile("testdata/eventbridge_event.json")
	var ev awsevents.CloudWatchEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var got []string
	h := events.HandlerFunc("rec", func(ctx context.Context, env *events.Envelope) error {
		got = append(got, env.DeliveryID)
		if DeliveryID(ctx) != env.DeliveryID {
			t.Errorf("handler context lacks the delivery id")
		}
		return nil
	})
	if err := EventBridgeHandler(log, h)(ctx, ev); err != nil || len(got) != 1 {
		t.Fatalf("EventBridgeHandler = %v, handled %v", err, got)
	}
	failing := events.HandlerFunc("f", func(context.Context, *events.Envelope) error { return errors.New("boom") })
	if err := EventBridgeHandler(log, failing)(ctx, ev); err == nil {
		t.Fatal("a failing handler's error was swallowed: Lambda would not retry or dead-letter")
	}
	if err := EventBridgeHandler(log, h)(ctx, awsevents.CloudWatchEvent{ID: "x", Source: "aws.events"}); err == nil {
		t.Fatal("a foreign event was accepted")
	}

	var sqs awsevents.SQSEvent
	raw, _ = os.ReadFile("testdata/sqs_dlq_event.json")
	if err := json.Unmarshal(raw, &sqs); err != nil {
		t.Fatal(err)
	}
	calls := 0
	alert := deadLetterFunc(func(ctx context.Context, dl events.DeadLetter) error {
		calls++
		if calls == 2 {
			return errors.New("metrics down")
		}
		return nil
	})
	resp, err := SQSDeadLetterHandler(alert)(ctx, sqs)
	if err != nil || calls != 3 || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-lambda-async" {
		t.Fatalf("SQSDeadLetterHandler = %+v, %v after %d calls; want only m-lambda-async reported failed", resp, err, calls)
	}
}

type deadLetterFunc func(ctx context.Context, dl events.DeadLetter) error

func (f deadLetterFunc) HandleDeadLetter(ctx context.Context, dl events.DeadLetter) error {
	return f(ctx, dl)
}
