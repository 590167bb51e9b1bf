package events

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// Every payload of @octokit/webhooks-examples (github.com and each GHES
// version) becomes an envelope whose summary fields match encoding/json's
// reading, and survives Encode/Decode with its payload byte for byte.
func TestOctokitExamples(t *testing.T) {
	dir := testenv.NodePackageDir(t, "@octokit/webhooks-examples")
	indexes, err := filepath.Glob(filepath.Join(dir, "*", "index.json"))
	if err != nil || len(indexes) == 0 {
		t.Fatalf("no example indexes under %s (%v)", dir, err)
	}
	n := 0
	for _, index := range indexes {
		raw, err := os.ReadFile(index)
		if err != nil {
			t.Fatal(err)
		}
		var groups []struct {
			Name     string            `json:"name"`
			Examples []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(raw, &groups); err != nil {
			t.Fatalf("%s: %v", index, err)
		}
		for _, g := range groups {
			for _, ex := range g.Examples {
				n++
				checkAgainstEncodingJSON(t, ex)
				env, err := NewEnvelope(Delivery{ID: "d", Event: g.Name, HookID: "1", ReceivedAt: time.Now(), Body: ex}, Ref{Bucket: "b", Key: "k"})
				if err != nil {
					t.Fatalf("%s example: %v", g.Name, err)
				}
				wire, err := Encode(env)
				if err != nil {
					t.Fatal(err)
				}
				back, err := Decode(wire)
				if err != nil || string(back.Payload) != string(ex) || back.Event != g.Name {
					t.Fatalf("%s example did not survive Encode/Decode: %v", g.Name, err)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d examples found", n)
	}
	t.Logf("%d example payloads", n)
}
