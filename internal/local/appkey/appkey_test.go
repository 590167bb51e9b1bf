package appkey_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/local/appkey"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

func TestMinterReadsA0600KeyFile(t *testing.T) {
	gh := githubdouble.New(t)
	gh.InstallApp(5)
	dir := t.TempDir()
	cases := []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantErr string
	}{
		{"0600 PEM key mints", gh.AppPrivateKey(), 0o600, ""},
		{"group-readable key is refused", gh.AppPrivateKey(), 0o640, "chmod 600"},
		{"not PEM", []byte("hello"), 0o600, "no PEM key"},
		{"missing file", nil, 0, "no such file"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".pem")
			if c.content != nil {
				if err := os.WriteFile(path, c.content, c.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, c.mode); err != nil {
					t.Fatal(err)
				}
			}
			before := gh.Count("installation_token")
			tok, err := appkey.Minter(gh.AppID(), path, gh.APIURL()).InstallationToken(context.Background(), 5)
			if c.wantErr == "" {
				if err != nil || !strings.HasPrefix(tok.Token, "ghs_") {
					t.Fatalf("case %d: %v", i, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if gh.Count("installation_token") != before {
				t.Fatal("a refused key still reached GitHub")
			}
		})
	}
}
