// Package e2e drives the real `ai3 dev` binary in sandbox mode as a person
// would: pull requests and comments made through the sandbox's control
// routes, webhooks delivered by the stand-in as GitHub delivers them, and
// every GitHub write the bot made read back from the stand-in's record of
// which token made it.
package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

const (
	secret = "e2e-webhook-secret"
	repo   = "ai3-sandbox/app"
)

// write is one GitHub write the stand-in recorded.
type write struct {
	Method, Path, Token, Login, Body string
	At                               time.Time
}

type sandboxDev struct {
	*testenv.Dev
	t testing.TB
}

func startSandbox(t testing.TB) *sandboxDev {
	t.Helper()
	d := testenv.StartDev(t, testenv.BuildAI3(t), t.TempDir(), "WEBHOOK_SECRET="+secret)
	if !strings.Contains(d.Stdout.String(), "SANDBOX MODE") {
		t.Fatalf("ai3 dev did not say it runs in sandbox mode:\n%s", d.Logs())
	}
	return &sandboxDev{Dev: d, t: t}
}

func (s *sandboxDev) writes() []write {
	var ws []write
	if code := s.JSON(s.t, "GET", "/sandbox/control/writes", nil, &ws); code != 200 {
		s.t.Fatalf("writes: %d", code)
	}
	return ws
}

// waitWrite waits until a recorded write satisfies ok and returns it.
func (s *sandboxDev) waitWrite(what string, ok func(write) bool) write {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, w := range s.writes() {
			if ok(w) {
				return w
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no write %s within 30 s; writes:\n%s\nlogs:\n%s", what, s.dump(), s.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *sandboxDev) dump() string {
	var b strings.Builder
	for _, w := range s.writes() {
		fmt.Fprintf(&b, "%s %s by %s/%s: %.120q\n", w.Method, w.Path, w.Token, w.Login, w.Body)
	}
	return b.String()
}

func (s *sandboxDev) pull(user, title string) int {
	var out struct{ Number int }
	if code := s.JSON(s.t, "POST", "/sandbox/control/pulls", map[string]any{"repo": repo, "title": title, "user": user,
		"head": "feature-" + user, "additions": 10, "deletions": 2}, &out); code != 200 {
		s.t.Fatalf("create pull: %d", code)
	}
	return out.Number
}

func (s *sandboxDev) comment(user string, issue int, body string) int64 {
	var out struct{ ID int64 }
	if code := s.JSON(s.t, "POST", "/sandbox/control/comments", map[string]any{"repo": repo, "issue": issue, "user": user, "body": body}, &out); code != 200 {
		s.t.Fatalf("comment: %d", code)
	}
	return out.ID
}

func (s *sandboxDev) user(settings map[string]any) int64 {
	var out struct{ ID int64 }
	if code := s.JSON(s.t, "POST", "/sandbox/control/users", settings, &out); code != 200 {
		s.t.Fatalf("user settings %v: %d", settings, code)
	}
	return out.ID
}

type jobView struct {
	ID, Workflow, Status string
	User                 struct{ Login string }
	StatusCommentID      int64 `json:"status_comment_id"`
}

func (s *sandboxDev) jobs() []jobView {
	var out struct{ Jobs []jobView }
	if code := s.JSON(s.t, "GET", "/api/jobs", nil, &out); code != 200 {
		s.t.Fatalf("/api/jobs: %d", code)
	}
	return out.Jobs
}

func reactionOn(id int64) func(write) bool {
	return func(w write) bool {
		return w.Method == "POST" && strings.HasSuffix(w.Path, fmt.Sprintf("/comments/%d/reactions", id))
	}
}

func replyWith(issue int, text string) func(write) bool {
	return func(w write) bool {
		return w.Method == "POST" && strings.HasSuffix(w.Path, fmt.Sprintf("/issues/%d/comments", issue)) && strings.Contains(w.Body, text)
	}
}

// TestCommentStartsAWorkflow is issue 10's path: an authorized person's
// mention starts the workflow, and every write the bot makes for them —
// the 👀, the status comment and its updates — is made with their token.
// The bot's own comments come back as webhooks and start nothing.
func TestCommentStartsAWorkflow(t *testing.T) {
	s := startSandbox(t)
	pr := s.pull("alice", "feat: add the thing")
	id := s.comment("alice", pr, "Looks good.\n\n@ai3-mvp run checks")

	if r := s.waitWrite("👀 on the command", reactionOn(id)); r.Token != "user" || r.Login != "alice" || !strings.Contains(r.Body, "eyes") {
		t.Fatalf("reaction %+v, want eyes with alice's token", r)
	}
	st := s.waitWrite("status comment", replyWith(pr, "ai3-mvp:bot kind=status"))
	if st.Token != "user" || st.Login != "alice" {
		t.Fatalf("status comment written with %s/%s, want alice's user token", st.Token, st.Login)
	}
	var job jobView
	deadline := time.Now().Add(60 * time.Second)
	for {
		js := s.jobs()
		if len(js) == 1 && js[0].Status != "queued" && js[0].Status != "running" {
			job = js[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not end within 60 s: %+v\nwrites:\n%s\nlogs:\n%s", js, s.dump(), s.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("job %s ended %s", job.ID, job.Status)
	if job.Workflow != "checks" || job.User.Login != "alice" || job.StatusCommentID == 0 || job.Status != "succeeded" {
		t.Fatalf("job %+v", job)
	}
	final := s.waitWrite("final status edit", func(w write) bool {
		return w.Method == "PATCH" && strings.HasSuffix(w.Path, fmt.Sprintf("/issues/comments/%d", job.StatusCommentID)) &&
			strings.Contains(w.Body, job.Status)
	})
	if final.Token != "user" || final.Login != "alice" {
		t.Fatalf("final status written with %s/%s", final.Token, final.Login)
	}
	// Every write of this run was alice's; none by the installation.
	for _, w := range s.writes() {
		if w.Token != "user" || w.Login != "alice" {
			t.Errorf("write %s %s made with %s/%s, want alice's token", w.Method, w.Path, w.Token, w.Login)
		}
	}
	// The status comment and its edits came back as issue_comment webhooks
	// (performed via our App, carrying the marker) and started nothing.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(s.Logs(), "ignored"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line says the bot's own comment was ignored within 30 s:\n%s", s.Logs())
		}
	}
	time.Sleep(time.Second) // time for a wrong run to show
	if js := s.jobs(); len(js) != 1 {
		t.Fatalf("%d jobs after the bot's own comments came back, want 1", len(js))
	}
}

// TestRefusals: who may not run commands is told why, with the installation
// token (they have no token the bot may use), and nothing starts.
func TestRefusals(t *testing.T) {
	s := startSandbox(t)
	pr := s.pull("alice", "fix: a bug")
	s.user(map[string]any{"login": "bob", "member": false})
	s.user(map[string]any{"login": "carol", "permission": "read", "repo": repo})
	s.user(map[string]any{"login": "dave", "logged_in": false})
	for _, tc := range []struct{ user, want string }{
		{"bob", "is not an active member"},
		{"carol", "needs write"},
		{"dave", "has not connected their GitHub account"},
	} {
		s.comment(tc.user, pr, "@ai3-mvp run checks")
		w := s.waitWrite(tc.user+"'s refusal", replyWith(pr, tc.want))
		if w.Token != "installation" || !strings.Contains(w.Body, "@"+tc.user) {
			t.Errorf("%s's refusal written with %s/%s: %q", tc.user, w.Token, w.Login, w.Body)
		}
		if tc.user == "dave" && !strings.Contains(w.Body, "/oauth/login") {
			t.Errorf("dave's refusal has no login link: %q", w.Body)
		}
	}
	if js := s.jobs(); len(js) != 0 {
		t.Fatalf("refused users started jobs: %+v", js)
	}
	// An unknown command gets the nearest names, from alice's own token.
	s.comment("alice", pr, "@ai3-mvp stauts")
	w := s.waitWrite("unknown command reply", replyWith(pr, "I don't know the command `stauts`"))
	if !strings.Contains(w.Body, "`status`") || w.Token != "user" || w.Login != "alice" {
		t.Fatalf("unknown command reply %+v", w)
	}
}

// TestBotsAndDuplicates: another bot's mention runs nothing; a delivery
// sent twice (same id and hook) or to a second hook runs its command once.
func TestBotsAndDuplicates(t *testing.T) {
	s := startSandbox(t)
	pr := s.pull("alice", "docs: words")
	aliceID := s.user(map[string]any{"login": "alice"})
	cid := s.comment("alice", pr, "@ai3-mvp ping")
	s.waitWrite("pong", replyWith(pr, "pong"))

	post := func(delivery, hook string, body []byte) int {
		return s.postWebhook(t, "issue_comment", delivery, hook, body)
	}
	if code := post("bot-delivery", "1", commentPayloadAs(cid, pr, "renovate[bot]", "Bot", 777, "@ai3-mvp ping")); code != 200 {
		t.Fatalf("bot delivery: %d", code)
	}
	human := commentPayload(cid, pr, "alice", aliceID, "@ai3-mvp ping")
	for _, hook := range []string{"1", "1", "2"} {
		if code := post("dup-delivery", hook, human); code != 200 {
			t.Fatalf("delivery to hook %s: %d", hook, code)
		}
	}
	s.waitWrite("pong for the replayed delivery", func(w write) bool { return strings.Contains(w.Body, "id=dup-delivery#0") })
	time.Sleep(2 * time.Second) // time for a wrong second run to show
	pongs := 0
	for _, w := range s.writes() {
		if strings.Contains(w.Body, "id=dup-delivery#0") {
			pongs++
		}
		if strings.Contains(w.Body, "id=bot-delivery") {
			t.Errorf("the bot's mention was answered: %+v", w)
		}
	}
	if pongs != 1 {
		t.Fatalf("%d replies to one delivery sent three times, want 1\n%s", pongs, s.dump())
	}
}

// commentPayload is an issue_comment "created" webhook for a person's
// comment on pull request pr, as GitHub sends it (the fields the bot reads).
func commentPayload(commentID int64, pr int, login string, userID int64, body string) []byte {
	return commentPayloadAs(commentID, pr, login, "User", userID, body)
}

func commentPayloadAs(commentID int64, pr int, login, typ string, userID int64, body string) []byte {
	b, _ := json.Marshal(map[string]any{"action": "created",
		"comment":    map[string]any{"id": commentID, "body": body, "user": map[string]any{"login": login, "id": userID, "type": typ}},
		"issue":      map[string]any{"number": pr, "pull_request": map[string]any{"url": "x"}},
		"repository": map[string]any{"full_name": repo}, "installation": map[string]any{"id": 1},
		"sender": map[string]any{"login": login, "id": userID, "type": typ}})
	return b
}

// postWebhook signs body with the server's secret and posts it as GitHub would.
func (s *sandboxDev) postWebhook(t testing.TB, event, delivery, hook string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/webhook", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", hook)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestExpiredLoginThroughTheBus: through the receiver, the bus and the
// embedded executor, a person whose stored login can no longer be refreshed
// is told, with the installation token (the one write made as the App), to
// log in again — with the link — and nothing starts; after logging in again
// the same command runs as them.
func TestExpiredLoginThroughTheBus(t *testing.T) {
	s := startSandbox(t)
	pr := s.pull("erin", "fix: expired")
	s.user(map[string]any{"login": "erin", "login_expired": true})
	before := len(s.writes())
	s.comment("erin", pr, "@ai3-mvp run checks")
	w := s.waitWrite("erin's refusal", replyWith(pr, "GitHub login has expired: log in again"))
	if w.Token != "installation" || !strings.Contains(w.Body, "/oauth/login") {
		t.Fatalf("refusal %+v: want the installation's token and the login link", w)
	}
	time.Sleep(time.Second) // time for a wrong write or run to show
	var others []write
	for _, x := range s.writes()[before:] {
		if x.Path != w.Path || x.Body != w.Body {
			if !(x.Method == "POST" && strings.HasSuffix(x.Path, fmt.Sprintf("/issues/%d/comments", pr)) && strings.Contains(x.Body, "@ai3-mvp run checks")) {
				others = append(others, x)
			}
		}
	}
	if len(others) != 0 {
		t.Errorf("writes besides erin's own comment and the refusal: %+v", others)
	}
	if js := s.jobs(); len(js) != 0 {
		t.Fatalf("an expired login started jobs: %+v", js)
	}
	// Logged in again (the stand-in's users are connected unless told
	// otherwise), the command runs with erin's own token.
	s.user(map[string]any{"login": "erin", "logged_in": false})
	s.user(map[string]any{"login": "erin", "logged_in": true})
	again := s.comment("erin", pr, "@ai3-mvp run checks")
	if r := s.waitWrite("👀 on erin's second command", reactionOn(again)); r.Token != "user" || r.Login != "erin" {
		t.Fatalf("after logging in again, erin's command was acknowledged with %s/%s", r.Token, r.Login)
	}
	job := s.waitJobOf("checks", "erin")
	if got := s.waitFinal(job, 60*time.Second); got.Status != "succeeded" {
		t.Fatalf("job %s ended %s", job, got.Status)
	}
}
