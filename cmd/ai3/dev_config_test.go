package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDotEnv(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{name: "plain", in: "APP_ID=12\nGITHUB_ORG=acme\n", want: map[string]string{"APP_ID": "12", "GITHUB_ORG": "acme"}},
		{name: "comments and blanks", in: "# settings\n\n  APP_ID = 12  # the app\n", want: map[string]string{"APP_ID": "12"}},
		{name: "export", in: "export BOT_HANDLE=robo\n", want: map[string]string{"BOT_HANDLE": "robo"}},
		{name: "double quotes", in: `WEBHOOK_SECRET="a #b \"c\"\nd"`, want: map[string]string{"WEBHOOK_SECRET": "a #b \"c\"\nd"}},
		{name: "single quotes are literal", in: `WEBHOOK_SECRET='a\nb # c'  # note`, want: map[string]string{"WEBHOOK_SECRET": `a\nb # c`}},
		{name: "hash inside a word stays", in: "GITHUB_URL=https://x.example/#a\n", want: map[string]string{"GITHUB_URL": "https://x.example/#a"}},
		{name: "empty value", in: "GHE_HOST=\n", want: map[string]string{"GHE_HOST": ""}},
		{name: "no equals", in: "APP_ID=1\nPRIVATE_KEY_PATH\n", err: "line 2: want KEY=VALUE"},
		{name: "bad name", in: "1APP=2\n", err: "line 1: want KEY=VALUE"},
		{name: "open quote", in: "WEBHOOK_SECRET=\"s3cret\n", err: "line 1 (WEBHOOK_SECRET): the quote is not closed"},
		{name: "text after quote", in: "A='x' y\n", err: "line 1 (A): text after the closing quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDotEnv([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error shows the value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestResolveDevConfigPrecedence: flags over the environment over .env over
// the data directory, each value labelled with its source.
func TestResolveDevConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "app.pem")
	writeFile(t, key, "-----BEGIN RSA PRIVATE KEY-----\n")
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(data, clientSecretFile), "from-file")
	dotenv := filepath.Join(dir, "my.env")
	writeFile(t, dotenv, "APP_ID=1\nGITHUB_ORG=dotenv-org\nBOT_HANDLE=dotenv-bot\nPRIVATE_KEY_PATH="+key+"\nWEBHOOK_SECRET=dotenv-secret\nTYPO_NAME=x\n")
	environ := map[string]string{"APP_ID": "2", "GITHUB_ORG": "env-org", "GITHUB_URL": ""}
	cfg, err := resolveDevConfig(devConfigInput{
		Flags:   map[string]string{"APP_ID": "3"},
		Lookup:  func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
		EnvFile: dotenv, EnvFileRequired: true, DataDir: data,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, value, source string }{
		{"APP_ID", "3", fromFlag},
		{"GITHUB_ORG", "env-org", fromEnv},
		{"BOT_HANDLE", "dotenv-bot", fromDotEnv},
		{"PRIVATE_KEY_PATH", key, fromDotEnv},
		{"WEBHOOK_SECRET", "dotenv-secret", fromDotEnv},
		{"GITHUB_CLIENT_SECRET", "", fromDataDir}, // read by the OAuth part from the file
		{"GITHUB_URL", "", ""},                    // set but empty in the environment: unset
	} {
		if v := cfg.Lookup(tc.name); v.Value != tc.value || v.Source != tc.source {
			t.Errorf("%s = %q from %q, want %q from %q", tc.name, v.Value, v.Source, tc.value, tc.source)
		}
	}
	if !cfg.HasApp() || strings.Join(cfg.Ignored, ",") != "TYPO_NAME" {
		t.Fatalf("HasApp %v, ignored %v", cfg.HasApp(), cfg.Ignored)
	}
	cfg.applyDefaults("http://127.0.0.1:3000")
	if v := cfg.Lookup("PUBLIC_URL"); v.Value != "http://127.0.0.1:3000" || v.Source != fromDefault {
		t.Fatalf("PUBLIC_URL %+v", v)
	}
}

func TestResolveDevConfigDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env here
	cfg, err := resolveDevConfig(devConfigInput{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HasApp() || cfg.EnvFile != "" || cfg.Get("BOT_HANDLE") != "ai3-mvp" {
		t.Fatalf("defaults: app %v, env file %q, bot %q", cfg.HasApp(), cfg.EnvFile, cfg.Get("BOT_HANDLE"))
	}
	if v := cfg.Lookup("WEBHOOK_SECRET"); v.Source != fromDataDir || !strings.Contains(v.Detail, "created at start") {
		t.Fatalf("WEBHOOK_SECRET %+v: want a new data-directory secret", v)
	}
	// A public URL moves the OAuth callback under it.
	cfg, err = resolveDevConfig(devConfigInput{Flags: map[string]string{"PUBLIC_URL": "https://ai3.example.com/"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.applyDefaults("http://127.0.0.1:3000")
	if cfg.PublicURL() != "https://ai3.example.com" || cfg.Get("AI3_OAUTH_REDIRECT_URL") != "https://ai3.example.com/oauth/callback" {
		t.Fatalf("public %q, redirect %q", cfg.PublicURL(), cfg.Get("AI3_OAUTH_REDIRECT_URL"))
	}
}

// TestResolveDevConfigRefuses: a value that cannot work stops the start,
// naming the setting and where it came from.
func TestResolveDevConfigRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		in    devConfigInput
		wants []string
	}{
		{"app id", devConfigInput{Flags: map[string]string{"APP_ID": "my-app"}}, []string{"APP_ID (from flag --app-id)", "numeric id"}},
		{"key path", devConfigInput{Lookup: lookupOf(map[string]string{"PRIVATE_KEY_PATH": filepath.Join(dir, "none.pem")})},
			[]string{"PRIVATE_KEY_PATH (from environment)", "cannot be read"}},
		{"public url", devConfigInput{Flags: map[string]string{"PUBLIC_URL": "ai3.example.com"}}, []string{"PUBLIC_URL", "http(s) URL"}},
		{"ghe host", devConfigInput{Flags: map[string]string{"GHE_HOST": "https://ghe.example.com"}}, []string{"GHE_HOST", "host name only"}},
		{"missing env file", devConfigInput{EnvFile: filepath.Join(dir, "nope.env"), EnvFileRequired: true}, []string{"nope.env"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveDevConfig(tc.in)
			for _, w := range tc.wants {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("err %v, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestDevSummaryNeverPrintsSecrets: the summary says a secret is set and
// where from, never what it is, and with a real App and no public address
// it says how to receive webhooks.
func TestDevSummaryNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "app.pem")
	writeFile(t, key, "-----BEGIN RSA PRIVATE KEY-----\n")
	dotenv := filepath.Join(dir, ".env")
	writeFile(t, dotenv, "GITHUB_CLIENT_SECRET='client-s3cret-value'\n")
	cfg, err := resolveDevConfig(devConfigInput{
		Lookup: lookupOf(map[string]string{"WEBHOOK_SECRET": "hook-s3cret-value", "APP_ID": "42", "PRIVATE_KEY_PATH": key,
			"GITHUB_CLIENT_ID": "Iv1.abc"}),
		EnvFile: dotenv, Addr: "127.0.0.1:3000", DataDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.applyDefaults("http://127.0.0.1:3000")
	var out bytes.Buffer
	cfg.printSummary(&out, false)
	s := out.String()
	for _, secret := range []string{"hook-s3cret-value", "client-s3cret-value", "s3cret"} {
		if strings.Contains(s, secret) {
			t.Fatalf("the summary prints a secret:\n%s", s)
		}
	}
	for _, want := range []*summaryRow{
		{"WEBHOOK_SECRET", "set", "environment"},
		{"GITHUB_CLIENT_SECRET", "set", ".env (" + dotenv + ")"},
		{"APP_ID", "42", "environment"},
		{"GITHUB_CLIENT_ID", "Iv1.abc", "environment"},
		{"PUBLIC_URL", "http://127.0.0.1:3000", "default (the listening address)"},
	} {
		if !want.in(s) {
			t.Errorf("summary lacks %s = %s from %s:\n%s", want.name, want.value, want.source, s)
		}
	}
	for _, want := range []string{"GitHub cannot reach http://127.0.0.1:3000", "cloudflared", "ssh -R", "--public-url"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	// With a public URL, no tunnel advice.
	cfg.set("PUBLIC_URL", devValue{Value: "https://ai3.example.com", Source: fromFlag})
	out.Reset()
	cfg.printSummary(&out, false)
	if strings.Contains(out.String(), "cloudflared") {
		t.Fatalf("tunnel advice with a public URL:\n%s", out.String())
	}
}

// TestDevHelpListsEverySetting: `ai3 dev --help` names each variable once.
func TestDevHelpListsEverySetting(t *testing.T) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"dev", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, s := range devSettings() {
		lines := 0
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), s.Name+" ") {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%s is on %d lines of --help, want 1:\n%s", s.Name, lines, out.String())
		}
	}
	for _, f := range []string{"--env-file", "--public-url", "--sandbox"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help lacks %s", f)
		}
	}
}

// summaryRow is one row of the summary: name, shown value, source.
type summaryRow struct{ name, value, source string }

func (r *summaryRow) in(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == r.name && f[1] == r.value && strings.Join(f[2:], " ") == r.source {
			return true
		}
	}
	return false
}

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
