package sandbox_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

// TestConcurrentWritesAreAllKept writes comments from many goroutines while
// runs advance, with persistence on, then reopens: every answered comment is
// there and every one produced exactly one webhook.
func TestConcurrentWritesAreAllKept(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, func(c *sandbox.Config) { c.DataDir = dir })
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	tok := r.userToken("alice")
	const workers, each = 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[any]bool{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res := r.do("POST", fmt.Sprintf("repos/%s/issues/%d/comments", repo, n), tok, map[string]string{"body": fmt.Sprint(w, "-", i)})
				if res.status != 201 {
					t.Errorf("comment: %d", res.status)
					return
				}
				mu.Lock()
				ids[res.obj()["id"]] = true
				mu.Unlock()
			}
			r.do("POST", "repos/"+repo+"/actions/workflows/ci.yml/dispatches", tok, map[string]any{"ref": "main"})
			r.timer.fire()
		}()
	}
	wg.Wait()
	if len(ids) != workers*each {
		t.Fatalf("%d distinct comment ids, want %d", len(ids), workers*each)
	}
	_ = r.sb.Close()
	again := newRig(t, func(c *sandbox.Config) { c.DataDir = dir })
	res := again.do("GET", fmt.Sprintf("repos/%s/issues/%d/comments?per_page=100", repo, n), tok, nil)
	if got := len(res.list()); got != workers*each {
		t.Errorf("after reopen %d comments, want %d", got, workers*each)
	}
	comments := 0
	for _, h := range r.webhooks() {
		if h.event == "issue_comment" {
			comments++
		}
	}
	if comments != workers*each {
		t.Errorf("%d issue_comment webhooks, want %d", comments, workers*each)
	}
}

// BenchmarkCreateComment measures a comment written through the API, in
// memory and with the snapshot written after each change (on a state that
// already holds 2,000 comments).
func BenchmarkCreateComment(b *testing.B) {
	for _, persisted := range []bool{false, true} {
		b.Run(fmt.Sprintf("persisted=%v", persisted), func(b *testing.B) {
			dir := ""
			if persisted {
				dir = b.TempDir()
			}
			sb, err := sandbox.Open(sandbox.Config{BaseURL: "http://127.0.0.1/sandbox/github", DataDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer sb.Close()
			n, _ := sb.CreateIssue(repo, sandbox.IssueOptions{})
			for i := range 2000 {
				if _, err := sb.CommentAs(repo, n, "bob", fmt.Sprint("seed ", i)); err != nil {
					b.Fatal(err)
				}
			}
			h := benchHandler{sb: sb, auth: "Bearer " + sb.IssueUserToken("alice").AccessToken, path: fmt.Sprintf("/api/v3/repos/%s/issues/%d/comments", repo, n)}
			for b.Loop() {
				if status := h.post(`{"body":"status"}`); status != 201 {
					b.Fatalf("status %d", status)
				}
			}
		})
	}
}

// benchHandler calls the handler directly (no network).
type benchHandler struct {
	sb         *sandbox.Sandbox
	auth, path string
}

func (h benchHandler) post(body string) int {
	req := httptest.NewRequest("POST", h.path, strings.NewReader(body))
	req.Header.Set("Authorization", h.auth)
	rec := httptest.NewRecorder()
	h.sb.ServeHTTP(rec, req)
	return rec.Code
}
