package claims_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/local/claims"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// The publish and the finish are one transaction: both happen, or (when
// either write fails) neither does, and a claim lost meanwhile is reported
// as ErrNotHolder with the event still published.
func TestPublishAndFinishIsAtomic(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		trigger   string // SQL making one of the two writes fail
		lost      bool   // the claim is taken from us before publishing
		wantErr   error  // nil, webhook.ErrNotHolder, or errAny
		published bool
		done      bool
	}{
		{name: "both", published: true, done: true},
		{name: "publish fails", trigger: `CREATE TRIGGER boom BEFORE INSERT ON bus_events BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`, wantErr: errAny},
		{name: "finish fails", trigger: `CREATE TRIGGER boom BEFORE UPDATE ON webhook_claims BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`, wantErr: errAny},
		{name: "claim lost", lost: true, wantErr: webhook.ErrNotHolder, published: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ai3.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			lock := &sync.Mutex{}
			s, err := claims.Open(ctx, db, claims.Options{WriteLock: lock})
			if err != nil {
				t.Fatal(err)
			}
			b, err := bus.Open(ctx, db, bus.Options{WriteLock: lock, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			b.Subscribe(events.HandlerFunc(events.TargetStub, func(context.Context, *events.Envelope) error { return nil }))
			now := time.Now()
			c := webhook.Claim{Key: "1/d-1", Token: "mine", At: now, LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}
			if o, err := s.Claim(ctx, c); o != webhook.Acquired || err != nil {
				t.Fatalf("claim = %s, %v", o, err)
			}
			if tc.lost {
				if err := s.Release(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if tc.trigger != "" {
				if _, err := db.ExecContext(ctx, tc.trigger); err != nil {
					t.Fatal(err)
				}
			}
			d := events.Delivery{ID: "d-1", Event: "issues", HookID: "1", ReceivedAt: now, Body: []byte(`{"action":"opened"}`)}
			env, err := events.NewEnvelope(d, events.Ref{Bucket: "b", Key: "k"})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Publisher(b).PublishAndFinish(ctx, env, c)
			switch {
			case tc.wantErr == nil && err != nil, tc.wantErr == errAny && err == nil,
				tc.wantErr == webhook.ErrNotHolder && !errors.Is(err, webhook.ErrNotHolder):
				t.Fatalf("PublishAndFinish = %v, want %v", err, tc.wantErr)
			}
			if got := count(t, db, `SELECT count(*) FROM bus_events WHERE delivery_id = 'd-1'`) == 1; got != tc.published {
				t.Errorf("published = %v, want %v", got, tc.published)
			}
			if got := count(t, db, `SELECT count(*) FROM webhook_claims WHERE key = '1/d-1' AND state = 'done'`) == 1; got != tc.done {
				t.Errorf("claim done = %v, want %v", got, tc.done)
			}
		})
	}
}

var errAny = errors.New("any error")

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
