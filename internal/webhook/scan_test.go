package webhook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// checkAgainstDecoder holds the fast scanner to events.NewEnvelope (the
// reference): whatever the scanner accepts, the decoder accepts with the same
// summary; whatever it rejects as invalid, the decoder rejects too.
func checkAgainstDecoder(t *testing.T, body []byte) {
	t.Helper()
	d := events.Delivery{ID: "d", Event: "e", HookID: "1", ReceivedAt: time.Unix(0, 0), Body: body}
	want, refErr := events.NewEnvelope(d, events.Ref{Key: "k"})
	got, err := scanPayload(body)
	switch {
	case errors.Is(err, errUnusual):
		// Deferred to the decoder: nothing to compare.
	case err != nil:
		if refErr == nil {
			t.Fatalf("scanner rejected %q (%v) but encoding/json accepts it", clip(body), err)
		}
	case refErr != nil:
		t.Fatalf("scanner accepted %q but encoding/json rejects it: %v", clip(body), refErr)
	default:
		ref := summary{want.Action, want.InstallationID, want.Repository, want.Sender}
		if got != ref {
			t.Fatalf("scanner summary %+v, encoding/json %+v for %q", got, ref, clip(body))
		}
	}
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

func TestScanAgreesWithDecoder(t *testing.T) {
	cases := []string{
		`{}`, ` {"action":"opened"} `, `{"action":null}`, `{"action":7}`, `{"Action":"x"}`, `{"action":"a","action":"b"}`,
		`{"act\u0069on":"x"}`, `{"action":"caf\u00e9"}`, `{"installation":{"id":12345678901}}`, `{"installation":{"id":1.5}}`,
		`{"installation":{"id":1e3}}`, `{"installation":{"id":99999999999999999999}}`, `{"installation":{"id":-3}}`,
		`{"installation":null}`, `{"installation":"x"}`, `{"installation":{"ID":4}}`, `{"installation":{"id":"4"}}`,
		`{"repository":{"full_name":"a/b","owner":{"login":"a"}}}`, `{"repository":{"full_name":null}}`,
		`{"sender":{"login":"octocat","id":1}}`, `{"sender":[]}`, `{"a":[1,2,{"b":[true,false,null]}],"c":-0.5e+7}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":tru}`,
		`{"a":1,}`, `{,}`, `{"a"}`, `{"a":1 "b":2}`, `[{}]`, `{} x`, `{"a":[1,]}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\xfe\"}",
		`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		`{"a":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`,
	}
	for _, c := range cases {
		checkAgainstDecoder(t, []byte(c))
	}
}

// TestScanAgreesOnGitHubExamples runs the scanner over every payload of the
// @octokit/webhooks-examples package: none may be deferred, and each summary
// must equal encoding/json's.
func TestScanAgreesOnGitHubExamples(t *testing.T) {
	dir := testenv.NodePackageDir(t, "@octokit/webhooks-examples")
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
	n := 0
	for _, g := range groups {
		for _, ex := range g.Examples {
			n++
			if _, err := scanPayload(ex); err != nil {
				t.Errorf("%s example: scanner: %v", g.Name, err)
			}
			checkAgainstDecoder(t, ex)
		}
	}
	if n < 300 {
		t.Fatalf("only %d examples found; the package layout changed?", n)
	}
}

func FuzzScanPayload(f *testing.F) {
	for _, s := range []string{`{"action":"x","installation":{"id":1},"repository":{"full_name":"a/b"},"sender":{"login":"c"}}`, `{"a":[1,{"b":null}]}`, `{"x":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkAgainstDecoder(t, body) })
}
