package sandbox_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

// TestFaultDelay: a fault with a delay and no status is a slow GitHub — the
// real answer comes after the delay and the write happens; with a status,
// the injected answer comes after the delay and nothing changes. A negative
// delay, or neither status nor delay, is refused.
func TestFaultDelay(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	tok := r.userToken("alice")
	path := fmt.Sprintf("repos/%s/issues/%d/comments", repo, n)
	const delay = 300 * time.Millisecond
	if err := r.sb.FailNext("POST", "/api/v3/repos/*/*/issues/*/comments", 1, sandbox.Fault{Delay: delay}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if res := r.do("POST", path, tok, map[string]string{"body": "slow"}); res.status != 201 || time.Since(start) < delay {
		t.Fatalf("delayed write answered %d after %s, want 201 after at least %s", res.status, time.Since(start), delay)
	}
	if len(r.sb.Writes()) != 1 {
		t.Fatalf("the delayed write was not made: %d writes", len(r.sb.Writes()))
	}
	if err := r.sb.FailNext("POST", "/api/v3/repos/*/*/issues/*/comments", 1, sandbox.Fault{Status: 502, Delay: delay}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if res := r.do("POST", path, tok, map[string]string{"body": "x"}); res.status != 502 || time.Since(start) < delay {
		t.Fatalf("delayed fault answered %d after %s", res.status, time.Since(start))
	}
	if len(r.sb.Writes()) != 1 {
		t.Fatal("a delayed failure changed something")
	}
	for _, f := range []sandbox.Fault{{Delay: -time.Second}, {}} {
		if err := r.sb.FailNext("GET", "/x", 1, f); err == nil {
			t.Errorf("fault %+v was accepted", f)
		}
	}
}
