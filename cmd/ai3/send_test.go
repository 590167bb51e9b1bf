package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// TestCommentPayloadIsGitHubs: the issue_comment `ai3 send comment` builds
// validates against GitHub's webhook schema, on a pull request and an issue.
func TestCommentPayloadIsGitHubs(t *testing.T) {
	var cases []map[string]any
	for _, pr := range []bool{true, false} {
		body, err := commentPayload{Repo: "acme/app", Issue: 7, User: "alice", Body: "@ai3-mvp run checks", PR: pr,
			At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		issue := m["issue"].(map[string]any)
		if m["sender"].(map[string]any)["login"] != "alice" || m["comment"].(map[string]any)["body"] != "@ai3-mvp run checks" ||
			issue["number"] != float64(7) || (issue["pull_request"] != nil) != pr {
			t.Fatalf("payload (pr %v) lacks what the bot reads: %s", pr, body)
		}
		cases = append(cases, map[string]any{"name": map[bool]string{true: "pull", false: "issue"}[pr], "kind": "webhook",
			"event": "issue_comment", "body": json.RawMessage(body)})
	}
	for _, r := range validateWebhooks(t, cases) {
		if !r.OK {
			t.Errorf("%s: not GitHub's issue_comment (%s): %v", r.Name, r.Schema, r.Errors)
		}
	}
	if _, err := (commentPayload{Repo: "no-slash", Issue: 1}).JSON(); err == nil {
		t.Fatal("a repository without owner/ was accepted")
	}
}

type validation struct {
	Name, Schema string
	OK           bool
	Errors       []string
}

// validateWebhooks runs test/tools/validate-github.mjs over cases.
func validateWebhooks(t *testing.T, cases []map[string]any) []validation {
	t.Helper()
	for _, pkg := range []string{"@octokit/webhooks-schemas", "@octokit/openapi", "ajv", "ajv-formats"} {
		testenv.NodePackageDir(t, pkg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "install Node.js 20+")
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(cases)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join(testenv.RepoRoot(), "test", "tools", "validate-github.mjs"), file).Output()
	if err != nil {
		t.Fatalf("validate-github.mjs: %v", err)
	}
	var res []validation
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("validator answered %s (%v)", out, err)
	}
	return res
}

// TestSendEventSignsAsGitHub: `ai3 send event` posts the file's bytes with
// GitHub's headers, signed with the secret from the data directory; a
// receiver with another secret, a missing secret and a server that is not
// there each get an error that says what to do.
func TestSendEventSignsAsGitHub(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	t.Chdir(t.TempDir()) // no .env
	data := t.TempDir()
	writeFile(t, filepath.Join(data, "webhook-secret"), "current-secret\nold-secret\n")
	payload := filepath.Join(t.TempDir(), "ping.json")
	writeFile(t, payload, `{"zen":"Keep it simple.","hook_id":9}`)

	var got *http.Request
	var gotBody []byte
	accept := []byte("current-secret")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		got = r
		if r.URL.Path != "/webhook" || webhook.VerifySignature([][]byte{accept}, gotBody, r.Header.Get("X-Hub-Signature-256")) != nil {
			http.Error(w, `{"error":"signature"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()

	out, err := runCLI(t, "send", "event", "ping", "--payload", payload, "--server", srv.URL, "--data", data, "--delivery", "d-1")
	if err != nil {
		t.Fatalf("send event: %v\n%s", err, out)
	}
	if got.Header.Get("X-GitHub-Event") != "ping" || got.Header.Get("X-GitHub-Delivery") != "d-1" ||
		got.Header.Get("X-GitHub-Hook-ID") != "1" || !strings.HasPrefix(got.Header.Get("User-Agent"), "GitHub-Hookshot/") ||
		string(gotBody) != `{"zen":"Keep it simple.","hook_id":9}` {
		t.Fatalf("request %v body %s", got.Header, gotBody)
	}
	if !strings.Contains(out, `{"ok":true}`) || strings.Contains(out, "current-secret") {
		t.Fatalf("output %q: want the answer, never the secret", out)
	}

	accept = []byte("the-servers-other-secret")
	_, err = runCLI(t, "send", "event", "ping", "--payload", payload, "--server", srv.URL, "--data", data)
	if err == nil || !strings.Contains(err.Error(), "refused the signature") || !strings.Contains(err.Error(), "WEBHOOK_SECRET") {
		t.Fatalf("refused signature: %v", err)
	}
	_, err = runCLI(t, "send", "event", "ping", "--payload", payload, "--server", srv.URL, "--data", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no webhook secret") {
		t.Fatalf("missing secret: %v", err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err = runCLI(t, "send", "event", "ping", "--payload", payload, "--server", dead.URL, "--data", data)
	if err == nil || !strings.Contains(err.Error(), "cannot reach ai3 dev") || !strings.Contains(err.Error(), "is it running?") {
		t.Fatalf("unreachable server: %v", err)
	}
	writeFile(t, payload, `not json`)
	if _, err = runCLI(t, "send", "event", "ping", "--payload", payload, "--server", srv.URL, "--data", data); err == nil ||
		!strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("bad payload: %v", err)
	}
}

// TestSendCommentToAppServer: against ai3 dev with a real App configured
// (no sandbox), `ai3 send comment` signs GitHub's issue_comment with the
// server's secret; the receiver verifies and accepts it, and it is listed
// by GET /api/deliveries. With the wrong secret the receiver refuses it.
func TestSendCommentToAppServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ai3 dev")
	}
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "app.pem")
	writeFile(t, keyPath, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	unreachable := httptest.NewServer(http.NotFoundHandler()) // the App's GitHub: answers 404 to everything
	defer unreachable.Close()
	d := testenv.StartDev(t, testenv.BuildAI3(t), filepath.Join(dir, "data"), "APP_ID=77", "PRIVATE_KEY_PATH="+keyPath,
		"WEBHOOK_SECRET=app-mode-secret", "GITHUB_API_URL="+unreachable.URL+"/", "GITHUB_ORG=acme")
	if strings.Contains(d.Stdout.String(), "SANDBOX MODE") || !strings.Contains(d.Stdout.String(), "GitHub cannot reach") {
		t.Fatalf("want App mode with the tunnel advice:\n%s", d.Stdout)
	}
	if strings.Contains(d.Logs(), "app-mode-secret") {
		t.Fatalf("the server printed its webhook secret:\n%s", d.Logs())
	}

	t.Setenv("WEBHOOK_SECRET", "app-mode-secret")
	out, err := runCLI(t, "send", "comment", "--server", d.URL, "--repo", "acme/app", "--issue", "3", "--user", "alice", "hello @ai3-mvp")
	if err != nil || !strings.Contains(out, "sent issue_comment from alice on acme/app#3") || !strings.Contains(out, `"ok":true`) {
		t.Fatalf("send comment: %v\n%s\nserver:\n%s", err, out, d.Logs())
	}
	var list struct{ Deliveries []delivery }
	if code := d.JSON(t, "GET", "/api/deliveries?limit=5", nil, &list); code != 200 || len(list.Deliveries) != 1 {
		t.Fatalf("/api/deliveries: %d %+v", code, list)
	}
	if got := list.Deliveries[0]; got.Event != "issue_comment" || got.Action != "created" || got.Sender != "alice" ||
		got.Repository != "acme/app" || got.HookID != "1" || len(got.Handlers) == 0 {
		t.Fatalf("delivery %+v", got)
	}

	t.Setenv("WEBHOOK_SECRET", "not-the-servers")
	_, err = runCLI(t, "send", "comment", "--server", d.URL, "--repo", "acme/app", "--issue", "3", "--user", "alice", "hi")
	if err == nil || !strings.Contains(err.Error(), "refused the signature") {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := runCLI(t, "sandbox", "comments", "--server", d.URL, "--repo", "acme/app", "--issue", "3"); err == nil ||
		!strings.Contains(err.Error(), "not in sandbox mode") {
		t.Fatalf("sandbox comments on an App server: %v", err)
	}
}
