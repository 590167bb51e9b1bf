package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

func TestLoginDeviceFlow(t *testing.T) {
	cases := []struct {
		name    string
		act     func(gh *githubdouble.Server, code string) error
		wantErr error
	}{
		{"approved", func(gh *githubdouble.Server, code string) error { return gh.ApproveDevice(code, "operator") }, nil},
		{"denied", func(gh *githubdouble.Server, code string) error { return gh.DenyDevice(code) }, oauth.ErrAccessDenied},
		{"expired", func(gh *githubdouble.Server, code string) error { return gh.ExpireDevice(code) }, oauth.ErrDeviceExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gh := githubdouble.New(t)
			client := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID})
			path := filepath.Join(t.TempDir(), "cfg", "ai3", "login.json")
			var out bytes.Buffer
			polls := 0
			// The person enters the code while the CLI waits for the first poll.
			wait := func(_ context.Context, d time.Duration) error {
				polls++
				if polls == 1 {
					code := gh.LastUserCode()
					if !strings.Contains(out.String(), code) {
						t.Errorf("the code %s was not shown: %q", code, out.String())
					}
					return c.act(gh, code)
				}
				if polls > 3 {
					return errors.New("kept polling")
				}
				return nil
			}
			err := runLogin(context.Background(), client, nil, path, &out, wait)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			st, statErr := os.Stat(path)
			if c.wantErr != nil {
				if statErr == nil {
					t.Fatal("a failed login wrote a token file")
				}
				return
			}
			if statErr != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("token file: %v mode %v, want 0600", statErr, st.Mode().Perm())
			}
			var l storedLogin
			b, _ := os.ReadFile(path)
			if err := json.Unmarshal(b, &l); err != nil || l.Login != "operator" || !strings.HasPrefix(l.AccessToken, "ghu_") || l.GitHubURL != gh.URL {
				t.Fatalf("stored login %+v, %v", l, err)
			}
			if !strings.Contains(out.String(), "Logged in as @operator") {
				t.Fatalf("output %q", out.String())
			}
		})
	}
}

func TestLoginNeedsAClientID(t *testing.T) {
	t.Setenv("GITHUB_CLIENT_ID", "")
	cmd := newLoginCmd()
	cmd.SetArgs(nil)
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "GITHUB_CLIENT_ID") {
		t.Fatalf("err = %v", err)
	}
}
