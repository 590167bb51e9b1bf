package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runAI3 runs the command tree with args and returns its output and error.
func runAI3(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// `ai3 payloads` refuses a directory without `ai3 dev` data (and creates
// nothing there), a key that is not an archive key, and a missing payload.
func TestPayloadsCommandErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := runAI3(t, "payloads", "list", "--data", empty); err == nil || !strings.Contains(err.Error(), "no `ai3 dev` data") {
		t.Fatalf("list on an empty directory: %v", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatalf("list created %d entries in the empty directory", len(entries))
	}
	if _, err := runAI3(t, "payloads", "get", "../../etc/passwd", "--data", empty); err == nil {
		t.Fatal("get accepted a key outside the archive")
	}

	// A data directory with a database but no such payload.
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "ai3.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runAI3(t, "payloads", "get", "2026/11/28/push/none.json", "--data", data); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("get of a missing payload: %v", err)
	}
	if out, err := runAI3(t, "payloads", "list", "--data", data); err != nil || out != "" {
		t.Fatalf("list of an empty archive = %q, %v", out, err)
	}
}
