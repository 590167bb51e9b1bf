package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

// TestHealthzHidesInternals: a failing dependency check answers 503 naming
// the check and a request id; the error (which may hold paths) goes to the
// log under that id, never to the client.
func TestHealthzHidesInternals(t *testing.T) {
	var logs bytes.Buffer
	env := &devEnv{Log: slog.New(slog.NewTextHandler(&logs, nil)), checks: map[string]func(context.Context) error{}}
	env.Check("sqlite", func(context.Context) error { return errors.New("open /home/op/.ai3-data/ai3.db: disk I/O error") })
	env.Check("bus", func(context.Context) error { return nil })
	rec := httptest.NewRecorder()
	env.healthz(rec, httptest.NewRequest("GET", "/healthz", nil))
	var got struct {
		OK        bool     `json:"ok"`
		Failed    []string `json:"failed"`
		RequestID string   `json:"request_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code != 503 || got.OK || len(got.Failed) != 1 || got.Failed[0] != "sqlite" || got.RequestID == "" {
		t.Fatalf("healthz = %d %s, want 503 naming sqlite with a request id", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "/home/op") || strings.Contains(rec.Body.String(), "disk I/O") {
		t.Fatalf("healthz shows internals: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "disk I/O error") || !strings.Contains(logs.String(), got.RequestID) {
		t.Fatalf("the log lacks the failure under request id %s: %s", got.RequestID, logs.String())
	}
}

// TestDevServerLimits: the dev server bounds headers, bodies in time, idle
// connections and open connections.
func TestDevServerLimits(t *testing.T) {
	srv := newDevServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout < time.Minute || srv.IdleTimeout <= 0 || srv.WriteTimeout < srv.ReadTimeout ||
		srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Fatalf("server limits: %+v", srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := limitListener(ln, 2)
	defer lim.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := lim.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while two were open (limit 2)")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	first.Close() // closing twice frees one slot, not two
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting connection was not accepted after one closed")
	}
	second.Close()
}

// TestDevLoginRateLimit: `ai3 dev` limits how many logins one client
// starts, so a flood of GET /oauth/login stores a bounded number of states.
func TestDevLoginRateLimit(t *testing.T) {
	gh := githubdouble.New(t)
	t.Setenv("GITHUB_CLIENT_ID", gh.ClientID)
	t.Setenv("GITHUB_CLIENT_SECRET", gh.ClientSecret)
	t.Setenv("GITHUB_URL", gh.URL)
	env := newTestEnv(t)
	if err := mountOAuth(context.Background(), env, io.Discard); err != nil {
		t.Fatal(err)
	}
	codes := map[int]int{}
	for range 3000 {
		rec := httptest.NewRecorder()
		env.Mux.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth/login", nil))
		codes[rec.Code]++
	}
	var rows int
	if err := env.DB.QueryRow(`SELECT count(*) FROM oauth_states`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows > 20 || codes[http.StatusTooManyRequests] < 2980 {
		t.Fatalf("3,000 logins from one client stored %d states (answers %v), want at most 20", rows, codes)
	}
}

// TestDevWebhookSecretIsNotPrinted: the first run creates the secret and
// says where it is, without printing it.
func TestDevWebhookSecretIsNotPrinted(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	dir := t.TempDir()
	var out bytes.Buffer
	if _, err := devWebhookSecret(dir, &out); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "webhook-secret")
	secret, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(secret)) < 20 {
		t.Fatalf("secret file: %q, %v", secret, err)
	}
	if bytes.Contains(out.Bytes(), bytes.TrimSpace(secret)) || !strings.Contains(out.String(), path) {
		t.Fatalf("console %q: want the path of the secret, not the secret", out.String())
	}
}
