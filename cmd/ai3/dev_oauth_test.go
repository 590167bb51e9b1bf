package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

func newTestEnv(t *testing.T) *devEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := local.OpenSQLite(context.Background(), filepath.Join(dir, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &devEnv{Mux: http.NewServeMux(), DataDir: dir, DB: db, Log: slog.New(slog.DiscardHandler),
		checks: map[string]func(context.Context) error{}}
}

func TestMountOAuth(t *testing.T) {
	gh := githubdouble.New(t)
	cases := []struct {
		name       string
		env        map[string]string
		secretFile string
		fileMode   os.FileMode
		wantErr    string
		wantOut    string
		wantStatus int
	}{
		{name: "fresh machine: disabled, routes answer 503", wantOut: "OAuth login disabled", wantStatus: 503},
		{name: "id without secret: disabled", env: map[string]string{"GITHUB_CLIENT_ID": gh.ClientID}, wantOut: "disabled", wantStatus: 503},
		{name: "secret from env", env: map[string]string{"GITHUB_CLIENT_ID": gh.ClientID, "GITHUB_CLIENT_SECRET": gh.ClientSecret, "GITHUB_URL": gh.URL},
			wantOut: "OAuth login at /oauth/login", wantStatus: 302},
		{name: "secret from a 0600 file", env: map[string]string{"GITHUB_CLIENT_ID": gh.ClientID, "GITHUB_URL": gh.URL},
			secretFile: gh.ClientSecret + "\n", fileMode: 0o600, wantOut: "OAuth login at", wantStatus: 302},
		{name: "secret file readable by others is refused", env: map[string]string{"GITHUB_CLIENT_ID": gh.ClientID},
			secretFile: "s", fileMode: 0o644, wantErr: "chmod 600"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GITHUB_URL", "GITHUB_API_URL", "AI3_OAUTH_REDIRECT_URL"} {
				t.Setenv(k, c.env[k])
			}
			env := newTestEnv(t)
			if c.secretFile != "" {
				p := filepath.Join(env.DataDir, clientSecretFile)
				if err := os.WriteFile(p, []byte(c.secretFile), c.fileMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, c.fileMode); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			err := mountOAuth(context.Background(), env, &out)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Fatalf("output %q, want %q", out.String(), c.wantOut)
			}
			for _, path := range []string{"/oauth/login", "/oauth/callback?state=x&code=y"} {
				rec := httptest.NewRecorder()
				env.Mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				want := c.wantStatus
				if path != "/oauth/login" && want == 302 {
					want = 400 // unknown state
				}
				if rec.Code != want {
					t.Fatalf("GET %s = %d, want %d: %s", path, rec.Code, want, rec.Body)
				}
				if strings.Contains(rec.Body.String(), env.DataDir) {
					t.Fatalf("GET %s shows the data directory: %s", path, rec.Body)
				}
				if want == 302 && !strings.HasPrefix(rec.Header().Get("Location"), gh.URL+"/login/oauth/authorize?") {
					t.Fatalf("redirect to %q, want the configured GitHub", rec.Header().Get("Location"))
				}
			}
		})
	}
}

// TestDevWebFlow logs a user in through the routes `ai3 dev` serves and
// checks the token landed, sealed, in the dev database.
func TestDevWebFlow(t *testing.T) {
	gh := githubdouble.New(t)
	gh.SignIn("octocat")
	env := newTestEnv(t)
	srv := httptest.NewServer(env.Mux)
	t.Cleanup(srv.Close)
	t.Setenv("GITHUB_CLIENT_ID", gh.ClientID)
	t.Setenv("GITHUB_CLIENT_SECRET", gh.ClientSecret)
	t.Setenv("GITHUB_URL", gh.URL)
	t.Setenv("GITHUB_API_URL", "")
	t.Setenv("AI3_OAUTH_REDIRECT_URL", srv.URL+"/oauth/callback")
	if err := mountOAuth(context.Background(), env, io.Discard); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}                  // keeps the login cookie, as a browser does
	resp, err := browser.Get(srv.URL + "/oauth/login") // follows GitHub's redirect back to the callback
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "@octocat") {
		t.Fatalf("login ended with %d %s", resp.StatusCode, body)
	}
	var login string
	var sealed []byte
	if err := env.DB.QueryRow(`SELECT login, sealed FROM user_tokens`).Scan(&login, &sealed); err != nil || login != "octocat" || len(sealed) == 0 {
		t.Fatalf("stored record: %q, %d sealed bytes, %v", login, len(sealed), err)
	}
	if st, err := os.Stat(filepath.Join(env.DataDir, "master.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v", err)
	}

	// A revocation handled in the same process ends the token at once, even
	// though the login side's vault has just served (and cached) it.
	ctx := context.Background()
	var userID int64
	if err := env.DB.QueryRow(`SELECT user_id FROM user_tokens`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Vault.Token(ctx, userID); err != nil {
		t.Fatalf("token before revocation: %v", err)
	}
	h, err := revocationHandler(ctx, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"action":"revoked","sender":{"id":%d,"login":"octocat"}}`, userID)
	if err := h.Handle(ctx, &events.Envelope{DeliveryID: "d-revoke", Event: "github_app_authorization", Action: "revoked",
		PayloadComplete: true, Payload: json.RawMessage(payload)}); err != nil {
		t.Fatal(err)
	}
	if tok, err := env.Vault.Token(ctx, userID); err == nil {
		t.Fatalf("the vault still serves a token (%d chars) after revocation", len(tok))
	}
}
