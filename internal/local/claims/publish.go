package claims

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// Publisher publishes on a bus that shares the claims' database and marks
// the receiver's claim done in the same transaction as the publish: one
// durable write (one fsync, shared by every delivery in the group commit)
// instead of two, and never an event on the bus with its claim still
// "processing" after a crash. It is a webhook.FinishingPublisher.
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

// PublishAndFinish implements webhook.FinishingPublisher.
func (p *Publisher) PublishAndFinish(ctx context.Context, env *events.Envelope, c webhook.Claim) error {
	var held bool
	err := p.bus.PublishWith(ctx, env, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, p.claims.finishStmt).ExecContext(ctx, c.Key, c.Token)
		if err != nil {
			return fmt.Errorf("finish claim %s: %w", c.Key, err)
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	if err != nil {
		return err
	}
	if !held {
		return fmt.Errorf("finish claim %s: %w", c.Key, webhook.ErrNotHolder)
	}
	return nil
}
