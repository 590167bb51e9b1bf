// Package bus is the embedded shape's durable event bus: an events.Publisher
// backed by SQLite that delivers each published envelope, at least once, to
// every subscribed handler a routing rule (events.Rules) sends it to.
//
// Delivery rows are written in the same transaction as the event, so an
// accepted event survives a crash or restart; a handler that fails, panics or
// hangs past its timeout is retried with exponential backoff, and after the
// last attempt the event moves to a dead-letter table and the dead-letter
// handler (monitor's alert) is called with the reason — also durably, so an
// alert is never lost either. Publish is idempotent per hook and delivery id
// while the event is retained.
//
// Wiring (cmd/ai3 dev):
//
//	a, err := archive.Open(ctx, filepath.Join(env.DataDir, "payloads"), archive.Options{Committer: commits}) // internal/local/archive
//	b, err := bus.Open(ctx, env.DB, bus.Options{Logger: log, Archive: a, WriteLock: &mu})
//	m := monitor.NewEMF(os.Stderr, monitor.Namespace)
//	b.Subscribe(monitor.NewStub(log, m))       // and every other handler
//	b.SubscribeDeadLetters(monitor.NewAlert(log, m))
//	env.Go(b.Run)                              // workers until ctx ends
//	env.Check("bus", b.Check)
//	// the receiver publishes through claims.Store.Publisher(b), which
//	// stores the event (Prepare, PublishIn) in the claims' group commit;
//	// other publishers call b.Publish(ctx, envelope)
//
// Subscribe every handler before Run. An event is routed when it is
// published, to the rule targets subscribed at that moment.
package bus

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

// Options tune the bus; the zero value gives the documented defaults.
type Options struct {
	Rules          []events.Rule // routing rules; default events.Rules()
	Workers        int           // concurrent handler calls; default 8
	MaxAttempts    int           // attempts before dead-lettering; default 5
	BackoffBase    time.Duration // delay after the first failure, doubled each time; default 1s
	BackoffMax     time.Duration // longest delay between attempts; default 5m
	HandlerTimeout time.Duration // one attempt's deadline; default 30s
	PollInterval   time.Duration // how often due retries are looked for; default 250ms
	Retention      time.Duration // how long delivered events are kept for publish dedupe; default 24h
	Logger         *slog.Logger  // default slog.Default()
	// Archive, when set, is where the receiver archived each payload. The
	// bus then stores an inline payload that is also archived only once (in
	// the archive, not again in SQLite) and restores it from there before
	// calling a handler, which still sees the envelope as published. A
	// payload that cannot be read back fails the delivery (retried, then
	// dead-lettered), never silently.
	Archive events.Archive
	// WriteLock serializes the bus's write transactions. Pass the same lock
	// to every store writing to this SQLite database, so writers queue in Go
	// instead of colliding on SQLite's lock and sleeping in its busy
	// handler (1 ms, then 2, 5, 10 ms...). Default: a lock of the bus's own.
	WriteLock sync.Locker
	// Committer, when set, is the database's shared group commit: the
	// bus's own write transactions (taking deliveries, recording them
	// done) then ride in its batches with the receiver's writes, instead
	// of each paying a commit of its own, and its lock is the write lock
	// (WriteLock is ignored).
	Committer *local.Committer
}

func (o *Options) defaults() {
	if o.Rules == nil {
		o.Rules = events.Rules()
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 5 * time.Minute
	}
	if o.HandlerTimeout <= 0 {
		o.HandlerTimeout = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.Retention <= 0 {
		o.Retention = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Committer != nil {
		o.WriteLock = o.Committer.Lock()
	}
	if o.WriteLock == nil {
		o.WriteLock = &sync.Mutex{}
	}
}

// Bus is the durable embedded bus. Its methods are safe for concurrent use.
type Bus struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger
	wake chan struct{}
	// deadLettered asks the dispatcher to run the alerts now.
	deadLettered atomic.Bool
	stmts        stmts
	// acked are delivered jobs whose rows the next take deletes.
	ackMu sync.Mutex
	acked []job

	mu       sync.RWMutex
	handlers map[string]events.Handler
	dead     events.DeadLetterHandler

	// Group commit: concurrent Publish calls share one transaction (one
	// fsync). pending collects items; commitMu lets one caller at a time
	// commit everything pending.
	pendingMu sync.Mutex
	pending   *pubBatch
	commitMu  sync.Mutex
}

const schema = `
CREATE TABLE IF NOT EXISTS bus_events (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	publish_key  TEXT NOT NULL UNIQUE,   -- hook id + delivery id: Publish dedupe
	delivery_id  TEXT NOT NULL,
	detail_type  TEXT NOT NULL,
	envelope     BLOB NOT NULL,
	published_at INTEGER NOT NULL        -- unix ms
);
CREATE TABLE IF NOT EXISTS bus_deliveries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id    INTEGER NOT NULL REFERENCES bus_events(id) ON DELETE CASCADE,
	target      TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,        -- unix ms: due time
	lease_until INTEGER NOT NULL DEFAULT 0, -- unix ms: taken by a worker until
	last_error  TEXT NOT NULL DEFAULT '',
	UNIQUE (event_id, target)
);
CREATE INDEX IF NOT EXISTS bus_deliveries_due ON bus_deliveries (next_at);
CREATE TABLE IF NOT EXISTS bus_dead_letters (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id   TEXT NOT NULL,
	detail_type   TEXT NOT NULL,
	target        TEXT NOT NULL,
	envelope      BLOB NOT NULL,
	reason        TEXT NOT NULL,
	attempts      INTEGER NOT NULL,
	failed_at     INTEGER NOT NULL,      -- unix ms
	alerted       INTEGER NOT NULL DEFAULT 0,
	alert_tries   INTEGER NOT NULL DEFAULT 0,
	alert_next_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS bus_dead_letters_unalerted ON bus_dead_letters (alerted, alert_next_at);
`

// Open creates the bus tables in db if needed and returns the bus. Opening
// has no other effect, so a CLI may open the bus of a running server to
// inspect or redrive dead letters.
func Open(ctx context.Context, db *sql.DB, opts Options) (*Bus, error) {
	opts.defaults()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("bus: create tables: %w", err)
	}
	return &Bus{
		db: db, opts: opts, log: opts.Logger,
		wake:     make(chan struct{}, 1),
		handlers: map[string]events.Handler{},
	}, nil
}

// Subscribe registers h under h.Name(); rules whose Target is that name
// deliver to it. Subscribing a second handler under the same name replaces
// the first.
func (b *Bus) Subscribe(h events.Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[h.Name()] = h
}

// SubscribeDeadLetters registers the handler called once for every dead
// letter (the alert handler). Dead letters recorded while none is registered
// are alerted once one is.
func (b *Bus) SubscribeDeadLetters(h events.DeadLetterHandler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dead = h
}

func (b *Bus) subscribed() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	names := make([]string, 0, len(b.handlers))
	for n := range b.handlers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Publish durably stores env and one delivery per subscribed rule target,
// in one transaction, and wakes the workers. It returns nil once the event
// is committed; publishing the same hook and delivery id again while the
// first is retained stores nothing and returns nil.
func (b *Bus) Publish(ctx context.Context, env *events.Envelope) error {
	p, err := b.Prepare(env)
	if err != nil {
		return err
	}
	if err := b.commit(ctx, p.it); err != nil {
		return fmt.Errorf("bus: publish delivery %s: %w", env.DeliveryID, err)
	}
	b.poke()
	return nil
}

// Prepared is an envelope checked, encoded and routed, ready to be published
// inside another store's transaction with PublishIn.
type Prepared struct{ it pubItem }

// Prepare does the work of Publish that needs no database: it checks,
// encodes and routes env (to the targets subscribed now).
func (b *Bus) Prepare(env *events.Envelope) (Prepared, error) {
	if err := events.CheckEnvelope(env); err != nil {
		return Prepared{}, fmt.Errorf("bus: publish: %w", err)
	}
	stored := env
	if b.opts.Archive != nil && env.S3Reference != nil && env.PayloadComplete && len(env.Payload) > 0 {
		// payload_complete with no payload marks "restore from the archive".
		c := *env
		c.Payload = nil
		stored = &c
	}
	body, err := events.Encode(stored)
	if err != nil {
		return Prepared{}, fmt.Errorf("bus: encode envelope of delivery %s: %w", env.DeliveryID, err)
	}
	subs := b.subscribed()
	var targets []string
	for _, t := range events.Targets(b.opts.Rules, env) {
		if slices.Contains(subs, t) {
			targets = append(targets, t)
		}
	}
	return Prepared{pubItem{key: env.HookID + "/" + env.DeliveryID, deliveryID: env.DeliveryID, event: env.Event, body: body, targets: targets}}, nil
}

// PublishIn stores a prepared event in tx, a transaction on the bus's
// database that the caller commits (holding the write lock the bus was
// given), so the publish is atomic with the caller's own writes. After the
// commit the caller calls Wake. A duplicate hook and delivery id stores
// nothing, as with Publish.
func (b *Bus) PublishIn(ctx context.Context, tx *sql.Tx, p Prepared) error {
	if err := b.insertBatch(ctx, tx, []pubItem{p.it}); err != nil {
		return fmt.Errorf("bus: publish delivery %s: %w", p.it.deliveryID, err)
	}
	return nil
}

// Wake tells the workers that events were committed by PublishIn.
func (b *Bus) Wake() { b.poke() }

func (b *Bus) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// shared runs f in the committer's next batch when the bus has one (f then
// shares its transaction with other writers, so it may fail only when the
// database does), else in a transaction of its own (tx).
func (b *Bus) shared(ctx context.Context, f func(context.Context, *sql.Tx) error) error {
	if b.opts.Committer != nil {
		return b.opts.Committer.Do(ctx, f)
	}
	return b.tx(ctx, func(tx *sql.Tx) error { return f(ctx, tx) })
}

// tx runs f in a transaction and commits it, or rolls back on error.
func (b *Bus) tx(ctx context.Context, f func(*sql.Tx) error) error {
	b.opts.WriteLock.Lock()
	defer b.opts.WriteLock.Unlock()
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Check reports whether the bus's database answers (for GET /healthz and the
// health handler).
func (b *Bus) Check(ctx context.Context) error {
	var n int
	if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM bus_deliveries WHERE 0`).Scan(&n); err != nil {
		return fmt.Errorf("bus: database: %w", err)
	}
	return nil
}

// exec runs one write statement under the write lock.
func (b *Bus) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	b.opts.WriteLock.Lock()
	defer b.opts.WriteLock.Unlock()
	return b.db.ExecContext(ctx, query, args...)
}
