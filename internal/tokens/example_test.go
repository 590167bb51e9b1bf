package tokens_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// rotatingGitHub stands in for GitHub's refresh endpoint.
type rotatingGitHub struct{ n int }

func (g *rotatingGitHub) Refresh(_ context.Context, refreshToken string) (tokens.Grant, error) {
	g.n++
	return tokens.Grant{
		AccessToken:     fmt.Sprintf("ghu_rotated%d", g.n),
		RefreshToken:    fmt.Sprintf("ghr_rotated%d", g.n),
		AccessExpiresAt: time.Now().Add(8 * time.Hour),
	}, nil
}

// A vault over the embedded adapters: Save after a login, Token before every
// call to GitHub. A token with under five minutes left is refreshed first.
func ExampleVault() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "vault-example")
	defer os.RemoveAll(dir)
	db, _ := local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db"))
	defer db.Close()
	store, _ := vault.NewTokenStore(ctx, db)
	keys, _ := keyring.Open(filepath.Join(dir, "master.key"))
	v := tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: &rotatingGitHub{},
		Log: slog.New(slog.DiscardHandler)})

	user := tokens.User{ID: 583231, Login: "octocat"}
	_ = v.Save(ctx, user, tokens.Grant{AccessToken: "ghu_fromlogin", RefreshToken: "ghr_fromlogin",
		AccessExpiresAt: time.Now().Add(2 * time.Minute)})

	tok, err := v.Token(ctx, user.ID)
	fmt.Println(tok, err)
	// Output: ghu_rotated1 <nil>
}
