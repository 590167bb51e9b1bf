package monitor

import (
	"context"
	"log/slog"
)

type deliveryKey struct{}

// WithDelivery returns a context whose log lines (through a logger built on
// ContextHandler) carry delivery_id.
func WithDelivery(ctx context.Context, deliveryID string) context.Context {
	return context.WithValue(ctx, deliveryKey{}, deliveryID)
}

// DeliveryID returns the delivery id stored by WithDelivery, or "".
func DeliveryID(ctx context.Context) string {
	id, _ := ctx.Value(deliveryKey{}).(string)
	return id
}

// ContextHandler wraps a slog.Handler so every record logged with a context
// from WithDelivery carries delivery_id, even lines logged by code that does
// not know about deliveries (SDK retries, helpers).
type ContextHandler struct{ slog.Handler }

// Handle adds delivery_id from ctx, unless the record already has one.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := DeliveryID(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "delivery_id"
			return !has
		})
		if !has {
			r.AddAttrs(slog.String("delivery_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around derived handlers.
func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper around derived handlers.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}
