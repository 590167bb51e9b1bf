package bus

import (
	"context"
	"database/sql"
	"time"
)

// pubItem is one event waiting to be committed by Publish.
type pubItem struct {
	key, deliveryID, event string
	body                   []byte
	targets                []string
}

// pubBatch is the set of items committed together in one transaction.
type pubBatch struct {
	items     []pubItem
	committed bool // guarded by Bus.commitMu
	err       error
}

// commit writes it in the committer's next batch when the bus has one;
// otherwise it adds it to the bus's own pending batch and returns once that
// batch is committed. The first caller to get commitMu commits every item pending at
// that moment; callers whose item was in it just read the outcome. Batches
// commit in order, so when a caller holds commitMu and its batch is not yet
// committed, its batch is the pending one.
func (b *Bus) commit(ctx context.Context, it pubItem) error {
	if b.opts.Committer != nil { // the committer batches already
		return b.opts.Committer.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			return b.insertBatch(ctx, tx, []pubItem{it})
		})
	}
	b.pendingMu.Lock()
	if b.pending == nil {
		b.pending = &pubBatch{}
	}
	batch := b.pending
	batch.items = append(batch.items, it)
	b.pendingMu.Unlock()

	b.commitMu.Lock()
	defer b.commitMu.Unlock()
	if batch.committed {
		return batch.err
	}
	b.pendingMu.Lock()
	b.pending = nil
	b.pendingMu.Unlock()
	// The batch carries other callers' events, so it must not fail because
	// this caller's context ends: it gets its own deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	batch.err = b.tx(ctx, func(tx *sql.Tx) error { return b.insertBatch(ctx, tx, batch.items) })
	batch.committed = true
	return batch.err
}

func (b *Bus) insertBatch(ctx context.Context, tx *sql.Tx, items []pubItem) error {
	now := time.Now().UnixMilli()
	insEvent, err := b.in(ctx, tx, `INSERT INTO bus_events (publish_key, delivery_id, detail_type, envelope, published_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (publish_key) DO NOTHING`)
	if err != nil {
		return err
	}
	insDelivery, err := b.in(ctx, tx, `INSERT INTO bus_deliveries (event_id, target, next_at) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, it := range items {
		body := it.body
		if len(it.targets) == 0 {
			body = []byte{} // routed nowhere: only the publish key is worth keeping
		}
		res, err := insEvent.ExecContext(ctx, it.key, it.deliveryID, it.event, body, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			continue // duplicate: already accepted
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for _, t := range it.targets {
			if _, err := insDelivery.ExecContext(ctx, id, t, now); err != nil {
				return err
			}
		}
	}
	return nil
}
