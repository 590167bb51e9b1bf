package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// devServer is one run of the real `ai3 dev` binary.
type devServer struct {
	cmd    *exec.Cmd
	addr   string
	stdout *syncBuf
	stderr *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func buildAI3(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ai3")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ai3")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ai3: %v\n%s", err, out)
	}
	return bin
}

func startDev(t *testing.T, bin, dataDir string, env ...string) *devServer {
	t.Helper()
	d := &devServer{addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), stdout: &syncBuf{}, stderr: &syncBuf{}}
	d.cmd = exec.Command(bin, "dev", "--addr", d.addr, "--data", dataDir)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBHOOK_SECRET=") && !strings.HasPrefix(kv, "GITHUB_") {
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	d.cmd.Env = append(d.cmd.Env, env...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.cmd.Process.Kill(); _ = d.cmd.Wait() })
	if err := testenv.WaitTCP(d.addr, 20*time.Second); err != nil {
		t.Fatalf("ai3 dev: %v\nstdout:\n%s\nstderr:\n%s", err, d.stdout, d.stderr)
	}
	return d
}

func (d *devServer) post(t *testing.T, id string, key, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issues")
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
	m := regexp.MustCompile(`webhook secret: a new random secret was saved \(mode 0600\) in (\S+);`).FindStringSubmatch(first.stdout.String())
	if m == nil {
		t.Fatalf("first run did not say where the new secret is:\n%s", first.stdout)
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
	if strings.Contains(first.stdout.String()+first.stderr.String(), string(key)) {
		t.Fatal("ai3 dev printed the webhook secret")
	}
	if st := first.post(t, "dev-1", key, body); st != 200 {
		t.Fatalf("signed delivery: %d", st)
	}
	if st := first.post(t, "dev-2", []byte("wrong"), body); st != 401 {
		t.Fatalf("wrongly signed delivery: %d", st)
	}
	waitLogged(t, first.stderr.String, []string{"dev-1"})
	resp, err := http.Get("http://" + first.addr + "/healthz")
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
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	second := startDev(t, bin, data)
	if strings.Contains(second.stdout.String(), "new random secret") {
		t.Fatalf("a new secret was announced on restart:\n%s", second.stdout)
	}
	waitLogged(t, func() string { return first.stderr.String() + second.stderr.String() }, ids)
	if st := second.post(t, "dev-1", key, body); st != 200 {
		t.Fatalf("redelivery after restart: %d", st)
	}
	if err := second.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("ai3 dev did not stop cleanly on SIGINT: %v\n%s", err, second.stderr)
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
