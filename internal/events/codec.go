package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Encode returns the wire form of env (the EventBridge detail, the embedded
// bus's stored row). It equals json.Marshal(env) in meaning, but the payload
// bytes are checked by the fast scanner and copied verbatim instead of being
// re-validated and re-escaped by encoding/json, which costs more than the
// rest of a delivery.
func Encode(env *Envelope) ([]byte, error) {
	head := *env
	head.Payload = nil
	b, err := json.Marshal(&head)
	if err != nil {
		return nil, fmt.Errorf("encode envelope of delivery %s: %w", env.DeliveryID, err)
	}
	if len(env.Payload) == 0 {
		return b, nil
	}
	if err := validJSON(env.Payload); err != nil {
		return nil, fmt.Errorf("encode envelope of delivery %s: payload: %w", env.DeliveryID, err)
	}
	out := make([]byte, 0, len(b)+len(env.Payload)+16)
	out = append(out, b[:len(b)-1]...) // drop the closing '}'
	out = append(out, `,"payload":`...)
	out = append(out, env.Payload...)
	return append(out, '}'), nil
}

// Decode parses an envelope in wire form. It validates data once and keeps
// the payload as a sub-slice of data (no copy), so data must not be modified
// afterwards. Unknown members are ignored, as in encoding/json.
func Decode(data []byte) (*Envelope, error) {
	env := &Envelope{}
	var firstErr error
	field := func(name string, val []byte, dst any) {
		if err := json.Unmarshal(val, dst); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("member %s: %w", name, err)
		}
	}
	err := eachMember(data, func(key, val []byte) {
		switch {
		case keyIs(key, "payload"):
			if bytes.Equal(val, []byte("null")) {
				env.Payload = nil
			} else {
				env.Payload = json.RawMessage(val)
			}
		case keyIs(key, "delivery_id"):
			field("delivery_id", val, &env.DeliveryID)
		case keyIs(key, "event"):
			field("event", val, &env.Event)
		case keyIs(key, "action"):
			field("action", val, &env.Action)
		case keyIs(key, "hook_id"):
			field("hook_id", val, &env.HookID)
		case keyIs(key, "installation_id"):
			field("installation_id", val, &env.InstallationID)
		case keyIs(key, "repository"):
			field("repository", val, &env.Repository)
		case keyIs(key, "sender"):
			field("sender", val, &env.Sender)
		case keyIs(key, "received_at"):
			var t time.Time
			field("received_at", val, &t)
			env.ReceivedAt = t
		case keyIs(key, "payload_complete"):
			field("payload_complete", val, &env.PayloadComplete)
		case keyIs(key, "s3_reference"):
			var r *Ref
			field("s3_reference", val, &r)
			env.S3Reference = r
		}
	})
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	return env, nil
}
