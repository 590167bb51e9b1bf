package webhook

import (
	"context"
	"errors"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// ClaimStore records which deliveries are being processed or are done, so a
// delivery is published once even when GitHub (or an operator) redelivers it
// or several copies arrive at the same moment. Every write is conditional:
// two callers can never both hold the same key.
type ClaimStore interface {
	// Claim takes c.Key for c.Token when the key is free: absent, past its
	// ExpiresAt, or processing with a lease that ended at or before c.At (its
	// holder crashed). Otherwise it reports who has it and changes nothing.
	Claim(ctx context.Context, c Claim) (Outcome, error)
	// Finish marks c.Key done; it fails with ErrNotHolder when c.Token no
	// longer holds the key.
	Finish(ctx context.Context, c Claim) error
	// Release frees c.Key so a redelivery is processed; it is a no-op when
	// c.Token no longer holds the key.
	Release(ctx context.Context, c Claim) error
}

// FinishingPublisher is an events.Publisher that can also mark a claim done
// in the same atomic write as the publish (the embedded shape, where the bus
// and the claims share one database): one durable write instead of two, and
// no window between "published" and "done". When the Receiver's Publisher
// implements it, the Receiver uses it instead of Publish then Finish.
type FinishingPublisher interface {
	events.Publisher
	// PublishAndFinish publishes env and marks c done atomically. nil means
	// both happened; an error wrapping ErrNotHolder means env was published
	// but c was no longer held (its lease ended and another attempt took
	// it); any other error means nothing was published.
	PublishAndFinish(ctx context.Context, env *events.Envelope, c Claim) error
}

// ArchivingPublisher is a FinishingPublisher that can also commit a staged
// payload (events.Stager) in the same atomic write as the publish and the
// finish (the embedded shape, where small payloads, the bus and the claims
// share one database): the payload, its event and the claim's "done" become
// durable together, in one group commit. When the Receiver's Archive stages
// and its Publisher implements this, the Receiver uses it instead of
// Commit then PublishAndFinish.
type ArchivingPublisher interface {
	FinishingPublisher
	// CommitPublishAndFinish commits staged, sets env.S3Reference to where
	// the payload is, publishes env and marks c done. nil means all of it
	// happened; an error wrapping ErrNotHolder means the payload was
	// archived and env published but c was no longer held; any other error
	// means nothing was published (the payload may have been archived).
	CommitPublishAndFinish(ctx context.Context, staged events.Staged, env *events.Envelope, c Claim) error
}

// Claim is one attempt to own a delivery.
type Claim struct {
	Key        string    // hook id + "/" + delivery id
	Token      string    // random, identifies this attempt
	At         time.Time // when the attempt is made
	LeaseUntil time.Time // after this, a crashed holder's claim may be taken
	ExpiresAt  time.Time // the record's TTL (24 h): after this the key is forgotten
}

// Outcome is what Claim found.
type Outcome int

const (
	// Acquired means the caller now holds the key.
	Acquired Outcome = iota + 1
	// Duplicate means the delivery was already processed.
	Duplicate
	// InProgress means another attempt holds a live lease on the key.
	InProgress
)

// String returns the outcome's log name.
func (o Outcome) String() string {
	switch o {
	case Acquired:
		return "acquired"
	case Duplicate:
		return "duplicate"
	case InProgress:
		return "in_progress"
	}
	return "unknown"
}

// ErrNotHolder is returned by Finish when the claim was taken over (its lease
// expired) or released.
var ErrNotHolder = errors.New("claim is no longer held by this attempt")
