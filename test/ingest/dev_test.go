package ingest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// devServer is one run of the real `ai3 dev` binary, with the webhook
// posting the ingest tests need.
type devServer struct{ *testenv.Dev }

func buildAI3(t *testing.T) string { return testenv.BuildAI3(t) }

func startDev(t *testing.T, bin, dataDir string, env ...string) *devServer {
	t.Helper()
	return &devServer{testenv.StartDev(t, bin, dataDir, env...)}
}

func (d *devServer) post(t *testing.T, id string, key, body []byte) int {
	t.Helper()
	return d.postEvent(t, "issues", id, key, body)
}

func (d *devServer) postEvent(t *testing.T, event, id string, key, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.Addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(key, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitLogged waits until every delivery id has an "event received" line from
// the stub in logs().
func waitLogged(t *testing.T, logs func() string, ids []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		seen := map[string]bool{}
		for _, line := range strings.Split(logs(), "\n") {
			if !strings.Contains(line, `msg="event received"`) || !strings.Contains(line, " event=issues") {
				continue
			}
			if m := regexp.MustCompile(` delivery_id=(\S+)`).FindStringSubmatch(line); m != nil {
				seen[m[1]] = true
			}
		}
		missing := 0
		for _, id := range ids {
			if !seen[id] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries never reached the stub; logs:\n%s", missing, len(ids), logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDevServer runs the real `ai3 dev`: the secret file is created 0600 and
// printed once, deliveries reach the stub, /healthz answers, deliveries
// acknowledged before a SIGKILL are still handled after the restart, and
// WEBHOOK_SECRET replaces the file when set.
func TestDevServer(t *testing.T) {
	bin := buildAI3(t)
	data := t.TempDir()
	body := []byte(`{"action":"opened","repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"}}`)

	first := startDev(t, bin, data)
	m := regexp.MustCompile(`webhook secret: a new random secret was saved \(mode 0600\) in (\S+);`).FindStringSubmatch(first.Stdout.String())
	if m == nil {
		t.Fatalf("first run did not say where the new secret is:\n%s", first.Stdout)
	}
	info, err := os.Stat(filepath.Join(data, "webhook-secret"))
	if err != nil || info.Mode().Perm() != 0o600 || m[1] != filepath.Join(data, "webhook-secret") {
		t.Fatalf("secret file %s: %v %v", m[1], info.Mode(), err)
	}
	key, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	key = bytes.TrimSpace(key)
	if strings.Contains(first.Stdout.String()+first.Stderr.String(), string(key)) {
		t.Fatal("ai3 dev printed the webhook secret")
	}
	if st := first.post(t, "dev-1", key, body); st != 200 {
		t.Fatalf("signed delivery: %d", st)
	}
	if st := first.post(t, "dev-2", []byte("wrong"), body); st != 401 {
		t.Fatalf("wrongly signed delivery: %d", st)
	}
	waitLogged(t, first.Stderr.String, []string{"dev-1"})
	resp, err := http.Get("http://" + first.Addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// Acknowledged deliveries survive a crash right after the 200s.
	var ids []string
	for i := range 20 {
		id := fmt.Sprint("crash-", i)
		ids = append(ids, id)
		if st := first.post(t, id, key, body); st != 200 {
			t.Fatalf("%s: %d", id, st)
		}
	}
	if err := first.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Cmd.Wait()

	second := startDev(t, bin, data)
	if strings.Contains(second.Stdout.String(), "new random secret") {
		t.Fatalf("a new secret was announced on restart:\n%s", second.Stdout)
	}
	waitLogged(t, func() string { return first.Stderr.String() + second.Stderr.String() }, ids)
	if st := second.post(t, "dev-1", key, body); st != 200 {
		t.Fatalf("redelivery after restart: %d", st)
	}
	if err := second.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := second.Cmd.Wait(); err != nil {
		t.Fatalf("ai3 dev did not stop cleanly on SIGINT: %v\n%s", err, second.Stderr)
	}

	// `ai3 payloads` finds every accepted payload (those acknowledged
	// before the SIGKILL too), byte for byte, and nothing refused.
	out, err := exec.Command(bin, "payloads", "list", "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("ai3 payloads list: %v\n%s", err, out)
	}
	keys := strings.Fields(string(out))
	for _, id := range append([]string{"dev-1"}, ids...) {
		i := slices.IndexFunc(keys, func(k string) bool { return strings.HasSuffix(k, "/issues/1/"+id+".json") })
		if i < 0 {
			t.Fatalf("ai3 payloads list does not show %s:\n%s", id, out)
		}
		got, err := exec.Command(bin, "payloads", "get", keys[i], "--data", data).Output()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("ai3 payloads get %s = %q, %v; want the payload", keys[i], got, err)
		}
	}
	if len(keys) != 1+len(ids) {
		t.Fatalf("ai3 payloads list shows %d payloads, want %d (the refused one not among them):\n%s", len(keys), 1+len(ids), out)
	}

	third := startDev(t, bin, data, "WEBHOOK_SECRET=from-the-environment")
	if st := third.post(t, "env-1", []byte("from-the-environment"), body); st != 200 {
		t.Fatalf("delivery signed with WEBHOOK_SECRET: %d", st)
	}
	if st := third.post(t, "env-2", key, body); st != 401 {
		t.Fatalf("delivery signed with the file secret while WEBHOOK_SECRET is set: %d", st)
	}
}

// heldGitHub is a GitHub API that holds every request until the test ends
// (hold true), or answers 404 at once; it records what it was asked.
type heldGitHub struct {
	srv  *httptest.Server
	hold atomic.Bool
	mu   sync.Mutex
	got  []string
	seen chan string
}

func newHeldGitHub(t *testing.T) *heldGitHub {
	g := &heldGitHub{seen: make(chan string, 100)}
	release := make(chan struct{})
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := r.Method + " " + r.URL.Path
		g.mu.Lock()
		g.got = append(g.got, req)
		g.mu.Unlock()
		select {
		case g.seen <- req:
		default:
		}
		if g.hold.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(func() { close(release); g.srv.Close() })
	return g
}

// TestDevServerKillWhileHandlerHeld: a delivery acknowledged with 200 whose
// handler is still running (held on a GitHub call) when `ai3 dev` is killed
// with SIGKILL is handled again after the restart: at-least-once survives a
// crash in the middle of the handler, not only after it.
func TestDevServerKillWhileHandlerHeld(t *testing.T) {
	bin := buildAI3(t)
	data := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(data, "app.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	gh := newHeldGitHub(t)
	gh.hold.Store(true)
	env := []string{"WEBHOOK_SECRET=held-secret", "APP_ID=1", "PRIVATE_KEY_PATH=" + keyPath, "GITHUB_API_URL=" + gh.srv.URL + "/",
		"GITHUB_ORG=acme", "BOT_HANDLE=ai3-mvp"}
	body := []byte(`{"action":"created","installation":{"id":42},` +
		`"repository":{"full_name":"acme/widgets","name":"widgets","owner":{"login":"acme"}},` +
		`"issue":{"number":1,"title":"t","user":{"login":"octocat","id":7}},` +
		`"comment":{"id":9001,"body":"@ai3-mvp run ci","user":{"login":"octocat","id":7,"type":"User"}},` +
		`"sender":{"login":"octocat","id":7,"type":"User"}}`)

	first := startDev(t, bin, data, env...)
	if st := first.postEvent(t, "issue_comment", "held-1", []byte("held-secret"), body); st != 200 {
		t.Fatalf("delivery: %d\n%s", st, first.Stderr)
	}
	select {
	case req := <-gh.seen: // the handler is now inside a GitHub call that never returns
		t.Logf("handler held on %s", req)
	case <-time.After(20 * time.Second):
		t.Fatalf("the comment handler never called GitHub; logs:\n%s", first.Stderr)
	}
	if err := first.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Cmd.Wait()
	gh.mu.Lock()
	before := len(gh.got)
	gh.mu.Unlock()

	gh.hold.Store(false)
	second := startDev(t, bin, data, env...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		gh.mu.Lock()
		after := len(gh.got)
		gh.mu.Unlock()
		if after > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the held delivery's handler never ran again; logs:\n%s", second.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	gh.mu.Lock()
	again := gh.got[before]
	gh.mu.Unlock()
	if again != "POST /app/installations/42/access_tokens" { // the installation of held-1's payload
		t.Fatalf("after the restart GitHub was asked %q, want held-1's handler asking for its installation's token", again)
	}
}
