package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Delivery is what the receiver knows about one verified webhook delivery:
// the GitHub headers it needs and the raw JSON body (already extracted from a
// form-encoded `payload=` body when GitHub sent one).
type Delivery struct {
	ID         string    // X-GitHub-Delivery
	Event      string    // X-GitHub-Event
	HookID     string    // X-GitHub-Hook-ID
	ReceivedAt time.Time // when the receiver accepted the request
	Body       []byte    // raw JSON payload
}

// ErrBadDelivery is wrapped by NewEnvelope and ArchiveKey when a delivery
// cannot be turned into an envelope (missing header, unsafe name, payload
// that is not a JSON object). The receiver answers such deliveries with 400.
var ErrBadDelivery = errors.New("bad delivery")

// ArchiveKey returns where a delivery's raw payload is archived:
// yyyy/mm/dd/<event>/<hook id>/<delivery>.json, dated in UTC by ReceivedAt.
// It holds the hook id as the delivery's claim does, so two hooks' deliveries
// of one id are two payloads. The event name, hook id and delivery id must be
// safe path segments (letters, digits, '.', '_', '-'), so a hostile header
// can never escape the archive's prefix.
func ArchiveKey(d Delivery) (string, error) {
	if err := checkSegment("event", d.Event); err != nil {
		return "", err
	}
	if err := checkSegment("hook id", d.HookID); err != nil {
		return "", err
	}
	if err := checkSegment("delivery id", d.ID); err != nil {
		return "", err
	}
	if d.ReceivedAt.IsZero() {
		return "", fmt.Errorf("%w: delivery %s has no received time", ErrBadDelivery, d.ID)
	}
	return d.ReceivedAt.UTC().Format("2006/01/02") + "/" + d.Event + "/" + d.HookID + "/" + d.ID + ".json", nil
}

func checkSegment(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrBadDelivery, what)
	}
	if len(s) > 128 || s == "." || s == ".." {
		return fmt.Errorf("%w: %s %.40q is not a valid name", ErrBadDelivery, what, s)
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %s %.40q has a character other than letters, digits, '.', '_', '-'", ErrBadDelivery, what, s)
		}
	}
	return nil
}

// NewEnvelope builds the envelope of a delivery whose payload was archived at
// ref. The payload travels inline only when it is smaller than InlineLimit;
// otherwise the envelope carries only the reference and PayloadComplete is
// false. A zero ref means the payload was not archived, which is allowed only
// for inline-sized payloads. The body must be a JSON object.
func NewEnvelope(d Delivery, ref Ref) (*Envelope, error) {
	if _, err := ArchiveKey(d); err != nil {
		return nil, err
	}
	if err := checkSegment("hook id", d.HookID); err != nil {
		return nil, err
	}
	env := &Envelope{
		DeliveryID: d.ID,
		Event:      d.Event,
		HookID:     d.HookID,
		ReceivedAt: d.ReceivedAt.UTC(),
	}
	// One validating pass over the whole payload; the summary fields are
	// picked up on the way (last one wins for duplicate names, as in
	// encoding/json; a field of an unexpected type is left empty).
	err := eachMember(d.Body, func(key, val []byte) {
		switch {
		case keyIs(key, "action"):
			env.Action = stringValue(val)
		case keyIs(key, "installation"):
			env.InstallationID = int64Value(memberOf(val, "id"))
		case keyIs(key, "repository"):
			env.Repository = stringValue(memberOf(val, "full_name"))
		case keyIs(key, "sender"):
			env.Sender = stringValue(memberOf(val, "login"))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: delivery %s payload is not a JSON object: %v", ErrBadDelivery, d.ID, err)
	}
	if ref != (Ref{}) {
		r := ref
		env.S3Reference = &r
	}
	if len(d.Body) < InlineLimit {
		env.Payload = json.RawMessage(d.Body)
		env.PayloadComplete = true
	} else if env.S3Reference == nil {
		return nil, fmt.Errorf("delivery %s: payload of %d bytes is over the inline limit and was not archived", d.ID, len(d.Body))
	}
	return env, nil
}

// CheckKey reports whether key is a safe archive key: '/'-separated segments
// of letters, digits, '.', '_' and '-', none empty, "." or "..". Archive
// adapters refuse any other key, so a key can never leave the archive's root.
func CheckKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w: archive key %.40q is empty or too long", ErrBadDelivery, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment("archive key segment", seg); err != nil {
			return err
		}
	}
	return nil
}
