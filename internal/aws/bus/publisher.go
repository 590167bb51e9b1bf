// Package bus is the AWS shape's events.Publisher: PutEvents on the ai3
// EventBridge custom bus, one entry per envelope (source events.Source,
// detail-type = GitHub event name, detail = the envelope). The routing rules
// and their targets are created by Pulumi from events.Rules().
//
// Wiring (lambdas/receiver):
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	p := bus.New(eventbridge.NewFromConfig(cfg), os.Getenv("EVENT_BUS_NAME"), bus.Options{})
package bus

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// MaxEntrySize is EventBridge's limit for one PutEvents entry.
const MaxEntrySize = 256 * 1024

// EventBridge is the part of the EventBridge client the publisher uses
// (*eventbridge.Client has it).
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
	DescribeEventBus(ctx context.Context, in *eventbridge.DescribeEventBusInput, opts ...func(*eventbridge.Options)) (*eventbridge.DescribeEventBusOutput, error)
}

// Options tune retries of entries EventBridge rejected inside a 200 answer.
// (Transport errors and throttled calls are retried by the SDK itself.)
type Options struct {
	MaxAttempts int           // attempts for a retryable failed entry; default 3
	RetryDelay  time.Duration // before the second attempt, doubled after; default 50ms
}

// Publisher puts envelopes on one EventBridge bus.
type Publisher struct {
	client  EventBridge
	busName string
	opts    Options
}

// New returns a publisher to the bus named busName.
func New(client EventBridge, busName string, opts Options) *Publisher {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 50 * time.Millisecond
	}
	return &Publisher{client: client, busName: busName, opts: opts}
}

// retryable entry error codes: EventBridge's own transient failures.
var retryable = []string{"InternalFailure", "InternalException", "ThrottlingException", "ServiceUnavailable"}

// Publish sends env and returns nil only when EventBridge accepted the
// entry. A failed entry in a 200 answer (FailedEntryCount > 0) is a failure:
// transient codes are retried up to MaxAttempts, others fail at once.
func (p *Publisher) Publish(ctx context.Context, env *events.Envelope) error {
	if err := events.CheckEnvelope(env); err != nil {
		return fmt.Errorf("eventbridge: publish: %w", err)
	}
	detail, err := events.Encode(env)
	if err != nil {
		return fmt.Errorf("eventbridge: publish delivery %s: encode: %w", env.DeliveryID, err)
	}
	// EventBridge counts source, detail-type, detail and resources.
	if size := len(detail) + len(events.Source) + len(env.Event); size > MaxEntrySize {
		return fmt.Errorf("eventbridge: publish delivery %s: entry of %d bytes is over EventBridge's %d", env.DeliveryID, size, MaxEntrySize)
	}
	in := &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source:       aws.String(events.Source),
		DetailType:   aws.String(env.Event),
		Detail:       aws.String(string(detail)),
		EventBusName: aws.String(p.busName),
	}}}
	if !env.ReceivedAt.IsZero() {
		in.Entries[0].Time = aws.Time(env.ReceivedAt)
	}
	delay := p.opts.RetryDelay
	for attempt := 1; ; attempt++ {
		out, err := p.client.PutEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("eventbridge: publish delivery %s to %s: %w", env.DeliveryID, p.busName, err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		code, msg := "unknown", "no entry result"
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		failure := fmt.Errorf("eventbridge: publish delivery %s to %s: entry rejected (%s: %s) on attempt %d", env.DeliveryID, p.busName, code, msg, attempt)
		if attempt >= p.opts.MaxAttempts || !slices.Contains(retryable, code) {
			return failure
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; then %w", failure, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// Check reports whether the bus exists and answers (the health handler's
// check).
func (p *Publisher) Check(ctx context.Context) error {
	if _, err := p.client.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(p.busName)}); err != nil {
		return fmt.Errorf("eventbridge: bus %s: %w", p.busName, err)
	}
	return nil
}
