package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// TestDevServerRevocationDeletesToken runs the real `ai3 dev`: a signed
// github_app_authorization "revoked" delivery deletes the sender's stored
// token and leaves other users' tokens alone; a delivery with another action
// deletes nothing.
func TestDevServerRevocationDeletesToken(t *testing.T) {
	bin := buildAI3(t)
	data := t.TempDir()
	ctx := context.Background()

	// Two users logged in during an earlier run (stored as the login flow stores them).
	db, err := local.OpenSQLite(ctx, filepath.Join(data, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := vault.NewTokenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Open(filepath.Join(data, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	v := tokens.New(tokens.Config{Store: store, Keys: keys, Log: slog.New(slog.DiscardHandler)})
	for _, u := range []tokens.User{{ID: 583231, Login: "octocat"}, {ID: 7, Login: "hubot"}} {
		if err := v.Save(ctx, u, tokens.Grant{AccessToken: "ghu_" + u.Login}); err != nil {
			t.Fatal(err)
		}
	}

	key := []byte("revocation-test-secret")
	d := startDev(t, bin, data, "WEBHOOK_SECRET="+string(key))
	post := func(id, action string, sender tokens.User) {
		t.Helper()
		body := fmt.Appendf(nil, `{"action":%q,"sender":{"login":%q,"id":%d,"type":"User"}}`, action, sender.Login, sender.ID)
		req, _ := http.NewRequest(http.MethodPost, "http://"+d.Addr+"/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "github_app_authorization")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-GitHub-Hook-ID", "1")
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(key, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", id, resp.StatusCode)
		}
	}

	// Not a revocation (hubot's): delivered to every handler, nothing deleted.
	post("auth-other", "created", tokens.User{ID: 7, Login: "hubot"})
	waitDelivered(t, db, "auth-other")
	if _, err := store.Get(ctx, 7); err != nil {
		t.Fatalf("a non-revocation deleted the sender's token: %v", err)
	}

	post("auth-revoked", "revoked", tokens.User{ID: 583231, Login: "octocat"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := store.Get(ctx, 583231)
		if errors.Is(err, tokens.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked user's token is still stored; logs:\n%s", d.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := store.Get(ctx, 7); err != nil {
		t.Fatalf("another user's token was deleted: %v", err)
	}
}

// waitDelivered waits until the bus has delivered delivery id to every
// handler it was routed to (delivered rows are deleted once acknowledged).
func waitDelivered(t *testing.T, db *sql.DB, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var published, pending int
		err := db.QueryRow(`SELECT count(*), (SELECT count(*) FROM bus_deliveries d JOIN bus_events e ON d.event_id = e.id
			WHERE e.delivery_id = ?1) FROM bus_events WHERE delivery_id = ?1`, id).Scan(&published, &pending)
		if err != nil {
			t.Fatal(err)
		}
		if published == 1 && pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: %d published, %d deliveries still pending", id, published, pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
