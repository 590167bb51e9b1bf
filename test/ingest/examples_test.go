package ingest

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// example is one payload of @octokit/webhooks-examples.
type example = testenv.WebhookExample

func octokitExamples(t testing.TB) []example { return testenv.OctokitExamples(t) }

// Every example, signed, reaches the stub handler exactly once with its
// event name as detail-type and its payload intact.
func TestEveryGitHubExampleReachesTheStub(t *testing.T) {
	s := newStack(t, options{})
	exs := octokitExamples(t)
	client := &http.Client{Timeout: 30 * time.Second}
	for i, ex := range exs {
		id := fmt.Sprintf("ex-%04d", i)
		status, body := s.post(t, client, ex.Event, id, ex.Body, webhook.Sign(secret, ex.Body))
		if status != 200 {
			t.Fatalf("%s example %d: %d %s", ex.Event, i, status, body)
		}
	}
	got := s.stub.waitFor(t, len(exs), 60*time.Second)
	for i, ex := range exs {
		id := fmt.Sprintf("ex-%04d", i)
		g := got[id]
		if g.event != ex.Event || g.calls < 1 || !bytes.Equal(g.payload, ex.Body) {
			t.Errorf("%s example %d reached the stub as event %q after %d calls (payload equal: %v)", ex.Event, i, g.event, g.calls, bytes.Equal(g.payload, ex.Body))
		}
	}
	if n := s.count(t, "bus_events"); n != len(exs) {
		t.Errorf("the bus holds %d events, want %d", n, len(exs))
	}
}

// The same payloads with a corrupted signature are all refused with 401 and
// leave nothing stored: no claim, no archived file, no bus event.
func TestCorruptedSignaturesStoreNothing(t *testing.T) {
	s := newStack(t, options{})
	client := &http.Client{Timeout: 30 * time.Second}
	corruptions := []func(sig string, body []byte) string{
		func(sig string, _ []byte) string {
			return sig[:len(sig)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sig[len(sig)-1])+1)%16])
		},
		func(sig string, _ []byte) string { return strings.Replace(sig, "sha256=", "sha1=", 1) },
		func(_ string, body []byte) string { return webhook.Sign([]byte("not-the-secret"), body) },
		func(string, []byte) string { return "" },
	}
	for i, ex := range octokitExamples(t) {
		sig := corruptions[i%len(corruptions)](webhook.Sign(secret, ex.Body), ex.Body)
		if status, body := s.post(t, client, ex.Event, fmt.Sprintf("bad-%04d", i), ex.Body, sig); status != 401 {
			t.Fatalf("%s example %d with a corrupted signature: %d %s", ex.Event, i, status, body)
		}
	}
	time.Sleep(50 * time.Millisecond) // let any (wrong) delivery reach the stub
	if n := s.count(t, "webhook_claims"); n != 0 {
		t.Errorf("%d claims recorded for refused deliveries", n)
	}
	if n := s.count(t, "bus_events"); n != 0 {
		t.Errorf("%d bus events for refused deliveries", n)
	}
	if n := len(s.stub.snapshot()); n != 0 {
		t.Errorf("the stub saw %d refused deliveries", n)
	}
	if n := s.archived(t); n != 0 {
		t.Errorf("%d payloads archived for refused deliveries", n)
	}
}

// archived counts the payloads the archive holds: rows of its database
// tier and files.
func (s *stack) archived(t testing.TB) int {
	t.Helper()
	return s.count(t, "archive_payloads") + len(filesUnder(t, s.dir))
}

// filesUnder lists the payload files archived under dir (not temp files
// being written in its staging directory).
func filesUnder(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "payloads"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".staging" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

// Payloads over the inline limit travel by reference and reach the handler
// whole through events.Load; small ones travel inline. Up to 1 MiB they are
// archived in the database, beyond as files.
func TestLargePayloadsTravelByReference(t *testing.T) {
	s := newStack(t, options{})
	client := &http.Client{Timeout: 30 * time.Second}
	for i, tc := range []struct {
		id     string
		size   int
		inline bool
	}{{"small", 1 << 10, true}, {"over-limit", events.InlineLimit + 4<<10, false}, {"big", 5 << 20, false}} {
		body := payloadOfSize(tc.size)
		if status, resp := s.post(t, client, "push", tc.id, body, webhook.Sign(secret, body)); status != 200 {
			t.Fatalf("%s: %d %s", tc.id, status, resp)
		}
		got := s.stub.waitFor(t, i+1, 20*time.Second)[tc.id]
		if !bytes.Equal(got.payload, body) || got.complete != tc.inline {
			t.Fatalf("%s (%d bytes): handler got %d bytes, inline=%v; want the whole payload, inline=%v", tc.id, len(body), len(got.payload), got.complete, tc.inline)
		}
	}
	if rows, files := s.count(t, "archive_payloads"), len(filesUnder(t, s.dir)); rows != 2 || files != 1 {
		t.Errorf("archived as %d rows and %d files, want 2 rows (small, over-limit) and 1 file (big)", rows, files)
	}
}
