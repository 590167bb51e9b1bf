package events

import (
	"context"
	"errors"
)

// Handler consumes envelopes from the bus. Name is the handler's routing name:
// a Rule whose Target equals Name delivers to it. Handle may be called more
// than once for the same delivery (the bus delivers at least once); wrap a
// handler with Once when a repeat must have no effect. Returning an error asks
// the bus to retry; wrap it with Permanent to dead-letter at once.
type Handler interface {
	Name() string
	Handle(ctx context.Context, env *Envelope) error
}

// HandlerFunc adapts a function to a Handler named name.
func HandlerFunc(name string, f func(ctx context.Context, env *Envelope) error) Handler {
	return funcHandler{name: name, f: f}
}

type funcHandler struct {
	name string
	f    func(ctx context.Context, env *Envelope) error
}

func (h funcHandler) Name() string                                    { return h.name }
func (h funcHandler) Handle(ctx context.Context, env *Envelope) error { return h.f(ctx, env) }

// DeadLetter is an event a handler could not process after its last attempt:
// what the embedded bus stores in its dead-letter table and what EventBridge
// sends to the SQS DLQ. The alert handler consumes it.
type DeadLetter struct {
	Envelope *Envelope `json:"envelope"`
	Target   string    `json:"target"`   // handler name (embedded) or target ARN (AWS)
	Reason   string    `json:"reason"`   // the last error
	Attempts int       `json:"attempts"` // how many times delivery was tried
}

// DeadLetterHandler consumes dead letters (the alert handler).
type DeadLetterHandler interface {
	HandleDeadLetter(ctx context.Context, dl DeadLetter) error
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the bus dead-letters the event
// immediately instead of backing off.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err (or an error it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
