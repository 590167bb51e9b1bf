// Package ingest holds the end-to-end tests of webhook ingestion in the
// embedded shape: signed deliveries over HTTP → receiver → SQLite claims,
// payload files and the durable bus → the monitor's stub handler.
package ingest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/local/claims"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

var secret = []byte("ingest-test-secret")

// stack is the embedded ingestion path wired as `ai3 dev` wires it, with the
// real stub handler wrapped so the test sees what reached it.
type stack struct {
	db      *sql.DB
	archive *archive.Archive
	bus     *bus.Bus
	claims  *claims.Store
	stub    *recorder
	srv     *httptest.Server
	dir     string
}

type options struct {
	wrapArchive   func(events.Archive) events.Archive
	wrapPublisher func(events.Publisher) events.Publisher
	lease         time.Duration
	now           func() time.Time // the receiver's clock; default time.Now
	noWorkers     bool             // publish only; nothing is delivered (benchmarks of ingest alone)
	filesOnly     bool             // every payload a file (the archive without its database tier)
}

func newStack(t testing.TB, o options) *stack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	s := &stack{db: db, dir: dir}
	writeLock := &sync.Mutex{} // shared by the writers of the database, as in ai3 dev
	commits := local.NewCommitter(db, writeLock)
	t.Cleanup(func() { commits.Close() })
	if s.claims, err = claims.Open(ctx, db, claims.Options{Committer: commits}); err != nil {
		t.Fatal(err)
	}
	archiveOpts := archive.Options{Committer: commits}
	if o.filesOnly {
		archiveOpts = archive.Options{}
	}
	if s.archive, err = archive.Open(ctx, filepath.Join(dir, "payloads"), archiveOpts); err != nil {
		t.Fatal(err)
	}
	if s.bus, err = bus.Open(ctx, db, bus.Options{Logger: log, PollInterval: 5 * time.Millisecond, Workers: 4, Committer: commits, Archive: s.archive}); err != nil {
		t.Fatal(err)
	}
	metrics := monitor.NewEMF(io.Discard, monitor.Namespace)
	s.stub = &recorder{Handler: monitor.NewStub(log, metrics), archive: s.archive, got: map[string]received{}}
	s.bus.Subscribe(s.stub)
	s.bus.SubscribeDeadLetters(monitor.NewAlert(log, metrics))
	var a events.Archive = s.archive
	if o.wrapArchive != nil {
		a = o.wrapArchive(a)
	}
	// As in ai3 dev: publish and mark the claim done in one transaction. A
	// wrapped publisher (fault tests) takes the two-step path instead.
	var p events.Publisher = s.claims.Publisher(s.bus)
	if o.wrapPublisher != nil {
		p = o.wrapPublisher(p)
	}
	r, err := webhook.New(ctx, webhook.Config{
		Secrets: fixedSecrets{secret}, Claims: s.claims, Archive: a, Publisher: p, Log: log, Lease: o.lease, Now: o.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !o.noWorkers {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = s.bus.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	s.srv = httptest.NewServer(webhook.HTTPHandler(r))
	t.Cleanup(s.srv.Close)
	return s
}

type fixedSecrets [][]byte

func (f fixedSecrets) Secrets(context.Context) ([][]byte, error) { return f, nil }

// post sends one delivery and returns the status and body.
func (s *stack) post(t testing.TB, client *http.Client, event, id string, body []byte, sig string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/webhook", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-GitHub-Hook-ID", "4242")
	req.Header.Set("X-Hub-Signature-256", sig)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// count returns the rows of a table.
func (s *stack) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// received is what the stub was handed for one delivery.
type received struct {
	event    string
	calls    int
	payload  []byte
	complete bool // the envelope carried the payload inline
}

// recorder is the real stub handler plus a record of every call, with the
// payload loaded the way handlers load it (events.Load).
type recorder struct {
	events.Handler
	archive events.Archive
	mu      sync.Mutex
	got     map[string]received
}

func (r *recorder) Handle(ctx context.Context, env *events.Envelope) error {
	if err := r.Handler.Handle(ctx, env); err != nil {
		return err
	}
	payload, err := events.Load(ctx, r.archive, env)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.got[env.DeliveryID]
	g.event, g.payload, g.complete = env.Event, payload, env.PayloadComplete
	g.calls++
	r.got[env.DeliveryID] = g
	return nil
}

func (r *recorder) snapshot() map[string]received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]received, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// waitFor polls until the stub has seen n deliveries or the timeout passes.
func (r *recorder) waitFor(t testing.TB, n int, timeout time.Duration) map[string]received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := r.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stub saw %d of %d deliveries within %s", len(got), n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
