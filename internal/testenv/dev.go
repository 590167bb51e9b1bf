package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// BuildAI3 builds ./cmd/ai3 once per test binary and returns its path.
func BuildAI3(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ai3-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "ai3")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/ai3")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ai3: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// Dev is one run of the real `ai3 dev` binary on 127.0.0.1.
type Dev struct {
	Cmd    *exec.Cmd
	Addr   string // host:port
	URL    string // http://host:port
	Stdout *SyncBuffer
	Stderr *SyncBuffer
	once   sync.Once
}

// StartDev runs `ai3 dev --addr 127.0.0.1:PORT --data dataDir` with the test
// process's environment less WEBHOOK_SECRET, GITHUB_*, APP_ID and
// PRIVATE_KEY_PATH, plus env; it waits until the server listens and kills it
// when the test ends.
func StartDev(t testing.TB, bin, dataDir string, env ...string) *Dev {
	t.Helper()
	return StartDevAt(t, bin, dataDir, fmt.Sprintf("127.0.0.1:%d", FreePort(t)), env...)
}

// StartDevAt is StartDev on a given address (host:port): a restart on the
// same data directory listens where the first run did, as an operator's
// would.
func StartDevAt(t testing.TB, bin, dataDir, addr string, env ...string) *Dev {
	t.Helper()
	d := &Dev{Addr: addr, Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}}
	d.URL = "http://" + d.Addr
	d.Cmd = exec.Command(bin, "dev", "--addr", d.Addr, "--data", dataDir)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "WEBHOOK_SECRET" && !strings.HasPrefix(name, "GITHUB_") && name != "APP_ID" && name != "PRIVATE_KEY_PATH" {
			d.Cmd.Env = append(d.Cmd.Env, kv)
		}
	}
	d.Cmd.Env = append(d.Cmd.Env, env...)
	d.Cmd.Stdout, d.Cmd.Stderr = d.Stdout, d.Stderr
	if err := d.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Kill)
	// The port listens before the parts mount; the last start-up line says
	// the server is serving.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(d.Stdout.String(), "ai3 dev listening on") {
		if time.Now().After(deadline) || d.Cmd.ProcessState != nil {
			t.Fatalf("ai3 dev did not start within 60 s\nstdout:\n%s\nstderr:\n%s", d.Stdout, d.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d
}

// Kill ends the process with SIGKILL (kill -9: no shutdown, nothing
// flushed) and waits for it; calling it again does nothing.
func (d *Dev) Kill() {
	d.once.Do(func() { _ = d.Cmd.Process.Kill(); _ = d.Cmd.Wait() })
}

// PID is the process id of the server.
func (d *Dev) PID() int { return d.Cmd.Process.Pid }

// Logs returns what the server printed so far (stdout, then stderr).
func (d *Dev) Logs() string { return d.Stdout.String() + d.Stderr.String() }

// JSON sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (when not nil); it returns the status code.
func (d *Dev) JSON(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s answered %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}
