package vault_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

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
