package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// WebhookExample is one payload of npm @octokit/webhooks-examples: real
// webhook bodies GitHub sent, with their event name.
type WebhookExample struct {
	Event string
	Body  []byte
}

// OctokitExamples reads every payload of @octokit/webhooks-examples
// (api.github.com/index.json) from test/tools/node_modules; it skips the
// test, or fails it under CI, when the package is not installed.
func OctokitExamples(t testing.TB) []WebhookExample {
	t.Helper()
	dir := NodePackageDir(t, "@octokit/webhooks-examples")
	raw, err := os.ReadFile(filepath.Join(dir, "api.github.com", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &groups); err != nil {
		t.Fatal(err)
	}
	var out []WebhookExample
	for _, g := range groups {
		for _, ex := range g.Examples {
			out = append(out, WebhookExample{Event: g.Name, Body: ex})
		}
	}
	if len(out) < 300 {
		t.Fatalf("found %d examples; has the package layout changed?", len(out))
	}
	return out
}
