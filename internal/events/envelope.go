// Package events defines what the receiver puts on the event bus (the
// Envelope), the ports that store and carry it, and the routing rules shared
// by EventBridge and the embedded bus.
//
// The receiver, after verifying and claiming a delivery:
//
//	d := events.Delivery{ID: id, Event: event, HookID: hook, ReceivedAt: now, Body: body}
//	key, err := events.ArchiveKey(d)     // yyyy/mm/dd/<event>/<hook>/<delivery>.json; ErrBadDelivery → 400
//	ref, err := archive.Put(ctx, key, body)
//	env, err := events.NewEnvelope(d, ref) // inline payload only under InlineLimit
//	err = publisher.Publish(ctx, env)
//
// A handler (events.Handler: Name + Handle) reads the payload with
// events.Load(ctx, archive, env), whichever way it travelled, and may wrap
// itself with events.Once(marks, h, lease) to take effect once per delivery.
// Rules() routes by detail-type (the GitHub event name) to handler names;
// Rule.EventPattern renders the same rule for EventBridge. Publishers put an
// envelope on the wire with Encode and consumers read it with Decode: both
// keep the payload bytes as they are, validated once by NewEnvelope's
// scanner instead of again by encoding/json at every hop.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Source is the EventBridge source of every envelope the receiver publishes.
const Source = "ai3.github"

// InlineLimit is the largest payload carried inline in an envelope. Larger
// payloads travel as an S3 (or file) reference; EventBridge's own limit for a
// whole entry is 256 KB, so the envelope fields need the rest.
const InlineLimit = 200 * 1024

// Envelope is the EventBridge detail of one GitHub delivery (detail-type = the
// GitHub event name). Field names are the wire names of DESIGN.md.
type Envelope struct {
	DeliveryID      string          `json:"delivery_id"`
	Event           string          `json:"event"`
	Action          string          `json:"action,omitempty"`
	HookID          string          `json:"hook_id"`
	InstallationID  int64           `json:"installation_id,omitempty"`
	Repository      string          `json:"repository,omitempty"` // "owner/name"
	Sender          string          `json:"sender,omitempty"`     // login
	ReceivedAt      time.Time       `json:"received_at"`
	PayloadComplete bool            `json:"payload_complete"`  // true when Payload holds the whole body
	S3Reference     *Ref            `json:"s3_reference"`      // always set once archived; null only if never archived
	Payload         json.RawMessage `json:"payload,omitempty"` // raw JSON, inline only when under InlineLimit
}

// Ref locates an archived payload: an S3 bucket and key, or (embedded shape)
// the archive root's name and a relative file path.
type Ref struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Archive stores raw delivery payloads. Put must be atomic (a reader never
// sees a partial object) and idempotent for the same key and body, and must
// never replace an archived payload with other bytes: that Put fails with
// ErrArchived and changes nothing.
type Archive interface {
	Put(ctx context.Context, key string, body []byte) (Ref, error)
	Get(ctx context.Context, ref Ref) ([]byte, error)
}

// Stager is an Archive that can write a payload before it is needed at its
// key (the embedded archive: temp file written and synced, renamed later).
// The receiver stages while it claims the delivery, so the two overlap, and
// commits only a claimed delivery's payload.
type Stager interface {
	Stage(ctx context.Context, key string, body []byte) (Staged, error)
}

// Staged is a payload written by Stager.Stage: Commit makes it durable at
// its key (what Put guarantees), Discard forgets it. Exactly one of the two
// is called.
type Staged interface {
	Commit(ctx context.Context) (Ref, error)
	Discard()
}

// Publisher puts an envelope on the event bus. It returns nil only when the
// bus has durably accepted the event (EventBridge: no failed entry).
type Publisher interface {
	Publish(ctx context.Context, env *Envelope) error
}

// ErrArchived is returned by an Archive's Put when other bytes are
// archived at the key already; the archived payload is left as it was.
var ErrArchived = errors.New("another payload is archived at this key")

// ErrNotFound is returned by an Archive when a referenced payload is absent.
var ErrNotFound = errors.New("archived payload not found")
