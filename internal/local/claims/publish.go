package claims

import (
	"context"
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// Publisher publishes on a bus that shares the claims' database and marks
// the receiver's claim done in the same transaction as the publish: one
// durable write instead of two, shared (one fsync) with every claim and
// publish pending at that moment, and never an event on the bus with its
// claim still "processing" after a crash. It is a webhook.FinishingPublisher.
type Publisher struct {
	claims *Store
	bus    *bus.Bus
}

var _ webhook.FinishingPublisher = (*Publisher)(nil)

// Publisher returns the publisher over b, which must use the store's
// database; pass both the same write lock (Options.WriteLock,
// bus.Options.WriteLock).
func (s *Store) Publisher(b *bus.Bus) *Publisher { return &Publisher{claims: s, bus: b} }

// Publish implements events.Publisher: it publishes on the bus alone.
func (p *Publisher) Publish(ctx context.Context, env *events.Envelope) error {
	return p.bus.Publish(ctx, env)
}

// PublishAndFinish implements webhook.FinishingPublisher: the event and
// the claim's "done" are written by the store's group commit, in one
// transaction shared with the other deliveries' claims and publishes.
func (p *Publisher) PublishAndFinish(ctx context.Context, env *events.Envelope, c webhook.Claim) error {
	prep, err := p.bus.Prepare(env)
	if err != nil {
		return err
	}
	if err := p.claims.run(&op{kind: opPublishFinish, c: c, bus: p.bus, event: prep}); err != nil {
		return fmt.Errorf("publish and finish claim %s: %w", c.Key, err)
	}
	return nil
}
