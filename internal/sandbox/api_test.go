package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

const repo = "ai3-sandbox/app"

// seeded is a rig with a repository, an issue, a pull request with a review
// comment, a commit comment and a deployment.
type seeded struct {
	*rig
	issue, pull             int
	comment, review, commit string
	deployment              string
}

func newSeeded(t *testing.T) *seeded {
	r := newRig(t)
	s := &seeded{rig: r}
	s.issue, _ = r.sb.CreateIssue(repo, sandbox.IssueOptions{Title: "Bug"})
	s.pull, _ = r.sb.CreatePull(repo, sandbox.PullOptions{Head: "feature"})
	id, _ := r.sb.CreateReviewComment(repo, s.pull, "bob", "a.go", 1, "Why?")
	s.review = fmt.Sprint(id)
	admin := r.userToken("admin")
	s.comment = fmt.Sprint(r.do("POST", fmt.Sprintf("repos/%s/issues/%d/comments", repo, s.issue), admin, map[string]string{"body": "hi"}).obj()["id"])
	s.commit = fmt.Sprint(r.do("POST", "repos/"+repo+"/commits/"+strings.Repeat("a", 40)+"/comments", admin, map[string]string{"body": "hi"}).obj()["id"])
	s.deployment = fmt.Sprint(r.do("POST", "repos/"+repo+"/deployments", admin, map[string]string{"ref": "main"}).obj()["id"])
	return s
}

// TestEndpointsAuthenticateCallers checks every endpoint against each kind
// of caller: none, a forged token, a person who cannot see the repository, a
// reader, a writer and the App's installation.
func TestEndpointsAuthenticateCallers(t *testing.T) {
	s := newSeeded(t)
	rp := "repos/" + repo + "/"
	reader, writer, outsider := "reader", "writer", "outsider"
	s.sb.EnsureUser(reader)
	s.sb.SetPermission(repo, reader, "read")
	s.sb.EnsureUser(writer)
	s.sb.AddUser(outsider)
	tokens := map[string]string{"none": "", "forged": "Bearer ghu_forged", "outsider": s.userToken(outsider),
		"reader": s.userToken(reader), "writer": s.userToken(writer), "installation": s.installationToken()}
	reviewID, _ := strconv.ParseInt(s.review, 10, 64)
	body := map[string]any{"body": "x", "content": "heart", "ref": "main", "state": "success", "in_reply_to": reviewID}
	type want struct{ none, forged, outsider, reader, writer, installation int }
	read := want{401, 401, 404, 200, 200, 200}
	comment := want{401, 401, 404, 201, 201, 201}
	cases := []struct {
		method, path string
		want         want
	}{
		{"GET", "repos/" + repo, read},
		{"GET", rp + fmt.Sprintf("issues/%d", s.issue), read},
		{"GET", rp + fmt.Sprintf("pulls/%d", s.pull), read},
		{"GET", rp + fmt.Sprintf("issues/%d/comments", s.issue), read},
		{"POST", rp + fmt.Sprintf("issues/%d/comments", s.issue), comment},
		{"GET", rp + "issues/comments/" + s.comment, read},
		{"PATCH", rp + "issues/comments/" + s.comment, want{401, 401, 404, 403, 200, 200}},
		{"GET", rp + "pulls/comments/" + s.review, read},
		{"GET", rp + fmt.Sprintf("pulls/%d/comments", s.pull), read},
		{"POST", rp + fmt.Sprintf("pulls/%d/comments/%s/replies", s.pull, s.review), comment},
		{"POST", rp + fmt.Sprintf("pulls/%d/comments", s.pull), comment},
		{"GET", rp + "comments/" + s.commit, read},
		{"GET", rp + "commits/" + strings.Repeat("a", 40) + "/comments", read},
		{"POST", rp + "commits/" + strings.Repeat("b", 40) + "/comments", comment},
		{"POST", rp + "issues/comments/" + s.comment + "/reactions", comment},
		{"POST", rp + "pulls/comments/" + s.review + "/reactions", comment},
		{"POST", rp + "comments/" + s.commit + "/reactions", comment},
		{"POST", rp + "actions/workflows/ci.yml/dispatches", want{401, 401, 404, 403, 204, 204}},
		{"GET", rp + "actions/runs", read},
		{"POST", rp + "deployments", want{401, 401, 404, 403, 201, 201}},
		{"GET", rp + "deployments", read},
		{"POST", rp + "deployments/" + s.deployment + "/statuses", want{401, 401, 404, 403, 201, 201}},
		{"GET", "user", want{401, 401, 200, 200, 200, 401}},
		{"GET", "orgs/ai3-sandbox/memberships/writer", want{401, 401, 401, 401, 401, 200}},
		{"GET", rp + "collaborators/writer/permission", want{401, 401, 401, 401, 401, 200}},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			for who, status := range map[string]int{"none": c.want.none, "forged": c.want.forged, "outsider": c.want.outsider,
				"reader": c.want.reader, "writer": c.want.writer, "installation": c.want.installation} {
				var b any
				if c.method != "GET" {
					b = body
				}
				if res := s.do(c.method, c.path, tokens[who], b); res.status != status {
					t.Errorf("%s: status %d, want %d: %.200s", who, res.status, status, res.raw)
				}
			}
		})
	}
}

// TestWritesRecordWhoWrote checks that each accepted write is recorded with
// the token's kind and person, and that reads and refused writes are not.
func TestWritesRecordWhoWrote(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	alice, inst := r.userToken("alice"), r.installationToken()
	path := fmt.Sprintf("repos/%s/issues/%d/comments", repo, n)
	r.do("POST", path, alice, map[string]string{"body": "by alice"})
	r.do("GET", path, alice, nil)
	r.do("POST", path, alice, map[string]string{"body": ""}) // 422
	r.do("POST", path, inst, map[string]string{"body": "by the App"})
	got := r.sb.Writes()
	if len(got) != 2 {
		t.Fatalf("writes: %+v, want 2", got)
	}
	if w := got[0]; w.Token != "user" || w.Login != "alice" || w.Method != "POST" || w.Path != "/api/v3/"+path || !strings.Contains(w.Body, "by alice") || w.At.IsZero() {
		t.Errorf("user write: %+v", w)
	}
	if w := got[1]; w.Token != "installation" || w.Login != "" || w.InstallationID != 77 || !strings.Contains(w.Body, "by the App") {
		t.Errorf("installation write: %+v", w)
	}
	resp, err := http.Get(r.base + "/_sandbox/writes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var served struct{ Writes []sandbox.Write }
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil || len(served.Writes) != 2 || served.Writes[1].Token != "installation" {
		t.Errorf("GET /_sandbox/writes: %v %+v", err, served)
	}
}

// TestCommentWebhooksNameTheApp checks the webhooks a comment produces: who
// wrote it, and performed_via_github_app set for the App's tokens only.
func TestCommentWebhooksNameTheApp(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	path := fmt.Sprintf("repos/%s/issues/%d/comments", repo, n)
	byUser := r.do("POST", path, r.userToken("alice"), map[string]string{"body": "one"}).obj()
	r.do("POST", path, r.installationToken(), map[string]string{"body": "two"})
	if _, err := r.sb.CommentAs(repo, n, "carol", "three"); err != nil {
		t.Fatal(err)
	}
	r.do("PATCH", fmt.Sprintf("repos/%s/issues/comments/%v", repo, byUser["id"]), r.userToken("alice"), map[string]string{"body": "one, edited"})
	hooks := r.webhooks()
	if len(hooks) != 4 {
		t.Fatalf("%d webhooks, want 4", len(hooks))
	}
	cases := []struct {
		action, author, authorType, sender string
		viaApp                             bool
	}{
		{"created", "alice", "User", "alice", true},
		{"created", "ai3-mvp[bot]", "Bot", "ai3-mvp[bot]", true},
		{"created", "carol", "User", "carol", false},
		{"edited", "alice", "User", "alice", true},
	}
	for i, c := range cases {
		p := hooks[i].payload
		cm := p["comment"].(map[string]any)
		user := cm["user"].(map[string]any)
		app, _ := cm["performed_via_github_app"].(map[string]any)
		if hooks[i].event != "issue_comment" || p["action"] != c.action || user["login"] != c.author || user["type"] != c.authorType ||
			p["sender"].(map[string]any)["login"] != c.sender || (app != nil) != c.viaApp {
			t.Errorf("webhook %d: %s %v by %v (%v), sender %v, app %v; want %+v", i, hooks[i].event, p["action"], user["login"], user["type"],
				p["sender"].(map[string]any)["login"], app != nil, c)
		}
		if c.viaApp && (app["slug"] != "ai3-mvp" || app["id"] != float64(4242)) {
			t.Errorf("webhook %d: performed_via_github_app = %v", i, app)
		}
		if p["installation"].(map[string]any)["id"] != float64(77) || hooks[i].key != fmt.Sprintf("%s#%d", repo, n) {
			t.Errorf("webhook %d: installation %v, order key %q", i, p["installation"], hooks[i].key)
		}
	}
	if from := hooks[3].payload["changes"].(map[string]any)["body"].(map[string]any)["from"]; from != "one" {
		t.Errorf("edited: changes.body.from = %v, want the old body", from)
	}
}

// TestCommentListPages checks per_page, page and GitHub's Link header.
func TestCommentListPages(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	for i := range 5 {
		if _, err := r.sb.CommentAs(repo, n, "bob", fmt.Sprint("c", i)); err != nil {
			t.Fatal(err)
		}
	}
	tok := r.userToken("alice")
	path := fmt.Sprintf("repos/%s/issues/%d/comments", repo, n)
	res := r.do("GET", path+"?per_page=2&page=2", tok, nil)
	l := res.list()
	if len(l) != 2 || l[0]["body"] != "c2" || l[1]["body"] != "c3" {
		t.Fatalf("page 2: %s", res.raw)
	}
	link := res.header.Get("Link")
	for _, want := range []string{`page=1&per_page=2>; rel="prev"`, `page=3&per_page=2>; rel="next"`, `page=3&per_page=2>; rel="last"`, r.base + "/api/v3/" + path} {
		if !strings.Contains(link, want) {
			t.Errorf("Link %q lacks %q", link, want)
		}
	}
	if res := r.do("GET", path+"?per_page=nope", tok, nil); res.status != 422 {
		t.Errorf("bad per_page: %d", res.status)
	}
	if res := r.do("GET", path+"?per_page=100", tok, nil); len(res.list()) != 5 || res.header.Get("Link") != "" {
		t.Errorf("one page: %d comments, Link %q", len(res.list()), res.header.Get("Link"))
	}
}

// TestThreadCommentLists checks the review comments of a pull request and
// the comments of a commit: only theirs, oldest first, paged with GitHub's
// Link header, since on review comments (and issue comments), and the
// routes that share a ServeMux pattern with them.
func TestThreadCommentLists(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := newRig(t, func(c *sandbox.Config) { c.Now = clk.now })
	n, _ := r.sb.CreatePull(repo, sandbox.PullOptions{Head: "feature"})
	other, _ := r.sb.CreatePull(repo, sandbox.PullOptions{Head: "other"})
	issue, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	sha, otherSHA := strings.Repeat("c", 40), strings.Repeat("d", 40)
	var firstReview int64
	for i := range 5 {
		clk.advance(time.Minute)
		id, err := r.sb.ReviewCommentAs(repo, n, "bob", "a.go", i+1, fmt.Sprint("r", i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			firstReview = id
		}
		if _, err := r.sb.CommitCommentAs(repo, sha, "bob", fmt.Sprint("c", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.sb.CommentAs(repo, issue, "bob", fmt.Sprint("i", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.sb.ReviewCommentAs(repo, other, "bob", "a.go", 1, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sb.CommitCommentAs(repo, otherSHA, "bob", "elsewhere"); err != nil {
		t.Fatal(err)
	}
	tok := r.userToken("alice")
	bodies := func(l []map[string]any) string {
		var b []string
		for _, c := range l {
			b = append(b, fmt.Sprint(c["body"]))
		}
		return strings.Join(b, ",")
	}
	for _, c := range []struct{ path, prefix string }{
		{fmt.Sprintf("repos/%s/pulls/%d/comments", repo, n), "r"},
		{fmt.Sprintf("repos/%s/commits/%s/comments", repo, sha), "c"},
	} {
		res := r.do("GET", c.path+"?per_page=2&page=2", tok, nil)
		if res.status != 200 || bodies(res.list()) != c.prefix+"2,"+c.prefix+"3" {
			t.Fatalf("%s page 2: %d %s", c.path, res.status, res.raw)
		}
		link := res.header.Get("Link")
		for _, want := range []string{`page=1&per_page=2>; rel="prev"`, `page=3&per_page=2>; rel="next"`, `page=3&per_page=2>; rel="last"`,
			r.base + "/api/v3/" + c.path} {
			if !strings.Contains(link, want) {
				t.Errorf("%s: Link %q lacks %q", c.path, link, want)
			}
		}
		if res := r.do("GET", c.path+"?per_page=100", tok, nil); len(res.list()) != 5 || res.header.Get("Link") != "" {
			t.Errorf("%s one page: %s, Link %q", c.path, bodies(res.list()), res.header.Get("Link"))
		}
		if res := r.do("GET", c.path+"?page=0", tok, nil); res.status != 422 {
			t.Errorf("%s bad page: %d", c.path, res.status)
		}
	}
	// since keeps what was updated at or after it (comment i was written at 12:0(i+1)).
	since := "?since=2026-03-01T12:04:00Z"
	for path, want := range map[string]string{
		fmt.Sprintf("repos/%s/pulls/%d/comments", repo, n):      "r3,r4",
		fmt.Sprintf("repos/%s/issues/%d/comments", repo, issue): "i3,i4",
	} {
		if res := r.do("GET", path+since, tok, nil); res.status != 200 || bodies(res.list()) != want {
			t.Errorf("%s%s: %d %s, want %s", path, since, res.status, res.raw, want)
		}
		if res := r.do("GET", path+"?since=yesterday", tok, nil); res.status != 422 {
			t.Errorf("%s bad since: %d", path, res.status)
		}
	}
	if res := r.do("GET", fmt.Sprintf("repos/%s/commits/%s/comments", repo, strings.Repeat("e", 40)), tok, nil); res.status != 200 || len(res.list()) != 0 {
		t.Errorf("commit without comments: %d %s", res.status, res.raw)
	}
	// The routes sharing .../pulls/{a}/{b}.
	if res := r.do("GET", fmt.Sprintf("repos/%s/pulls/comments/%d", repo, firstReview), tok, nil); res.status != 200 || res.obj()["body"] != "r0" {
		t.Errorf("one review comment: %d %s", res.status, res.raw)
	}
	for _, p := range []string{fmt.Sprintf("pulls/%d/comments", issue), "pulls/999/comments", fmt.Sprintf("pulls/%d/files", n), "pulls/comments/999999"} {
		if res := r.do("GET", "repos/"+repo+"/"+p, tok, nil); res.status != 404 {
			t.Errorf("%s: %d, want 404", p, res.status)
		}
	}
	// The webhooks of comments written from the browser.
	seen := map[string]int{}
	for _, h := range r.webhooks() {
		if h.payload["action"] == "created" {
			seen[h.event]++
		}
	}
	if seen["pull_request_review_comment"] != 6 || seen["commit_comment"] != 6 {
		t.Errorf("webhooks: %v", seen)
	}
}

// TestReviewCommentCreate checks POST .../pulls/{n}/comments, which
// go-github's CreateCommentInReplyTo calls: with in_reply_to a reply in the
// thread of that comment, else a new comment on the diff.
func TestReviewCommentCreate(t *testing.T) {
	s := newSeeded(t)
	tok := s.userToken("alice")
	path := fmt.Sprintf("repos/%s/pulls/%d/comments", repo, s.pull)
	parent, _ := strconv.ParseInt(s.review, 10, 64)
	reply := s.do("POST", path, tok, map[string]any{"body": "Because.", "in_reply_to": parent, "path": "ignored.go"})
	if reply.status != 201 || reply.obj()["in_reply_to_id"] != float64(parent) || reply.obj()["path"] != "a.go" {
		t.Fatalf("reply: %d %s", reply.status, reply.raw)
	}
	// A reply to a reply joins the thread of the first comment.
	again := s.do("POST", path, tok, map[string]any{"body": "Still?", "in_reply_to": reply.obj()["id"]})
	if again.status != 201 || again.obj()["in_reply_to_id"] != float64(parent) {
		t.Fatalf("reply to the reply: %d %s", again.status, again.raw)
	}
	top := s.do("POST", path, tok, map[string]any{"body": "Typo", "commit_id": strings.Repeat("f", 40), "path": "b.go", "line": 4})
	if top.status != 201 || top.obj()["in_reply_to_id"] != nil || top.obj()["line"] != float64(4) {
		t.Fatalf("new comment: %d %s", top.status, top.raw)
	}
	for _, c := range []struct {
		path string
		body map[string]any
		want int
	}{
		{path, map[string]any{"body": "x", "in_reply_to": 999999}, 404},
		{path, map[string]any{"in_reply_to": parent}, 422},
		{path, map[string]any{"body": "no place"}, 422},
		{fmt.Sprintf("repos/%s/pulls/%d/comments", repo, s.issue), map[string]any{"body": "x", "in_reply_to": parent}, 404},
	} {
		if res := s.do("POST", c.path, tok, c.body); res.status != c.want {
			t.Errorf("%s %v: %d, want %d: %s", c.path, c.body, res.status, c.want, res.raw)
		}
	}
	if res := s.do("GET", path, tok, nil); len(res.list()) != 4 {
		t.Errorf("review comments: %s", res.raw)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestReactionsAreOncePerUser checks 201 for a new reaction, 200 for the same
// one again, and the comment's rollup.
func TestReactionsAreOncePerUser(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreateIssue(repo, sandbox.IssueOptions{})
	r.sb.EnsureUser("bob")
	id, _ := r.sb.CommentAs(repo, n, "bob", "x")
	path := fmt.Sprintf("repos/%s/issues/comments/%d", repo, id)
	alice, bob := r.userToken("alice"), r.userToken("bob")
	first := r.do("POST", path+"/reactions", alice, map[string]string{"content": "+1"})
	again := r.do("POST", path+"/reactions", alice, map[string]string{"content": "+1"})
	r.do("POST", path+"/reactions", bob, map[string]string{"content": "+1"})
	if first.status != 201 || again.status != 200 || first.obj()["id"] != again.obj()["id"] {
		t.Fatalf("reactions: %d %d, ids %v %v", first.status, again.status, first.obj()["id"], again.obj()["id"])
	}
	if res := r.do("POST", path+"/reactions", alice, map[string]string{"content": "thumbsup"}); res.status != 422 {
		t.Errorf("unknown content: %d", res.status)
	}
	rollup := r.do("GET", path, alice, nil).obj()["reactions"].(map[string]any)
	if rollup["+1"] != float64(2) || rollup["total_count"] != float64(2) {
		t.Errorf("rollup: %v", rollup)
	}
}

// TestPullRequestShape checks the fields ai3 reads from a pull request and
// that its issue says it is one.
func TestPullRequestShape(t *testing.T) {
	r := newRig(t)
	n, _ := r.sb.CreatePull(repo, sandbox.PullOptions{Title: "Cache", Head: "feat", HeadSHA: strings.Repeat("c", 40), Additions: 7,
		Deletions: 3, ChangedFiles: 2, Labels: []string{"deploy"}, Conflicting: true})
	tok := r.userToken("alice")
	p := r.do("GET", fmt.Sprintf("repos/%s/pulls/%d", repo, n), tok, nil).obj()
	head := p["head"].(map[string]any)
	if p["title"] != "Cache" || head["ref"] != "feat" || head["sha"] != strings.Repeat("c", 40) || p["base"].(map[string]any)["ref"] != "main" ||
		p["additions"] != float64(7) || p["deletions"] != float64(3) || p["changed_files"] != float64(2) || p["mergeable"] != false ||
		p["mergeable_state"] != "dirty" || p["state"] != "open" || p["labels"].([]any)[0].(map[string]any)["name"] != "deploy" {
		t.Errorf("pull: %v", p)
	}
	if !strings.HasPrefix(p["html_url"].(string), r.base+"/"+repo+"/pull/") {
		t.Errorf("html_url %v is not under the base URL", p["html_url"])
	}
	if is := r.do("GET", fmt.Sprintf("repos/%s/issues/%d", repo, n), tok, nil).obj(); is["pull_request"] == nil {
		t.Errorf("the pull request's issue has no pull_request: %v", is)
	}
	if res := r.do("GET", "repos/"+repo, tok, nil).obj(); res["default_branch"] != "main" || res["full_name"] != repo {
		t.Errorf("repo: %v", res)
	}
}

// TestAutoCreate checks that with AutoCreate any named repository and issue
// exist, and that without it they do not.
func TestAutoCreate(t *testing.T) {
	for _, auto := range []bool{false, true} {
		r := newRig(t, func(c *sandbox.Config) { c.AutoCreate = auto })
		res := r.do("POST", "repos/acme/web/issues/3/comments", r.userToken("alice"), map[string]string{"body": "hello"})
		want := map[bool]int{false: 404, true: 201}[auto]
		if res.status != want {
			t.Errorf("AutoCreate=%v: %d, want %d: %s", auto, res.status, want, res.raw)
		}
	}
}

// TestGrantIsUsable checks IssueUserToken: the grant works on the API and
// its refresh token at the token endpoint.
func TestGrantIsUsable(t *testing.T) {
	r := newRig(t)
	g := r.sb.IssueUserToken("dana")
	if !strings.HasPrefix(g.AccessToken, "ghu_") || !strings.HasPrefix(g.RefreshToken, "ghr_") || g.Expiry.Before(time.Now().Add(7*time.Hour)) {
		t.Fatalf("grant: %+v", g)
	}
	if u := r.do("GET", "user", "Bearer "+g.AccessToken, nil).obj(); u["login"] != "dana" {
		t.Errorf("GET /user: %v", u)
	}
	if res := r.do("GET", "orgs/ai3-sandbox/memberships/dana", r.installationToken(), nil).obj(); res["state"] != "active" {
		t.Errorf("a sandbox user is an active member: %v", res)
	}
}
