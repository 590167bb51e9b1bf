package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// MarkState is the outcome of Marks.Acquire.
type MarkState int

const (
	// MarkAcquired: the caller holds the mark and must run, then call Done
	// (success) or Release (failure).
	MarkAcquired MarkState = iota + 1
	// MarkDone: an earlier run finished; the caller must not run again.
	MarkDone
	// MarkBusy: another run holds an unexpired lease; try again later.
	MarkBusy
)

func (s MarkState) String() string {
	switch s {
	case MarkAcquired:
		return "acquired"
	case MarkDone:
		return "done"
	case MarkBusy:
		return "busy"
	}
	return fmt.Sprintf("MarkState(%d)", int(s))
}

// Marks stores handler-level idempotency marks. Acquire is a conditional
// write: it takes an absent key, or one whose lease has expired (its holder
// crashed), for lease. Done makes the mark permanent (until the store's
// retention ends); Release gives an unfinished mark back.
type Marks interface {
	Acquire(ctx context.Context, key string, lease time.Duration) (MarkState, error)
	Done(ctx context.Context, key string) error
	Release(ctx context.Context, key string) error
}

// MarkKey is the idempotency key of one handler's work on one delivery.
// Deliveries share an id across hooks for the same GitHub event, so keying by
// delivery id (not hook) runs a handler once per event.
func MarkKey(deliveryID, handler string) string {
	return deliveryID + "#" + handler
}

// ErrBusy is returned by a handler wrapped with Once when another run of it
// holds the delivery's mark; the bus retries later.
var ErrBusy = errors.New("another run of this handler holds the delivery")

// DefaultLease is how long Once holds a mark while the handler runs.
const DefaultLease = 5 * time.Minute

// Once wraps h so it has effect at most once per delivery: a repeat after a
// successful run returns nil without calling h; a failed run releases its
// mark so the retry runs h again. lease bounds a crashed run's hold
// (DefaultLease when zero) and should exceed the handler's longest run.
func Once(m Marks, h Handler, lease time.Duration) Handler {
	if lease <= 0 {
		lease = DefaultLease
	}
	return onceHandler{marks: m, h: h, lease: lease}
}

type onceHandler struct {
	marks Marks
	h     Handler
	lease time.Duration
}

func (o onceHandler) Name() string { return o.h.Name() }

func (o onceHandler) Handle(ctx context.Context, env *Envelope) (err error) {
	key := MarkKey(env.DeliveryID, o.h.Name())
	state, err := o.marks.Acquire(ctx, key, o.lease)
	if err != nil {
		return fmt.Errorf("handler %s: acquire mark %s: %w", o.h.Name(), key, err)
	}
	switch state {
	case MarkDone:
		slog.DebugContext(ctx, "delivery already handled", "delivery_id", env.DeliveryID, "handler", o.h.Name())
		return nil
	case MarkBusy:
		return fmt.Errorf("handler %s, delivery %s: %w", o.h.Name(), env.DeliveryID, ErrBusy)
	}
	defer func() {
		if r := recover(); r != nil {
			o.release(env, key)
			panic(r)
		}
	}()
	if err := o.h.Handle(ctx, env); err != nil {
		o.release(env, key)
		return err
	}
	if err := o.marks.Done(ctx, key); err != nil {
		// The work is done but not recorded. Asking for a retry would run it
		// again once the lease expires, so report success and log loudly: the
		// lease still blocks a repeat for its duration.
		slog.ErrorContext(ctx, "mark handler done", "delivery_id", env.DeliveryID, "handler", o.h.Name(), "err", err)
	}
	return nil
}

// release gives the mark back on a detached context, so a cancelled run still
// lets its retry proceed without waiting for the lease to expire.
func (o onceHandler) release(env *Envelope, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.marks.Release(ctx, key); err != nil {
		slog.Warn("release idempotency mark", "delivery_id", env.DeliveryID, "handler", o.h.Name(), "err", err)
	}
}
