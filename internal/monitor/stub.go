package monitor

import (
	"context"
	"log/slog"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Stub logs every event it receives with its delivery id and counts it. It is
// the catch-all target of the "all-to-stub" rule: proof that an event went
// through the bus, and a trail of what arrived.
type Stub struct {
	log     *slog.Logger
	metrics Metrics
}

// NewStub returns the stub handler.
func NewStub(log *slog.Logger, metrics Metrics) *Stub {
	return &Stub{log: log, metrics: metrics}
}

// Name is events.TargetStub.
func (s *Stub) Name() string { return events.TargetStub }

// Handle logs the envelope's summary (never the payload) and emits the
// EventsReceived metric by event name. A metric failure is logged, not
// returned: the event itself was handled.
func (s *Stub) Handle(ctx context.Context, env *events.Envelope) error {
	ctx = WithDelivery(ctx, env.DeliveryID)
	s.log.InfoContext(ctx, "event received",
		"delivery_id", env.DeliveryID,
		"event", env.Event,
		"action", env.Action,
		"hook_id", env.HookID,
		"installation_id", env.InstallationID,
		"repository", env.Repository,
		"sender", env.Sender,
		"payload_complete", env.PayloadComplete,
		"payload_bytes", len(env.Payload),
	)
	err := s.metrics.Put(ctx, Metric{
		Name: "EventsReceived", Value: 1, Unit: Count,
		Dimensions: map[string]string{"Event": env.Event},
		Properties: map[string]string{"delivery_id": env.DeliveryID},
	})
	if err != nil {
		s.log.WarnContext(ctx, "emit metric", "delivery_id", env.DeliveryID, "err", err)
	}
	return nil
}
