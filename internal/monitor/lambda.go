package monitor

import (
	"encoding/json"
	"fmt"
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
	var env events.Envelope
	if err := json.Unmarshal(ev.Detail, &env); err != nil {
		return nil, fmt.Errorf("eventbridge event %s: detail is not an envelope: %w", ev.ID, err)
	}
	if env.Event == "" {
		env.Event = ev.DetailType
	}
	if err := events.CheckEnvelope(&env); err != nil {
		return nil, fmt.Errorf("eventbridge event %s: %w", ev.ID, err)
	}
	return &env, nil
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
