// Package testenv finds the external tools and shared data that tests use
// (npm tools, aws-lambda-rie, the shared ASL conformance cases) and starts
// the servers they need.
//
// A missing tool skips the test on a developer's machine, with a message that
// says how to install it, and fails it where CI=true, so CI can never pass by
// skipping.
package testenv

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test (developer machine) or fails it (CI) because a tool
// or data set it needs is absent.
func Missing(t testing.TB, what, howToFix string) {
	t.Helper()
	msg := fmt.Sprintf("%s is missing: %s", what, howToFix)
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// RepoRoot returns the repository's root folder (the one holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns ../shared beside the repository (design, conformance data).
func SharedDir() string {
	return filepath.Join(RepoRoot(), "..", "shared")
}

// ConformanceDir returns the folder of recorded AWS executions, or skips/fails
// the test when it is absent.
func ConformanceDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(SharedDir(), "asl-conformance", "cases")
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "../shared/asl-conformance/cases", "clone the shared folder beside the repository")
	}
	return dir
}

// NodeModules returns test/tools/node_modules, where `make tools` installs the
// npm packages the tests use.
func NodeModules() string {
	return filepath.Join(RepoRoot(), "test", "tools", "node_modules")
}

// NodeBin returns the path of an npm tool's executable, or skips/fails the test.
func NodeBin(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(NodeModules(), ".bin", name)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "npm tool "+name, "run `make tools`")
	}
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "node", "install Node.js")
	}
	return p
}

// NodePackageDir returns the folder of an installed npm package, or skips/fails the test.
func NodePackageDir(t testing.TB, pkg string) string {
	t.Helper()
	p := filepath.Join(NodeModules(), filepath.FromSlash(pkg))
	if _, err := os.Stat(p); err != nil {
		Missing(t, "npm package "+pkg, "run `make tools`")
	}
	return p
}

// ToolBin returns the path of a Go tool installed by `make tools` into .tools/bin
// (aws-lambda-rie, staticcheck), or skips/fails the test.
func ToolBin(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), ".tools", "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Missing(t, name, "run `make tools`")
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitTCP waits until addr accepts connections or the timeout passes.
func WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not accept connections within %s: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Dynalite starts a dynalite (DynamoDB API) server on 127.0.0.1 for the test
// and returns its endpoint URL. The server is stopped when the test ends.
func Dynalite(t testing.TB) string {
	t.Helper()
	bin := NodeBin(t, "dynalite")
	port := FreePort(t)
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dynalite: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := WaitTCP(addr, 15*time.Second); err != nil {
		t.Fatalf("dynalite: %v\n%s", err, out.String())
	}
	return "http://" + addr
}

// Clock is a settable time source for tests, safe for concurrent use: code
// under test reads Now, the test moves time with Advance.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t until advanced.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// CrashCopy copies the SQLite database at path and its log (-wal), as they
// are on disk now, to a new directory and returns the copy's path: what a
// restart after a crash finds (the shared-memory index is left behind, as
// a reboot loses it). The caller keeps writers out while it copies.
func CrashCopy(t testing.TB, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(path+suffix, dst+suffix); err != nil {
			t.Fatalf("crash copy of %s: %v", path, err)
		}
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// DynamoDB returns a DynamoDB client for a local endpoint (dynalite):
// us-east-1, static test credentials.
func DynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	})
}
