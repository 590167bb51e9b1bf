package claims_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/claims"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
	"github.com/sbalswa/ai3-mvp/internal/webhook/webhooktest"
)

func open(t testing.TB) *claims.Store {
	t.Helper()
	ctx := context.Background()
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := claims.Open(ctx, db, claims.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	webhooktest.ClaimStore(t, func(t *testing.T) webhook.ClaimStore { return open(t) })
}

func TestSweepForgetsOnlyExpiredClaims(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []webhook.Claim{
		{Key: "1/old", Token: "a", At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)},
		{Key: "1/new", Token: "b", At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(48 * time.Hour)},
	} {
		if _, err := s.Claim(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Sweep(ctx, at.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 row", n, err)
	}
	later := at.Add(3 * time.Hour)
	got, err := s.Claim(ctx, webhook.Claim{Key: "1/new", Token: "c", At: later, LeaseUntil: later.Add(time.Minute), ExpiresAt: later.Add(time.Hour)})
	if err != nil || got != webhook.Duplicate {
		t.Fatalf("Claim of the unexpired delivery after sweep = %s, %v; want duplicate", got, err)
	}
}

func TestOpenTwiceKeepsClaims(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ai3.db")
	at := time.Now()
	c := webhook.Claim{Key: "1/d", Token: "a", At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)}
	for i, want := range []webhook.Outcome{webhook.Acquired, webhook.Duplicate} {
		db, err := local.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := claims.Open(ctx, db, claims.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.Token = string(rune('a' + i))
		got, err := s.Claim(ctx, c)
		if err != nil || got != want {
			t.Fatalf("open %d: Claim = %s, %v; want %s", i, got, err, want)
		}
		if got == webhook.Acquired {
			if err := s.Finish(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
}

// TestDatabaseFailureIsAnError proves a broken database surfaces as an error
// (the receiver answers 5xx), never as a claim outcome.
func TestDatabaseFailureIsAnError(t *testing.T) {
	ctx := context.Background()
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := claims.Open(ctx, db, claims.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	at := time.Now()
	c := webhook.Claim{Key: "1/d", Token: "a", At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)}
	if o, err := s.Claim(ctx, c); err == nil {
		t.Fatalf("Claim on a closed database = %s, want an error", o)
	}
	if err := s.Finish(ctx, c); err == nil || errors.Is(err, webhook.ErrNotHolder) {
		t.Fatalf("Finish on a closed database = %v, want a database error", err)
	}
	if err := s.Release(ctx, c); err == nil {
		t.Fatal("Release on a closed database succeeded")
	}
	if err := s.Check(ctx); err == nil {
		t.Fatal("Check on a closed database succeeded")
	}
}
