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
// durable write instead of two, shared (one fsync) with every claim and
// publish pending at that moment, and never an event on the bus with its
// claim still "processing" after a crash. It is a webhook.FinishingPublisher.
type Publisher struct {
	claims *Store
	bus    *bus.Bus
}

var _ webhook.ArchivingPublisher = (*Publisher)(nil)

// TxStaged is a staged payload that can be committed inside a transaction
// on the claims' database (archive's small payloads).
type TxStaged interface {
	events.Staged
	// Ref is where the payload will be once committed.
	Ref() events.Ref
	// CommitIn writes the payload in tx; it is durable when tx commits.
	CommitIn(ctx context.Context, tx *sql.Tx) error
}

// Publisher returns the publisher over b, which must use the store's
// database; pass both the same write lock (Options.WriteLock,
// bus.Options.WriteLock).
func (s *Store) Publisher(b *bus.Bus) *Publisher { return &Publisher{claims: s, bus: b} }

// Publish implements events.Publisher: it publishes on the bus alone.
func (p *Publisher) Publish(ctx context.Context, env *events.Envelope) error {
	return p.bus.Publish(ctx, env)
}

// CommitPublishAndFinish implements webhook.ArchivingPublisher: a payload
// staged in the claims' database (TxStaged) is written in the same
// transaction as the event and the claim's "done"; any other is committed
// first, then published and finished.
func (p *Publisher) CommitPublishAndFinish(ctx context.Context, staged events.Staged, env *events.Envelope, c webhook.Claim) error {
	in, ok := staged.(TxStaged)
	if !ok {
		ref, err := staged.Commit(ctx)
		if err != nil {
			return err
		}
		env.S3Reference = &ref
		return p.PublishAndFinish(ctx, env, c)
	}
	ref := in.Ref()
	env.S3Reference = &ref
	return p.publishAndFinish(ctx, env, c, in.CommitIn)
}

// PublishAndFinish implements webhook.FinishingPublisher: the event and
// the claim's "done" are written by the store's group commit, in one
// transaction shared with the other deliveries' claims and publishes.
func (p *Publisher) PublishAndFinish(ctx context.Context, env *events.Envelope, c webhook.Claim) error {
	return p.publishAndFinish(ctx, env, c, nil)
}

// publishAndFinish runs first (when not nil), publishes env and finishes c
// in one transaction of the store's group commit.
func (p *Publisher) publishAndFinish(ctx context.Context, env *events.Envelope, c webhook.Claim, first func(context.Context, *sql.Tx) error) error {
	prep, err := p.bus.Prepare(env)
	if err != nil {
		return err
	}
	var held bool
	err = p.claims.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if first != nil {
			if err := first(ctx, tx); err != nil {
				return err
			}
		}
		if err := p.bus.PublishIn(ctx, tx, prep); err != nil {
			return err
		}
		var err error
		held, err = p.claims.finish(ctx, tx, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("publish and finish claim %s: %w", c.Key, err)
	}
	p.bus.Wake()
	if !held {
		return fmt.Errorf("publish and finish claim %s: %w", c.Key, webhook.ErrNotHolder)
	}
	return nil
}
