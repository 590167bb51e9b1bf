package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
				if want == 302 && !strings.HasPrefix(rec.Header().Get("Location"), gh.URL+"/login/oauth/authorize?") {
					t.Fatalf("redirect to %q, want the configured GitHub", rec.Header().Get("Location"))
				}
			}
		})
	}
}
