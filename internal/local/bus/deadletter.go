package bus

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// DeadLetter is a row of the dead-letter table.
type DeadLetter struct {
	ID       int64
	Letter   events.DeadLetter
	FailedAt time.Time
	Alerted  bool // the dead-letter handler has accepted it
}

// alertDeadLetters hands unalerted dead letters to the dead-letter handler,
// oldest first; a failed alert is retried with the bus's backoff.
func (b *Bus) alertDeadLetters(ctx context.Context) {
	b.mu.RLock()
	h := b.dead
	b.mu.RUnlock()
	if h == nil {
		return
	}
	now := time.Now().UnixMilli()
	rows, err := b.db.QueryContext(ctx, `SELECT id, target, envelope, reason, attempts, alert_tries FROM bus_dead_letters
		WHERE alerted = 0 AND alert_next_at <= ? ORDER BY id LIMIT 32`, now)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("bus: read dead letters", "err", err)
		}
		return
	}
	type pending struct {
		id    int64
		dl    events.DeadLetter
		tries int
	}
	var todo []pending
	for rows.Next() {
		var p pending
		var raw []byte
		if err := rows.Scan(&p.id, &p.dl.Target, &raw, &p.dl.Reason, &p.dl.Attempts, &p.tries); err != nil {
			b.log.Error("bus: read dead letter", "err", err)
			continue
		}
		env, err := events.Decode(raw)
		if err != nil {
			env = &events.Envelope{}
			p.dl.Reason += fmt.Sprintf(" (stored envelope unreadable: %v)", err)
		}
		p.dl.Envelope = env
		todo = append(todo, p)
	}
	rows.Close()
	for _, p := range todo {
		actx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
		err := b.callDead(actx, h, p.dl)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.tries++
			next := time.Now().Add(b.backoff(p.tries)).UnixMilli()
			b.log.Error("bus: alert handler failed; will retry", "delivery_id", p.dl.Envelope.DeliveryID, "err", err)
			_, _ = b.exec(ctx, `UPDATE bus_dead_letters SET alert_tries = ?, alert_next_at = ? WHERE id = ?`, p.tries, next, p.id)
			continue
		}
		if _, err := b.exec(ctx, `UPDATE bus_dead_letters SET alerted = 1 WHERE id = ?`, p.id); err != nil {
			b.log.Error("bus: mark dead letter alerted", "delivery_id", p.dl.Envelope.DeliveryID, "err", err)
		}
	}
}

func (b *Bus) callDead(ctx context.Context, h events.DeadLetterHandler, dl events.DeadLetter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("dead-letter handler panicked: %v", r)
		}
	}()
	return h.HandleDeadLetter(ctx, dl)
}

// DeadLetters lists the dead-letter table, oldest first.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT id, target, envelope, reason, attempts, failed_at, alerted FROM bus_dead_letters ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("bus: list dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var raw []byte
		var failed int64
		if err := rows.Scan(&d.ID, &d.Letter.Target, &raw, &d.Letter.Reason, &d.Letter.Attempts, &failed, &d.Alerted); err != nil {
			return nil, fmt.Errorf("bus: list dead letters: %w", err)
		}
		env, err := events.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("bus: dead letter %d: stored envelope unreadable: %w", d.ID, err)
		}
		d.Letter.Envelope = env
		d.FailedAt = time.UnixMilli(failed).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Redrive moves dead letter id back to its handler's queue with a fresh
// attempt count (after the handler was fixed).
func (b *Bus) Redrive(ctx context.Context, id int64) error {
	err := b.tx(ctx, func(tx *sql.Tx) error {
		var target, deliveryID, detailType string
		var raw []byte
		err := tx.QueryRowContext(ctx, `SELECT target, delivery_id, detail_type, envelope FROM bus_dead_letters WHERE id = ?`, id).
			Scan(&target, &deliveryID, &detailType, &raw)
		if err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		// A fresh event row: the original may have been pruned already.
		res, err := tx.ExecContext(ctx, `INSERT INTO bus_events (publish_key, delivery_id, detail_type, envelope, published_at) VALUES (?, ?, ?, ?, ?)`,
			fmt.Sprintf("redrive/%d", id), deliveryID, detailType, raw, now)
		if err != nil {
			return err
		}
		eventID, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bus_deliveries (event_id, target, next_at) VALUES (?, ?, ?)`, eventID, target, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM bus_dead_letters WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("bus: redrive dead letter %d: %w", id, err)
	}
	b.poke()
	return nil
}

// Pending counts deliveries not yet completed (due, retrying or in flight).
func (b *Bus) Pending(ctx context.Context) (int, error) {
	var n int
	if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM bus_deliveries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("bus: count pending: %w", err)
	}
	return n, nil
}
