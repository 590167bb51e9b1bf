package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// job is one delivery of one event to one handler, taken under a lease.
type job struct {
	id       int64 // bus_deliveries.id
	eventID  int64
	target   string
	attempts int // including this one
	env      *events.Envelope
	raw      []byte
}

// Run delivers events until ctx ends, then waits for in-flight handler calls
// (each bounded by HandlerTimeout) and returns ctx's error. Deliveries taken
// but interrupted by the shutdown are given back without counting an attempt.
//
// One dispatcher takes due deliveries in batches, workers call the
// handlers, and successful deliveries are deleted by the dispatcher's next
// transaction, which also takes the next batch: the consuming side writes one
// transaction per batch, not per event.
//
// Run first clears the leases left by a previous process: only one process
// runs a bus's deliveries, so whatever it was delivering when it stopped is
// due again now.
func (b *Bus) Run(ctx context.Context) error {
	if _, err := b.exec(ctx, `UPDATE bus_deliveries SET lease_until = 0 WHERE lease_until > 0`); err != nil {
		return fmt.Errorf("bus: clear stale leases: %w", err)
	}
	jobs := make(chan job, b.opts.Workers)
	// slots bounds deliveries taken but not finished (queued or running), so
	// a queued job starts well within its lease (see take).
	slots := make(chan struct{}, 2*b.opts.Workers)
	var wg sync.WaitGroup
	for range b.opts.Workers {
		wg.Go(func() {
			for j := range jobs {
				if b.deliver(ctx, &j) {
					b.ack(j)
				}
				<-slots
				b.poke()
			}
		})
	}
	defer func() {
		close(jobs)
		wg.Wait()
		b.flushAcks()
	}()

	ticker := time.NewTicker(b.opts.PollInterval)
	defer ticker.Stop()
	var lastPrune, lastAlerts time.Time
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(lastPrune) > time.Minute {
			b.prune(ctx)
			lastPrune = time.Now()
		}
		if b.deadLettered.Swap(false) || time.Since(lastAlerts) >= b.opts.PollInterval {
			b.alertDeadLetters(ctx)
			lastAlerts = time.Now()
		}
		free := cap(slots) - len(slots)
		var taken []job
		if free > 0 || b.hasAcks() {
			var err error
			taken, err = b.take(ctx, free)
			if err != nil && ctx.Err() == nil {
				b.log.ErrorContext(ctx, "bus: take due deliveries", "err", err)
			}
		}
		for _, j := range taken {
			slots <- struct{}{}
			select {
			case jobs <- j:
			case <-ctx.Done():
				<-slots
				b.giveBack(j)
			}
		}
		if len(taken) > 0 && len(taken) == free {
			continue // probably more due: keep going without waiting
		}
		select {
		case <-ctx.Done():
		case <-b.wake:
		case <-ticker.C:
		}
	}
}

// ack records a successful delivery; the dispatcher's next transaction
// deletes its row.
func (b *Bus) ack(j job) {
	b.ackMu.Lock()
	b.acked = append(b.acked, j)
	b.ackMu.Unlock()
	b.log.Debug("bus: delivered", "delivery_id", j.env.DeliveryID, "handler", j.target, "attempt", j.attempts)
}

func (b *Bus) hasAcks() bool {
	b.ackMu.Lock()
	defer b.ackMu.Unlock()
	return len(b.acked) > 0
}

func (b *Bus) takeAcks() []job {
	b.ackMu.Lock()
	defer b.ackMu.Unlock()
	out := b.acked
	b.acked = nil
	return out
}

// requeueAcks puts back acknowledgements whose transaction failed.
func (b *Bus) requeueAcks(batch []job) {
	b.ackMu.Lock()
	defer b.ackMu.Unlock()
	b.acked = append(batch, b.acked...)
}

// deleteAcked deletes delivered rows inside tx.
func (b *Bus) deleteAcked(ctx context.Context, tx *sql.Tx, batch []job) error {
	if len(batch) == 0 {
		return nil
	}
	del, err := b.in(ctx, tx, `DELETE FROM bus_deliveries WHERE id = ?`)
	if err != nil {
		return err
	}
	for _, j := range batch {
		if _, err := del.ExecContext(ctx, j.id); err != nil {
			return err
		}
	}
	// A fully delivered event keeps only its publish key (for dedupe until
	// pruned); its envelope, up to 200 KB, is dropped now.
	clearEnv, err := b.in(ctx, tx, `UPDATE bus_events SET envelope = x'' WHERE id = ?
		AND NOT EXISTS (SELECT 1 FROM bus_deliveries WHERE event_id = ?)`)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, j := range batch {
		if seen[j.eventID] {
			continue
		}
		seen[j.eventID] = true
		if _, err := clearEnv.ExecContext(ctx, j.eventID, j.eventID); err != nil {
			return err
		}
	}
	return nil
}

// flushAcks commits outstanding acknowledgements (at shutdown). If it
// fails, the leases expire and those handlers run again: at least once.
func (b *Bus) flushAcks() {
	batch := b.takeAcks()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := detached()
	defer cancel()
	if err := b.shared(ctx, func(ctx context.Context, tx *sql.Tx) error { return b.deleteAcked(ctx, tx, batch) }); err != nil {
		b.log.Error("bus: record deliveries; they will be redelivered", "count", len(batch), "err", err)
	}
}

// take leases up to n due deliveries to subscribed handlers.
func (b *Bus) take(ctx context.Context, n int) ([]job, error) {
	subs := b.subscribed()
	if len(subs) == 0 {
		n = 0
	}
	acks := b.takeAcks()
	if n <= 0 && len(acks) == 0 {
		return nil, nil
	}
	if len(subs) == 0 {
		subs = []string{""} // the query is not run, the acknowledgements are written
	}
	now := time.Now()
	// A taken job may wait in the queue behind one running job per worker
	// (Run allows 2×Workers outstanding), so the lease covers two attempts.
	lease := now.Add(2*b.opts.HandlerTimeout + 5*time.Second).UnixMilli()
	args := []any{now.UnixMilli(), now.UnixMilli()}
	for _, s := range subs {
		args = append(args, s)
	}
	args = append(args, n)
	q := `SELECT d.id, d.event_id, d.target, d.attempts, e.envelope
		FROM bus_deliveries d JOIN bus_events e ON e.id = d.event_id
		WHERE d.next_at <= ? AND d.lease_until <= ? AND d.target IN (?` + strings.Repeat(",?", len(subs)-1) + `)
		ORDER BY d.next_at, d.id LIMIT ?`
	var out []job
	err := b.shared(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		if err := b.deleteAcked(ctx, tx, acks); err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		sel, err := b.in(ctx, tx, q)
		if err != nil {
			return err
		}
		rows, err := sel.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var j job
			if err := rows.Scan(&j.id, &j.eventID, &j.target, &j.attempts, &j.raw); err != nil {
				rows.Close()
				return err
			}
			j.attempts++
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		upd, err := b.in(ctx, tx, `UPDATE bus_deliveries SET lease_until = ?, attempts = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		for _, j := range out {
			if _, err := upd.ExecContext(ctx, lease, j.attempts, j.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.requeueAcks(acks)
		return nil, err
	}
	return out, nil
}

// deliver calls the handler once and records a failure; it reports success,
// which the caller acknowledges.
func (b *Bus) deliver(runCtx context.Context, j *job) bool {
	env, err := events.Decode(j.raw)
	if err != nil {
		b.finishFailed(*j, fmt.Errorf("stored envelope is unreadable: %w", err), true)
		return false
	}
	j.env = env
	if env.PayloadComplete && len(env.Payload) == 0 && env.S3Reference != nil && b.opts.Archive != nil {
		ctx, cancel := context.WithTimeout(runCtx, b.opts.HandlerTimeout)
		payload, err := b.opts.Archive.Get(ctx, *env.S3Reference)
		cancel()
		if err != nil {
			if runCtx.Err() != nil {
				b.giveBack(*j)
				return false
			}
			b.finishFailed(*j, fmt.Errorf("restore payload from the archive: %w", err), false)
			return false
		}
		env.Payload = payload
	}
	b.mu.RLock()
	h := b.handlers[j.target]
	b.mu.RUnlock()
	if h == nil { // unsubscribed between take and deliver: leave it for later
		b.giveBack(*j)
		return false
	}
	err = b.call(runCtx, h, env)
	switch {
	case err == nil:
		return true
	case runCtx.Err() != nil:
		b.giveBack(*j) // shutting down: the attempt was interrupted, not failed
	default:
		b.finishFailed(*j, err, events.IsPermanent(err))
	}
	return false
}

// call runs h with a deadline, turning a panic into an error. A handler that
// ignores its context and hangs is abandoned when the deadline passes (its
// goroutine leaks, the event does not).
func (b *Bus) call(runCtx context.Context, h events.Handler, env *events.Envelope) error {
	ctx, cancel := context.WithTimeout(runCtx, b.opts.HandlerTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("handler %s panicked: %v", h.Name(), r)
			}
		}()
		done <- h.Handle(ctx, env)
	}()
	select {
	case err := <-done:
		if err != nil && ctx.Err() == context.DeadlineExceeded && runCtx.Err() == nil {
			return fmt.Errorf("handler %s timed out after %s: %w", h.Name(), b.opts.HandlerTimeout, err)
		}
		return err
	case <-ctx.Done():
		if runCtx.Err() != nil {
			return runCtx.Err()
		}
		b.log.Error("bus: handler did not return after its deadline; abandoned", "delivery_id", env.DeliveryID, "handler", h.Name())
		return fmt.Errorf("handler %s timed out after %s", h.Name(), b.opts.HandlerTimeout)
	}
}

// detached gives bookkeeping writes their own deadline, independent of Run's
// context, so a shutdown never leaves a half-recorded outcome.
func detached() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

func (b *Bus) finishFailed(j job, cause error, permanent bool) {
	ctx, cancel := detached()
	defer cancel()
	deliveryID, detailType := "", ""
	if j.env != nil {
		deliveryID, detailType = j.env.DeliveryID, j.env.Event
	}
	reason := cause.Error()
	if permanent || j.attempts >= b.opts.MaxAttempts {
		err := b.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bus_dead_letters (delivery_id, detail_type, target, envelope, reason, attempts, failed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, deliveryID, detailType, j.target, j.raw, reason, j.attempts, time.Now().UnixMilli()); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM bus_deliveries WHERE id = ?`, j.id)
			return err
		})
		if err != nil {
			b.log.Error("bus: dead-letter", "delivery_id", deliveryID, "handler", j.target, "err", err)
			return
		}
		b.log.Warn("bus: dead-lettered", "delivery_id", deliveryID, "handler", j.target, "attempts", j.attempts, "reason", reason)
		b.deadLettered.Store(true)
		b.poke()
		return
	}
	delay := b.backoff(j.attempts)
	_, err := b.exec(ctx, `UPDATE bus_deliveries SET lease_until = 0, next_at = ?, last_error = ? WHERE id = ?`,
		time.Now().Add(delay).UnixMilli(), reason, j.id)
	if err != nil {
		b.log.Error("bus: schedule retry", "delivery_id", deliveryID, "handler", j.target, "err", err)
		return
	}
	b.log.Info("bus: handler failed, will retry", "delivery_id", deliveryID, "handler", j.target, "attempt", j.attempts, "retry_in", delay.String(), "reason", reason)
}

// giveBack releases a taken delivery without counting the attempt.
func (b *Bus) giveBack(j job) {
	ctx, cancel := detached()
	defer cancel()
	if _, err := b.exec(ctx, `UPDATE bus_deliveries SET lease_until = 0, attempts = attempts - 1 WHERE id = ?`, j.id); err != nil {
		b.log.Error("bus: give back delivery", "handler", j.target, "err", err)
	}
}

// backoff is the delay after the attempt-th failure: BackoffBase doubled per
// attempt, capped at BackoffMax, with jitter in [d/2, d] so retries of many
// events do not arrive together.
func (b *Bus) backoff(attempt int) time.Duration {
	d := b.opts.BackoffBase
	for i := 1; i < attempt && d < b.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, b.opts.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

// prune deletes delivered events older than Retention (their delivery rows
// are gone); until then they make a repeated Publish a no-op.
func (b *Bus) prune(ctx context.Context) {
	cutoff := time.Now().Add(-b.opts.Retention).UnixMilli()
	_, err := b.exec(ctx, `DELETE FROM bus_events WHERE published_at < ?
		AND NOT EXISTS (SELECT 1 FROM bus_deliveries d WHERE d.event_id = bus_events.id)`, cutoff)
	if err != nil && !errors.Is(err, context.Canceled) {
		b.log.Error("bus: prune delivered events", "err", err)
	}
}
