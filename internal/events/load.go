package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoPayload is returned by Load for an envelope that neither carries its
// payload inline nor references an archived one.
var ErrNoPayload = errors.New("envelope has no payload and no archive reference")

// Load returns the full payload of env: the inline copy when the envelope
// carries it, else the archived object its reference points to. Handlers read
// payloads only through Load, so they never care which of the two it was.
func Load(ctx context.Context, a Archive, env *Envelope) (json.RawMessage, error) {
	if env.PayloadComplete && len(env.Payload) > 0 {
		return env.Payload, nil
	}
	if env.S3Reference == nil {
		return nil, fmt.Errorf("load payload of delivery %s: %w", env.DeliveryID, ErrNoPayload)
	}
	if a == nil {
		return nil, fmt.Errorf("load payload of delivery %s: no archive configured to follow %s/%s", env.DeliveryID, env.S3Reference.Bucket, env.S3Reference.Key)
	}
	body, err := a.Get(ctx, *env.S3Reference)
	if err != nil {
		return nil, fmt.Errorf("load payload of delivery %s from %s/%s: %w", env.DeliveryID, env.S3Reference.Bucket, env.S3Reference.Key, err)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("load payload of delivery %s from %s/%s: archived object is not valid JSON", env.DeliveryID, env.S3Reference.Bucket, env.S3Reference.Key)
	}
	return json.RawMessage(body), nil
}

// ErrInvalidEnvelope is returned by publishers for an envelope that cannot be
// routed or deduplicated: nil, or without delivery id, event name or hook id.
var ErrInvalidEnvelope = errors.New("envelope needs a delivery id, an event name and a hook id")

// CheckEnvelope returns ErrInvalidEnvelope (wrapped) when env cannot be
// published. Every Publisher calls it before doing anything else.
func CheckEnvelope(env *Envelope) error {
	if env == nil {
		return fmt.Errorf("nil envelope: %w", ErrInvalidEnvelope)
	}
	if env.DeliveryID == "" || env.Event == "" || env.HookID == "" {
		return fmt.Errorf("delivery %q, event %q, hook %q: %w", env.DeliveryID, env.Event, env.HookID, ErrInvalidEnvelope)
	}
	return nil
}
