package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// EnvelopeFromEventBridge extracts the envelope from the EventBridge event a
// rule delivered to a Lambda target.
func EnvelopeFromEventBridge(ev awsevents.CloudWatchEvent) (*events.Envelope, error) {
	if ev.Source != events.Source {
		return nil, fmt.Errorf("eventbridge event %s: source %q, want %q", ev.ID, ev.Source, events.Source)
	}
	env, err := events.Decode(ev.Detail)
	if err != nil {
		return nil, fmt.Errorf("eventbridge event %s: detail is not an envelope: %w", ev.ID, err)
	}
	if env.Event == "" {
		env.Event = ev.DetailType
	}
	if err := events.CheckEnvelope(env); err != nil {
		return nil, fmt.Errorf("eventbridge event %s: %w", ev.ID, err)
	}
	return env, nil
}

// DeadLetterFromSQS turns one DLQ message into a dead letter. The body is the
// EventBridge event that could not be delivered. EventBridge's own DLQ sets
// the RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE and RETRY_ATTEMPTS
// attributes; a Lambda asynchronous-invocation DLQ sets ErrorCode and
// ErrorMessage. Both are understood. A body that is not an ai3 event still
// becomes a dead letter (with the body's problem in the reason): an alert
// must never be lost because its event is odd.
func DeadLetterFromSQS(msg awsevents.SQSMessage) events.DeadLetter {
	attr := func(names ...string) string {
		for _, n := range names {
			if a, ok := msg.MessageAttributes[n]; ok && a.StringValue != nil {
				return *a.StringValue
			}
		}
		return ""
	}
	dl := events.DeadLetter{Target: attr("TARGET_ARN")}
	code, text := attr("ERROR_CODE", "ErrorCode"), attr("ERROR_MESSAGE", "ErrorMessage")
	switch {
	case code != "" && text != "":
		dl.Reason = code + ": " + text
	case code != "" || text != "":
		dl.Reason = code + text
	default:
		dl.Reason = "no error attributes on DLQ message " + msg.MessageId
	}
	if n, err := strconv.Atoi(attr("RETRY_ATTEMPTS")); err == nil {
		dl.Attempts = n + 1 // the first try plus its retries
	}
	var ev awsevents.CloudWatchEvent
	if err := json.Unmarshal([]byte(msg.Body), &ev); err != nil {
		dl.Envelope = &events.Envelope{}
		dl.Reason += fmt.Sprintf(" (DLQ body is not an EventBridge event: %v)", err)
		return dl
	}
	env, err := EnvelopeFromEventBridge(ev)
	if err != nil {
		env = &events.Envelope{Event: ev.DetailType}
		dl.Reason += fmt.Sprintf(" (%v)", err)
	}
	dl.Envelope = env
	return dl
}

// EventBridgeHandler adapts a bus handler to a Lambda target of an
// EventBridge rule. An event that is not an ai3 envelope is an error, so
// Lambda's retries and then the DLQ (and the alert) see it.
func EventBridgeHandler(log *slog.Logger, h events.Handler) func(ctx context.Context, ev awsevents.CloudWatchEvent) error {
	return func(ctx context.Context, ev awsevents.CloudWatchEvent) error {
		env, err := EnvelopeFromEventBridge(ev)
		if err != nil {
			log.ErrorContext(ctx, "not an ai3 event", "event_id", ev.ID, "err", err)
			return err
		}
		ctx = WithDelivery(ctx, env.DeliveryID)
		if err := h.Handle(ctx, env); err != nil {
			log.ErrorContext(ctx, "handler failed", "handler", h.Name(), "err", err)
			return fmt.Errorf("handler %s, delivery %s: %w", h.Name(), env.DeliveryID, err)
		}
		return nil
	}
}

// SQSDeadLetterHandler adapts the alert handler to an SQS event source on the
// DLQ. It answers with partial batch failures (the event source mapping must
// enable ReportBatchItemFailures), so only the messages whose alert failed
// are delivered again.
func SQSDeadLetterHandler(h events.DeadLetterHandler) func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		var resp awsevents.SQSEventResponse
		for _, msg := range ev.Records {
			dl := DeadLetterFromSQS(msg)
			if err := h.HandleDeadLetter(WithDelivery(ctx, dl.Envelope.DeliveryID), dl); err != nil {
				resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
			}
		}
		return resp, nil
	}
}

// ScheduledHandler adapts Health to an EventBridge schedule.
func ScheduledHandler(h *Health) func(ctx context.Context, ev awsevents.CloudWatchEvent) error {
	return func(ctx context.Context, ev awsevents.CloudWatchEvent) error {
		return h.Beat(ctx)
	}
}
