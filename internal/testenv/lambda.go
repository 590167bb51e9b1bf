package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// LambdaSpec says which Lambda main package to run under aws-lambda-rie and
// with what environment.
type LambdaSpec struct {
	// Package is the main package to build, as `go build` takes it ("." for
	// the test's own directory, or a relative path such as "../oauth-login").
	Package string
	// Env is added to the function's environment.
	Env []string
	// Isolated starts the function with only PATH and HOME (a temporary
	// folder) besides Env, so nothing from the test's own environment (AWS
	// profiles, credentials, secrets) can reach it.
	Isolated bool
}

// Lambda is a Lambda function running under aws-lambda-rie for one test.
type Lambda struct {
	endpoint string
	logs     *SyncBuffer
	invokes  atomic.Int64 // invocations answered so far
}

// StartLambda builds spec.Package and runs it under aws-lambda-rie on
// 127.0.0.1 until the test ends. It skips (or fails under CI) when the
// emulator is not installed.
func StartLambda(t testing.TB, spec LambdaSpec) *Lambda {
	t.Helper()
	rie := ToolBin(t, "aws-lambda-rie")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	// static, as a Lambda on the provided.al2023 runtime is built
	build := exec.Command("go", "build", "-o", bin, spec.Package)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", spec.Package, err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", FreePort(t)), bin)
	base := os.Environ()
	if spec.Isolated {
		base = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	}
	cmd.Env = append(base, spec.Env...)
	logs := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := WaitTCP(addr, 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	return &Lambda{endpoint: "http://" + addr, logs: logs}
}

// Endpoint is the emulator's base URL, for an AWS SDK Lambda client
// (the function's name there is "function").
func (f *Lambda) Endpoint() string { return f.endpoint }

// Invoke sends event and returns the function's answer: its result, or the
// runtime's {"errorMessage":…} document when the handler failed. It returns
// once the function's output for this invocation has reached Logs.
func (f *Lambda) Invoke(t testing.TB, event []byte) []byte {
	t.Helper()
	resp, err := http.Post(f.endpoint+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatalf("invoke: %v\nlogs:\n%s", err, f.Logs())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	f.awaitReport(int(f.invokes.Add(1)), 5*time.Second)
	return body
}

// awaitReport waits until the emulator's n-th REPORT line is in the logs.
// The emulator prints it before it answers, after the function wrote its
// own lines into the same pipe, so the function's output is complete then;
// but our copy of the pipe may still lag behind the answer. A function that
// crashed gets no REPORT line: then this gives up after timeout.
func (f *Lambda) awaitReport(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for strings.Count(f.Logs(), "REPORT RequestId:") < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// Logs returns everything the function and the emulator printed so far.
func (f *Lambda) Logs() string { return f.logs.String() }

// JSONLines returns the printed lines that are JSON objects (the function's
// logs and EMF metrics; the emulator's own lines are plain text).
func (f *Lambda) JSONLines() []string {
	var out []string
	for _, l := range strings.Split(f.Logs(), "\n") {
		if strings.HasPrefix(l, "{") {
			out = append(out, l)
		}
	}
	return out
}
