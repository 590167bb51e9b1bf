// Package rietest runs a Lambda main package under aws-lambda-rie for a
// test: it builds the package in the current directory, starts the emulator
// with the given environment, and invokes the function with raw JSON events.
package rietest

import (
	"bytes"
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

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// Function is a Lambda running under the emulator.
type Function struct {
	url  string
	logs *lockedBuffer
}

// Start builds the main package in the test's working directory and runs it
// under aws-lambda-rie with env added to the environment. The emulator is
// stopped when the test ends. Skips (or fails under CI) when the emulator is
// not installed.
func Start(t *testing.T, env ...string) *Function {
	t.Helper()
	rie := testenv.ToolBin(t, "aws-lambda-rie")
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	port, apiPort := testenv.FreePort(t), testenv.FreePort(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), bin)
	cmd.Env = append(os.Environ(), env...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := testenv.WaitTCP(fmt.Sprintf("127.0.0.1:%d", port), 15*time.Second); err != nil {
		t.Fatal(err)
	}
	return &Function{url: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port), logs: logs}
}

// Invoke sends event and returns the function's answer (its result, or the
// runtime's {"errorMessage":...} document when the handler failed).
func (f *Function) Invoke(t *testing.T, event []byte) []byte {
	t.Helper()
	resp, err := http.Post(f.url, "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatalf("invoke: %v\nlogs:\n%s", err, f.Logs())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// Logs returns everything the function and the emulator printed so far.
func (f *Function) Logs() string { return f.logs.String() }

// JSONLines returns the printed lines that are JSON objects (the function's
// logs and EMF metrics; the emulator's own lines are plain text).
func (f *Function) JSONLines() []string {
	var out []string
	for _, l := range strings.Split(f.Logs(), "\n") {
		if strings.HasPrefix(l, "{") {
			out = append(out, l)
		}
	}
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
