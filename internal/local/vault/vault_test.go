package vault_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/oauth/oauthtest"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/internal/tokens/tokenstest"
)

func TestTokenStoreContract(t *testing.T) {
	tokenstest.RunStore(t, func(t *testing.T) tokens.Store {
		s, err := vault.NewTokenStore(context.Background(), openDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNonceStoreContract(t *testing.T) {
	oauthtest.RunNonceStore(t, func(t *testing.T) oauth.NonceStore {
		s, err := vault.NewNonceStore(context.Background(), openDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := local.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestNonceStoreAddsTheBrowserColumn: a database made before logins were
// bound to the browser gains the column, and its rows stay readable.
func TestNonceStoreAddsTheBrowserColumn(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if _, err := db.Exec(`CREATE TABLE oauth_states (key TEXT PRIMARY KEY, verifier TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER)`); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	if _, err := db.Exec(`INSERT INTO oauth_states (key, verifier, expires_at) VALUES ('old','v',?)`, exp.UnixNano()); err != nil {
		t.Fatal(err)
	}
	s, err := vault.NewNonceStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Consume(ctx, "old", time.Now()); err != nil || n.Verifier != "v" || n.Browser != "" {
		t.Fatalf("old row: %+v, %v", n, err)
	}
	if _, err := vault.NewNonceStore(ctx, db); err != nil {
		t.Fatalf("opening twice: %v", err)
	}
}

// TestNonceSweep: a state nobody used is deleted once it expires (a flood of
// logins leaves nothing behind for long); a used one is kept a day, so a
// replayed callback is still told "already used".
func TestNonceSweep(t *testing.T) {
	ctx := context.Background()
	s, err := vault.NewNonceStore(ctx, openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	exp := t0.Add(oauth.StateTTL)
	for _, k := range []string{"unused", "used"} {
		if err := s.Put(ctx, k, oauth.Nonce{Verifier: "v", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Consume(ctx, "used", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(ctx, exp.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consume(ctx, "unused", exp.Add(time.Second)); !errors.Is(err, oauth.ErrStateUnknown) {
		t.Fatalf("an expired, unused state after the sweep: %v, want it gone", err)
	}
	if _, err := s.Consume(ctx, "used", exp.Add(time.Second)); !errors.Is(err, oauth.ErrStateUsed) {
		t.Fatalf("a used state after the sweep: %v, want it kept (already used)", err)
	}
	if err := s.Sweep(ctx, exp.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consume(ctx, "used", exp.Add(25*time.Hour)); !errors.Is(err, oauth.ErrStateUnknown) {
		t.Fatalf("a used state a day later: %v, want it gone", err)
	}
}
