package githubapp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const lookupRepo = "octo-org/app"

// countingTransport authenticates as a user and counts the GET requests
// per path.
type countingTransport struct {
	token string
	mu    sync.Mutex
	gets  map[string]int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		c.mu.Lock()
		c.gets[req.URL.Path]++
		c.mu.Unlock()
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+c.token)
	return http.DefaultTransport.RoundTrip(req)
}

func (c *countingTransport) count(suffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for p, k := range c.gets {
		if strings.HasSuffix(p, suffix) {
			n += k
		}
	}
	return n
}

type lookupRig struct {
	t   *testing.T
	clk *testenv.Clock
	gh  *githubdouble.Server
	c   *github.Client
	rt  *countingTransport
	pr  int
}

func newLookupRig(t *testing.T) *lookupRig {
	t.Helper()
	clk := testenv.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	gh := githubdouble.New(t, githubdouble.WithClock(clk.Now), githubdouble.WithConfig(func(c *sandbox.Config) { c.Org = "octo-org" }))
	pr, err := gh.CreatePull(lookupRepo, sandbox.PullOptions{Title: "feat: x", User: "alice", Head: "feature-x"})
	if err != nil {
		t.Fatal(err)
	}
	gh.EnsureUser("alice")
	rt := &countingTransport{token: gh.IssueUserToken("alice").AccessToken, gets: map[string]int{}}
	c := github.NewClient(&http.Client{Transport: rt})
	if c.BaseURL, err = url.Parse(gh.APIURL()); err != nil {
		t.Fatal(err)
	}
	return &lookupRig{t: t, clk: clk, gh: gh, c: c, rt: rt, pr: pr}
}

func marker(id string) jobs.Marker { return jobs.Marker{Kind: "reply", ID: id} }

func (r *lookupRig) find(f func(context.Context, *github.Client, jobs.Thread, time.Time, jobs.Marker) (githubapp.Comment, bool, error),
	th jobs.Thread, since time.Time, m jobs.Marker) (githubapp.Comment, bool) {
	r.t.Helper()
	c, ok, err := f(context.Background(), r.c, th, since, m)
	if err != nil {
		r.t.Fatal(err)
	}
	return c, ok
}

// TestFindReplyInReviewThread: a reply in a review thread is found among the
// pull request's review comments (past the first page), not in its
// conversation; a status comment Post wrote for a review thread is found in
// the conversation, not among the review comments.
func TestFindReplyInReviewThread(t *testing.T) {
	r := newLookupRig(t)
	ctx := context.Background()
	asked, err := r.gh.ReviewCommentAs(lookupRepo, r.pr, "bob", "main.go", 3, "@ai3-mvp ping")
	if err != nil {
		t.Fatal(err)
	}
	th := jobs.Thread{Repo: lookupRepo, Kind: jobs.ReviewThread, Number: r.pr, CommentID: asked}
	for i := range 150 { // older comments fill the first page
		r.clk.Advance(time.Second)
		if _, err := r.gh.ReviewCommentAs(lookupRepo, r.pr, "bob", "main.go", i+1, fmt.Sprint("note ", i)); err != nil {
			t.Fatal(err)
		}
	}
	r.clk.Advance(time.Minute)
	since := r.clk.Now()
	reply, err := githubapp.Reply(ctx, r.c, th, "pong\n\n"+marker("d1#0").String())
	if err != nil {
		t.Fatal(err)
	}
	status, err := githubapp.Post(ctx, r.c, th, "checks is running\n\n"+marker("d1#1").String())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := r.find(githubapp.FindReply, th, time.Time{}, marker("d1#0")); !ok || got != reply {
		t.Fatalf("FindReply over every page: %+v %v, want %+v", got, ok, reply)
	}
	if n := r.rt.count(fmt.Sprintf("/pulls/%d/comments", r.pr)); n != 2 {
		t.Errorf("%d pages of review comments read, want 2", n)
	}
	if got, ok := r.find(githubapp.FindReply, th, since, marker("d1#0")); !ok || got != reply {
		t.Fatalf("FindReply since: %+v %v, want %+v", got, ok, reply)
	}
	if _, ok := r.find(githubapp.FindReply, th, since.Add(time.Hour), marker("d1#0")); ok {
		t.Error("FindReply found a reply older than since")
	}
	if _, ok := r.find(githubapp.FindMarked, th, since, marker("d1#0")); ok {
		t.Error("FindMarked found the review reply in the conversation")
	}
	if got, ok := r.find(githubapp.FindMarked, th, since, marker("d1#1")); !ok || got != status {
		t.Fatalf("FindMarked: %+v %v, want %+v", got, ok, status)
	}
	if _, ok := r.find(githubapp.FindReply, th, since, marker("d1#1")); ok {
		t.Error("FindReply found the conversation's status comment in the review thread")
	}
	if _, ok := r.find(githubapp.FindReply, th, since, marker("d2#0")); ok {
		t.Error("FindReply found a marker nobody wrote")
	}
	// An issue or pull request conversation: both look there.
	conv := jobs.Thread{Repo: lookupRepo, Kind: jobs.PullThread, Number: r.pr}
	for _, f := range []func(context.Context, *github.Client, jobs.Thread, time.Time, jobs.Marker) (githubapp.Comment, bool, error){
		githubapp.FindReply, githubapp.FindMarked} {
		if got, ok := r.find(f, conv, since, marker("d1#1")); !ok || got != status {
			t.Errorf("conversation: %+v %v, want %+v", got, ok, status)
		}
	}
	if err := r.gh.FailNext("GET", "/api/v3/repos/*/*/pulls/*/comments", 1, sandbox.Fault{Status: http.StatusBadGateway}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := githubapp.FindReply(ctx, r.c, th, since, marker("d1#0")); err == nil || !strings.Contains(err.Error(), "list review comments") {
		t.Errorf("a failed listing: %v", err)
	}
}

// TestFindOnCommit: what Reply and Post wrote on a commit is found among the
// commit's comments, starting from the last page and stopping at the first
// page that begins before since.
func TestFindOnCommit(t *testing.T) {
	r := newLookupRig(t)
	ctx := context.Background()
	sha := strings.Repeat("a1", 20)
	for i := range 250 { // three pages of 100, older than since
		if _, err := r.gh.CommitCommentAs(lookupRepo, sha, "bob", fmt.Sprint("old ", i)); err != nil {
			t.Fatal(err)
		}
	}
	r.clk.Advance(time.Hour)
	since := r.clk.Now()
	th := jobs.Thread{Repo: lookupRepo, Kind: jobs.CommitThread, CommitSHA: sha}
	reply, err := githubapp.Reply(ctx, r.c, th, "pong\n\n"+marker("d1#0").String())
	if err != nil {
		t.Fatal(err)
	}
	status, err := githubapp.Post(ctx, r.c, th, "checks is running\n\n"+marker("d1#1").String())
	if err != nil {
		t.Fatal(err)
	}
	pages := func() int { return r.rt.count("/commits/" + sha + "/comments") }
	if got, ok := r.find(githubapp.FindReply, th, since, marker("d1#0")); !ok || got != reply {
		t.Fatalf("FindReply: %+v %v, want %+v", got, ok, reply)
	}
	if n := pages(); n != 2 { // the first page (it names the last), then the last
		t.Errorf("%d pages read, want 2", n)
	}
	if got, ok := r.find(githubapp.FindMarked, th, since, marker("d1#1")); !ok || got != status {
		t.Fatalf("FindMarked: %+v %v, want %+v", got, ok, status)
	}
	if _, ok := r.find(githubapp.FindMarked, th, since.Add(time.Minute), marker("d1#1")); ok {
		t.Error("FindMarked found a comment older than since")
	}
	// The commit's other comments are not in the conversation: a commit
	// thread has no number.
	if _, ok := r.find(githubapp.FindReply, jobs.Thread{Repo: lookupRepo, Kind: jobs.CommitThread}, since, marker("d1#0")); ok {
		t.Error("found a reply on a thread without a commit")
	}
}

// TestFindOnCommitIsBounded: among more pages than a lookup reads, all newer
// than since, the newest pages and the first are read, nothing between.
func TestFindOnCommitIsBounded(t *testing.T) {
	r := newLookupRig(t)
	sha := strings.Repeat("b2", 20)
	since := r.clk.Now()
	th := jobs.Thread{Repo: lookupRepo, Kind: jobs.CommitThread, CommitSHA: sha}
	// 1,200 comments: 12 pages. A lookup reads page 1, then 12 down to 4.
	at := map[int]string{10: "on-page-1", 250: "on-page-3", 350: "on-page-4", 1199: "on-page-12"}
	for i := range 1200 {
		body := fmt.Sprint("comment ", i)
		if id, ok := at[i]; ok {
			body += "\n\n" + marker(id).String()
		}
		if _, err := r.gh.CommitCommentAs(lookupRepo, sha, "bob", body); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range at {
		before := r.rt.count("/commits/" + sha + "/comments")
		_, ok := r.find(githubapp.FindReply, th, since, marker(id))
		if want := i/100+1 != 3; ok != want {
			t.Errorf("%s: found %v, want %v", id, ok, want)
		}
		if n := r.rt.count("/commits/"+sha+"/comments") - before; n != 10 {
			t.Errorf("%s: %d pages read, want 10", id, n)
		}
	}
}
