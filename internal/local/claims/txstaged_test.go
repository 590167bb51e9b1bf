package claims_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/local/claims"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// ingest is the embedded receiver's stores wired as ai3 dev wires them:
// claims, payload archive and bus on one database and one Committer.
type ingest struct {
	db      *sql.DB
	root    string
	archive *archive.Archive
	claims  *claims.Store
	bus     *bus.Bus
	pub     *claims.Publisher
}

func openIngest(t *testing.T) *ingest {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	g := &ingest{root: filepath.Join(dir, "payloads")}
	var err error
	if g.db, err = local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.db.Close() })
	commits := local.NewCommitter(g.db, nil)
	t.Cleanup(func() { commits.Close() })
	if g.claims, err = claims.Open(ctx, g.db, claims.Options{Committer: commits}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.claims.Close() })
	if g.archive, err = archive.Open(ctx, g.root, archive.Options{Committer: commits, SmallMax: 1024}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.archive.Close() })
	if g.bus, err = bus.Open(ctx, g.db, bus.Options{Committer: commits, Archive: g.archive, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	g.bus.Subscribe(events.HandlerFunc(events.TargetStub, func(context.Context, *events.Envelope) error { return nil }))
	g.pub = g.claims.Publisher(g.bus)
	return g
}

const (
	deliveryID = "d-1"
	payloadKey = "2026/11/28/issues/d-1.json"
)

// claim takes the delivery's claim.
func (g *ingest) claim(t *testing.T) webhook.Claim {
	t.Helper()
	now := time.Now()
	c := webhook.Claim{Key: "1/" + deliveryID, Token: "mine", At: now, LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}
	if o, err := g.claims.Claim(context.Background(), c); o != webhook.Acquired || err != nil {
		t.Fatalf("claim = %s, %v", o, err)
	}
	return c
}

func envelope(t *testing.T, body []byte) *events.Envelope {
	t.Helper()
	d := events.Delivery{ID: deliveryID, Event: "issues", HookID: "1", ReceivedAt: time.Now(), Body: body}
	env, err := events.NewEnvelope(d, events.Ref{Key: payloadKey})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// state is what the database holds for the delivery.
type state struct {
	payload bool        // a payload row
	event   *events.Ref // the published event's reference; nil: no event
	claim   string      // the claim's state; "" when there is no claim
}

func (g *ingest) state(t *testing.T) state {
	t.Helper()
	var (
		s   state
		n   int
		raw []byte
	)
	if err := g.db.QueryRow(`SELECT count(*) FROM archive_payloads WHERE key = ?`, payloadKey).Scan(&n); err != nil {
		t.Fatal(err)
	}
	s.payload = n == 1
	err := g.db.QueryRow(`SELECT envelope FROM bus_events WHERE delivery_id = ?`, deliveryID).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		t.Fatal(err)
	default:
		env, err := events.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		ref := events.Ref{}
		if env.S3Reference != nil {
			ref = *env.S3Reference
		}
		s.event = &ref
	}
	err = g.db.QueryRow(`SELECT state FROM webhook_claims WHERE key = ?`, "1/"+deliveryID).Scan(&s.claim)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return s
}

var smallBody = []byte(`{"action":"opened","issue":{"number":1,"title":"a small payload"}}`)

// A small payload staged by the database tier is a claims.TxStaged (its
// type is unexported, so this is asserted at run time); a large one, a
// file, is not.
func TestArchiveStagesTxStaged(t *testing.T) {
	ctx := context.Background()
	g := openIngest(t)
	small, err := g.archive.Stage(ctx, payloadKey, smallBody)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Discard()
	in, ok := small.(claims.TxStaged)
	if !ok {
		t.Fatalf("the database tier's staged payload (%T) is not a claims.TxStaged", small)
	}
	if ref := in.Ref(); ref != (events.Ref{Bucket: archive.Bucket, Key: payloadKey}) {
		t.Fatalf("Ref = %+v", ref)
	}
	large, err := g.archive.Stage(ctx, payloadKey, bytes.Repeat([]byte("x"), 2048))
	if err != nil {
		t.Fatal(err)
	}
	defer large.Discard()
	if _, ok := large.(claims.TxStaged); ok {
		t.Fatalf("a staged file (%T) claims to commit inside a transaction", large)
	}
}

// The payload, the event and the claim's "done" are written in one
// transaction: all of them, or none when any write fails.
func TestCommitPublishAndFinishIsAtomic(t *testing.T) {
	ctx := context.Background()
	ref := events.Ref{Bucket: archive.Bucket, Key: payloadKey}
	cases := []struct {
		name    string
		trigger string
		lost    bool // the claim is taken from us first
		wantErr error
		want    state
	}{
		{name: "all written", want: state{payload: true, event: &ref, claim: "done"}},
		{name: "bus insert fails", trigger: `CREATE TRIGGER f BEFORE INSERT ON bus_events BEGIN SELECT RAISE(ABORT, 'x'); END`,
			wantErr: errAny, want: state{claim: "processing"}},
		{name: "finish fails", trigger: `CREATE TRIGGER f BEFORE UPDATE ON webhook_claims BEGIN SELECT RAISE(ABORT, 'x'); END`,
			wantErr: errAny, want: state{claim: "processing"}},
		{name: "payload insert fails", trigger: `CREATE TRIGGER f BEFORE INSERT ON archive_payloads BEGIN SELECT RAISE(ABORT, 'x'); END`,
			wantErr: errAny, want: state{claim: "processing"}},
		{name: "claim lost", lost: true, wantErr: webhook.ErrNotHolder, want: state{payload: true, event: &ref}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := openIngest(t)
			c := g.claim(t)
			if tc.lost {
				if err := g.claims.Release(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if tc.trigger != "" {
				if _, err := g.db.Exec(tc.trigger); err != nil {
					t.Fatal(err)
				}
			}
			staged, err := g.archive.Stage(ctx, payloadKey, smallBody)
			if err != nil {
				t.Fatal(err)
			}
			env := envelope(t, smallBody)
			err = g.pub.CommitPublishAndFinish(ctx, staged, env, c)
			switch {
			case tc.wantErr == nil && err != nil,
				tc.wantErr == errAny && (err == nil || errors.Is(err, webhook.ErrNotHolder)),
				tc.wantErr == webhook.ErrNotHolder && !errors.Is(err, webhook.ErrNotHolder):
				t.Fatalf("CommitPublishAndFinish = %v, want %v", err, tc.wantErr)
			}
			got := g.state(t)
			if got.payload != tc.want.payload || (got.event == nil) != (tc.want.event == nil) || got.claim != tc.want.claim {
				t.Fatalf("payload row %v, event %v, claim %q; want %v, %v, %q",
					got.payload, got.event != nil, got.claim, tc.want.payload, tc.want.event != nil, tc.want.claim)
			}
			if got.event != nil && *got.event != ref {
				t.Errorf("the event refers to %+v, want %+v", *got.event, ref)
			}
			if tc.want.payload {
				if env.S3Reference == nil || *env.S3Reference != ref {
					t.Errorf("env.S3Reference = %+v, want %+v", env.S3Reference, ref)
				}
				if b, err := g.archive.Get(ctx, ref); err != nil || !bytes.Equal(b, smallBody) {
					t.Errorf("Get = %q, %v", b, err)
				}
			}
		})
	}
}

// fakeStaged is a staged payload that cannot be committed in a
// transaction: the publisher commits it first, on its own.
type fakeStaged struct {
	ref       events.Ref
	err       error
	commits   int
	discarded bool
}

func (f *fakeStaged) Commit(context.Context) (events.Ref, error) {
	f.commits++
	if f.err != nil {
		return events.Ref{}, f.err
	}
	return f.ref, nil
}

func (f *fakeStaged) Discard() { f.discarded = true }

// A staged payload that is not a TxStaged is committed first; then the
// event is published and the claim finished together. A failed commit
// publishes nothing and leaves the claim processing.
func TestCommitPublishAndFinishFallsBackToCommit(t *testing.T) {
	ctx := context.Background()
	fakeRef := events.Ref{Bucket: "elsewhere", Key: payloadKey}
	t.Run("committed", func(t *testing.T) {
		g := openIngest(t)
		c := g.claim(t)
		f := &fakeStaged{ref: fakeRef}
		env := envelope(t, smallBody)
		if err := g.pub.CommitPublishAndFinish(ctx, f, env, c); err != nil {
			t.Fatal(err)
		}
		got := g.state(t)
		if f.commits != 1 || got.payload || got.event == nil || *got.event != fakeRef || got.claim != "done" {
			t.Fatalf("commits %d, payload row %v, event %+v, claim %q; want 1 commit, no row, an event at %+v, done",
				f.commits, got.payload, got.event, got.claim, fakeRef)
		}
		if env.S3Reference == nil || *env.S3Reference != fakeRef {
			t.Fatalf("env.S3Reference = %+v, want %+v", env.S3Reference, fakeRef)
		}
	})
	t.Run("commit fails", func(t *testing.T) {
		g := openIngest(t)
		c := g.claim(t)
		f := &fakeStaged{err: errors.New("rename failed")}
		if err := g.pub.CommitPublishAndFinish(ctx, f, envelope(t, smallBody), c); err == nil || errors.Is(err, webhook.ErrNotHolder) {
			t.Fatalf("CommitPublishAndFinish with a failing commit = %v, want its error", err)
		}
		if got := g.state(t); f.commits != 1 || got.event != nil || got.claim != "processing" {
			t.Fatalf("commits %d, event %v, claim %q; want 1 commit, no event, processing", f.commits, got.event != nil, got.claim)
		}
	})
	t.Run("large payload as a file", func(t *testing.T) {
		g := openIngest(t)
		c := g.claim(t)
		large := append([]byte(`{"action":"opened","pad":"`), bytes.Repeat([]byte("x"), 4096)...)
		large = append(large, `"}`...)
		staged, err := g.archive.Stage(ctx, payloadKey, large)
		if err != nil {
			t.Fatal(err)
		}
		env := envelope(t, large)
		if err := g.pub.CommitPublishAndFinish(ctx, staged, env, c); err != nil {
			t.Fatal(err)
		}
		ref := events.Ref{Bucket: archive.Bucket, Key: payloadKey}
		got := g.state(t)
		if got.payload || got.event == nil || *got.event != ref || got.claim != "done" {
			t.Fatalf("payload row %v, event %+v, claim %q; want no row, an event at %+v, done", got.payload, got.event, got.claim, ref)
		}
		if _, err := os.Stat(filepath.Join(g.root, filepath.FromSlash(payloadKey))); err != nil {
			t.Fatalf("the large payload is not a file: %v", err)
		}
		if b, err := g.archive.Get(ctx, ref); err != nil || !bytes.Equal(b, large) {
			t.Fatalf("Get = %d bytes, %v", len(b), err)
		}
	})
}
