package sandbox_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

// receiver records deliveries; it answers each attempt with the next status
// of a script (200 once the script is used up).
type receiver struct {
	mu     sync.Mutex
	script []int
	got    []*http.Request
	bodies [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, b)
	status := 200
	if len(rc.script) > 0 {
		status, rc.script = rc.script[0], rc.script[1:]
	}
	rc.mu.Unlock()
	w.WriteHeader(status)
}

// TestHTTPSinkSignsLikeGitHub checks the headers and the signature of a
// delivery, and that 5xx answers are retried while 4xx answers are not.
func TestHTTPSinkSignsLikeGitHub(t *testing.T) {
	cases := []struct {
		name     string
		script   []int
		attempts int
	}{
		{"delivered at once", nil, 1},
		{"two 502s then delivered", []int{502, 503}, 3},
		{"gives up after four attempts", []int{500, 500, 500, 500, 500}, 4},
		{"a 400 is not retried", []int{400}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := &receiver{script: c.script}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			secret := []byte("webhook-secret")
			sink := &sandbox.HTTPSink{URL: srv.URL, Secret: secret, HookID: 9, AppID: 4242, Backoff: time.Millisecond}
			payload := []byte(`{"action":"created"}`)
			sink.Deliver(context.Background(), "issue_comment", "guid-1", payload)
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			if len(rc.got) != c.attempts {
				t.Fatalf("%d attempts, want %d", len(rc.got), c.attempts)
			}
			mac := hmac.New(sha256.New, secret)
			mac.Write(payload)
			r := rc.got[0]
			for h, want := range map[string]string{"X-GitHub-Event": "issue_comment", "X-GitHub-Delivery": "guid-1",
				"X-GitHub-Hook-ID": "9", "X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)),
				"Content-Type": "application/json", "X-GitHub-Hook-Installation-Target-ID": "4242"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if !strings.HasPrefix(r.Header.Get("User-Agent"), "GitHub-Hookshot/") || string(rc.bodies[0]) != string(payload) {
				t.Errorf("User-Agent %q, body %s", r.Header.Get("User-Agent"), rc.bodies[0])
			}
		})
	}
}

// TestHTTPSinkKeepsOrderPerKey checks that webhooks of one sequence arrive in
// the order they were handed over, even with many workers.
func TestHTTPSinkKeepsOrderPerKey(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sink := &sandbox.HTTPSink{URL: srv.URL, Secret: []byte("s"), Workers: 4}
	for i := range 50 {
		for _, key := range []string{"run/1", "run/2", "o/r#3"} {
			sink.Deliver(sandbox.WithOrderKey(context.Background(), key), "workflow_run", fmt.Sprint(i), []byte(fmt.Sprintf(`{"key":%q,"n":%d}`, key, i)))
		}
	}
	_ = sink.Close()
	last := map[string]int{}
	re := regexp.MustCompile(`"key":"([^"]+)","n":(\d+)`)
	for _, b := range rc.bodies {
		m := re.FindStringSubmatch(string(b))
		var n int
		fmt.Sscan(m[2], &n)
		if prev, ok := last[m[1]]; ok && n != prev+1 {
			t.Fatalf("%s: %d after %d", m[1], n, prev)
		}
		last[m[1]] = n
	}
	if len(rc.bodies) != 150 {
		t.Errorf("%d delivered, want 150", len(rc.bodies))
	}
}

// TestSandboxDeliversThroughHTTPSink wires the stand-in to a receiver as ai3
// dev does: a comment written through the API arrives as a signed webhook.
func TestSandboxDeliversThroughHTTPSink(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sink := &sandbox.HTTPSink{URL: srv.URL, Secret: []byte("s")}
	r := newRig(t, func(c *sandbox.Config) { c.Deliver = sink.Deliver })
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	r.do("POST", fmt.Sprintf("repos/%s/issues/%d/comments", repo, n), r.userToken("alice"), map[string]string{"body": "@ai3-mvp run checks"})
	_ = sink.Close()
	if len(rc.got) != 1 || rc.got[0].Header.Get("X-GitHub-Event") != "issue_comment" ||
		!regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(rc.got[0].Header.Get("X-GitHub-Delivery")) ||
		!strings.Contains(string(rc.bodies[0]), "@ai3-mvp run checks") {
		t.Fatalf("delivered: %d requests", len(rc.got))
	}
}

// TestFailNextInjectsGitHubErrors checks injected answers: they match by
// method and path, run out after n, and change nothing.
func TestFailNextInjectsGitHubErrors(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	tok := r.userToken("alice")
	path := fmt.Sprintf("repos/%s/issues/%d/comments", repo, n)
	if err := r.sb.FailNext("POST", "/api/v3/repos/*/*/issues/*/comments", 2, sandbox.Fault{Status: 502}); err != nil {
		t.Fatal(err)
	}
	if err := r.sb.FailNext("", "/api/v3/repos/*/*/issues/*", 1, sandbox.SecondaryRateLimit(60*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := r.sb.FailNext("GET", "[", 1, sandbox.Fault{Status: 500}); err == nil {
		t.Error("a bad pattern was accepted")
	}
	if err := r.sb.FailNext("GET", "/x", 1, sandbox.Fault{Status: 42}); err == nil {
		t.Error("a bad status was accepted")
	}
	if res := r.do("GET", path, tok, nil); res.status != 200 {
		t.Errorf("GET matched a POST fault: %d", res.status)
	}
	for i := range 2 {
		if res := r.do("POST", path, tok, map[string]string{"body": "x"}); res.status != 502 {
			t.Errorf("attempt %d: %d, want 502", i, res.status)
		}
	}
	if len(r.sb.Writes()) != 0 || len(r.webhooks()) != 0 {
		t.Error("a failed request changed something")
	}
	if res := r.do("POST", path, tok, map[string]string{"body": "x"}); res.status != 201 {
		t.Errorf("after the faults ran out: %d", res.status)
	}
	res := r.do("GET", fmt.Sprintf("repos/%s/issues/%d", repo, n), tok, nil)
	if res.status != 403 || res.header.Get("Retry-After") != "60" || !strings.Contains(res.obj()["message"].(string), "secondary rate limit") {
		t.Errorf("secondary rate limit: %d %s %s", res.status, res.header, res.raw)
	}
	if err := r.sb.FailNext("GET", "/api/v3/user", 1, sandbox.TooManyRequests(time.Second)); err != nil {
		t.Fatal(err)
	}
	if res := r.do("GET", "user", tok, nil); res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Errorf("429: %d %v", res.status, res.header)
	}
}
