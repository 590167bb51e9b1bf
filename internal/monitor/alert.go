package monitor

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Alert consumes dead letters: it logs each failed event with its reason at
// error level and emits the DeadLetters metric (the CloudWatch alarm's
// source). It never drops a dead letter silently: if the metric cannot be
// written it returns the error, so the bus (or SQS) delivers it again.
type Alert struct {
	log     *slog.Logger
	metrics Metrics
}

// NewAlert returns the alert handler.
func NewAlert(log *slog.Logger, metrics Metrics) *Alert {
	return &Alert{log: log, metrics: metrics}
}

// HandleDeadLetter implements events.DeadLetterHandler.
func (a *Alert) HandleDeadLetter(ctx context.Context, dl events.DeadLetter) error {
	env := dl.Envelope
	if env == nil {
		env = &events.Envelope{}
	}
	ctx = WithDelivery(ctx, env.DeliveryID)
	target := dl.Target
	if target == "" {
		target = "unknown"
	}
	a.log.ErrorContext(ctx, "event dead-lettered",
		"delivery_id", env.DeliveryID,
		"event", env.Event,
		"action", env.Action,
		"repository", env.Repository,
		"target", target,
		"attempts", dl.Attempts,
		"reason", dl.Reason,
	)
	err := a.metrics.Put(ctx, Metric{
		Name: "DeadLetters", Value: 1, Unit: Count,
		Dimensions: map[string]string{"Target": target},
		Properties: map[string]string{"delivery_id": env.DeliveryID, "reason": dl.Reason},
	})
	if err != nil {
		return fmt.Errorf("alert for delivery %s: %w", env.DeliveryID, err)
	}
	return nil
}
