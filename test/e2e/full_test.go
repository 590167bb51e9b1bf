package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestWholeSystem is issue 13's end-to-end proof, on the real `ai3 dev` in
// sandbox mode: every payload of @octokit/webhooks-examples, signed, is
// accepted and posts nothing; a person who is not connected is refused with
// a login link, logs in through the web flow and runs checks; `run ci` and
// `run deploy` run their GitHub Actions and, for deploy, wait for a second
// person's approval (the requester may not approve their own deploy); the
// status comments show progress and end final. Every GitHub write is
// checked for the token that made it, and the bot's own comments come back
// as webhooks and start nothing.
func TestWholeSystem(t *testing.T) {
	s := startSandbox(t)
	s.sendExamples(t)

	// mention → authorization: dave has not connected his account.
	checksPR := s.pull("dave", "feat: checks for dave")
	s.user(map[string]any{"login": "dave", "logged_in": false})
	refused := s.comment("dave", checksPR, "@ai3-mvp run checks")
	refusal := s.waitWrite("dave's refusal", replyWith(checksPR, "has not connected their GitHub account"))
	link := regexp.MustCompile(`https?://[^\s)\]>"]+/oauth/login[^\s)\]>"]*`).FindString(refusal.Body)
	if refusal.Token != "installation" || link == "" {
		t.Fatalf("refusal %+v: want the installation's token and a login link", refusal)
	}
	s.browserLogin(t, "dave", link)
	checksCmd := s.comment("dave", checksPR, "@ai3-mvp run checks")
	if r := s.waitWrite("👀 on dave's second command", reactionOn(checksCmd)); r.Token != "user" || r.Login != "dave" {
		t.Fatalf("after logging in, dave's command was acknowledged with %s/%s", r.Token, r.Login)
	}
	checks := s.waitJobOf("checks", "dave")

	// run ci and run deploy (with approval) on alice's pull request.
	pr := s.pull("alice", "feat: release the thing")
	s.comment("alice", pr, "@ai3-mvp run ci")
	s.comment("alice", pr, "@ai3-mvp run deploy smoke_url="+s.URL+"/healthz")
	ci := s.waitJobOf("ci", "alice")
	deploy := s.waitJobOf("deploy", "alice")
	ask := s.waitWrite("the approval request", replyWith(pr, "kind=reply id="+deploy+"#approval"))
	if ask.Token != "user" || ask.Login != "alice" || !strings.Contains(ask.Body, "approve "+deploy) {
		t.Fatalf("approval request %+v: want alice's token and how to approve", ask)
	}
	s.comment("alice", pr, "@ai3-mvp approve "+deploy)
	self := s.waitWrite("refusal of self-approval", replyWith(pr, "someone else must approve"))
	if self.Token != "user" || self.Login != "alice" {
		t.Fatalf("self-approval refused with %s/%s, want alice's token", self.Token, self.Login)
	}
	if st := s.job(deploy).Steps["approval"].Status; st != "waiting" {
		t.Fatalf("after alice approved her own deploy its approval is %q, want still waiting", st)
	}
	bobCmd := s.comment("bob", pr, "@ai3-mvp approve "+deploy)
	ok := s.waitWrite("bob's approval reply", replyWith(pr, "@bob approved job `"+deploy+"`"))
	if ok.Token != "user" || ok.Login != "bob" {
		t.Fatalf("approval reply written with %s/%s, want bob's token", ok.Token, ok.Login)
	}

	for _, j := range []struct {
		id    string
		steps []string
	}{
		{checks, []string{"title", "diff_size", "labels", "mergeable", "summary"}},
		{ci, []string{"lint", "unit", "integration"}},
		{deploy, []string{"build", "approval", "deploy_staging", "smoke_test", "deploy_production"}},
	} {
		got := s.waitFinal(j.id, 90*time.Second)
		if got.Status != "succeeded" {
			t.Errorf("job %s ended %s: %+v", j.id, got.Status, got.Steps)
		}
		for _, name := range j.steps {
			if st := got.Steps[name]; st.Status != "succeeded" || st.Attempts != 1 {
				t.Errorf("job %s step %s: %+v, want succeeded at the first attempt", j.id, name, st)
			}
		}
		s.checkStatusComment(t, got)
	}

	// GitHub Actions: one dispatch per github.actions step, by alice.
	wantDispatch := map[string]int{"ci.yml job=lint": 1, "ci.yml job=unit": 1, "ci.yml job=integration": 1,
		"build.yml": 1, "deploy.yml environment=staging": 1, "deploy.yml environment=production": 1}
	for k, n := range s.dispatches(t, "alice") {
		if wantDispatch[k] != n {
			t.Errorf("%d dispatches of %s, want %d", n, k, wantDispatch[k])
		}
		delete(wantDispatch, k)
	}
	if len(wantDispatch) > 0 {
		t.Errorf("never dispatched: %v", wantDispatch)
	}
	s.auditTokens(t, checksPR, map[int64]string{refused: "nobody", checksCmd: "dave", bobCmd: "bob"})
	s.botCommentsStartNothing(t, 3)
}

// example is one payload of @octokit/webhooks-examples.
type example = testenv.WebhookExample

func octokitExamples(t testing.TB) []example { return testenv.OctokitExamples(t) }

// sendExamples posts every example signed, as GitHub would, and checks each
// is accepted (200), reaches the bus's handlers, and makes the bot write
// nothing to GitHub (none mentions @ai3-mvp); the server stays healthy.
func (s *sandboxDev) sendExamples(t *testing.T) {
	t.Helper()
	exs := octokitExamples(t)
	for i, ex := range exs {
		if code := s.postWebhook(t, ex.Event, fmt.Sprintf("example-%04d", i), "1", ex.Body); code != 200 {
			t.Fatalf("%s example %d answered %d, want 200", ex.Event, i, code)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(s.Stderr.String(), `msg="event received" delivery_id=example-`) < len(exs) {
		if time.Now().After(deadline) || s.Cmd.ProcessState != nil {
			t.Fatalf("%d of %d example deliveries handled after 60 s\n%s", strings.Count(s.Stderr.String(), "delivery_id=example-"), len(exs), s.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the comment handler runs beside the stub
	if ws := s.writes(); len(ws) != 0 {
		t.Fatalf("the bot wrote to GitHub for the example payloads:\n%s", s.dump())
	}
	if js := s.jobs(); len(js) != 0 {
		t.Fatalf("example payloads started jobs: %+v", js)
	}
	if code := s.JSON(t, "GET", "/healthz", nil, nil); code != 200 {
		t.Fatalf("/healthz answered %d after the examples\n%s", code, s.Logs())
	}
	for _, bad := range []string{"panic", "level=ERROR"} {
		if strings.Contains(s.Logs(), bad) {
			t.Fatalf("the logs hold %q after the examples:\n%s", bad, s.Logs())
		}
	}
	t.Logf("%d example payloads accepted and handled; the bot wrote nothing", len(exs))
}

// browserLogin follows the bot's login link as a browser would, signed in to
// the sandbox GitHub as login: /oauth/login → GitHub's authorize → callback.
func (s *sandboxDev) browserLogin(t *testing.T, login, link string) {
	t.Helper()
	if code := s.JSON(t, "POST", "/sandbox/control/signin", map[string]any{"login": login}, nil); code != 204 {
		t.Fatalf("sign in %s: %d", login, code)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "@"+login) {
		t.Fatalf("login through %s ended with %d %s", link, resp.StatusCode, body)
	}
}

// jobDetail is GET /api/jobs/{id}'s job.
type jobDetail struct {
	jobView
	Thread struct {
		Repo   string
		Number int
	}
	Steps map[string]struct {
		Status   string
		Attempts int
	}
}

func (s *sandboxDev) job(id string) jobDetail {
	var out struct{ Job jobDetail }
	if code := s.JSON(s.t, "GET", "/api/jobs/"+id, nil, &out); code != 200 {
		s.t.Fatalf("/api/jobs/%s: %d", id, code)
	}
	return out.Job
}

// waitJobOf waits for the job of workflow started by login and returns its id.
func (s *sandboxDev) waitJobOf(workflow, login string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, j := range s.jobs() {
			if j.Workflow == workflow && j.User.Login == login {
				return j.ID
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s job by %s within 30 s\n%s\n%s", workflow, login, s.dump(), s.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFinal waits until job id has a final status.
func (s *sandboxDev) waitFinal(id string, within time.Duration) jobDetail {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		j := s.job(id)
		if j.Status != "queued" && j.Status != "running" {
			return j
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s still %s after %s: %+v\n%s\n%s", id, j.Status, within, j.Steps, s.dump(), s.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkStatusComment checks the job's status comment as GitHub last
// received it is final, and that people saw progress on the way: an edit
// showing the job running came before it. Every edit was made with the
// requester's token.
func (s *sandboxDev) checkStatusComment(t *testing.T, j jobDetail) {
	t.Helper()
	edits := func() []write {
		var out []write
		for _, w := range s.writes() {
			if w.Method == "PATCH" && strings.HasSuffix(w.Path, fmt.Sprintf("/issues/comments/%d", j.StatusCommentID)) {
				out = append(out, w)
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	var es []write
	for {
		es = edits()
		if len(es) > 0 && strings.Contains(es[len(es)-1].Body, "· "+j.Status) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status comment %d of %s never became final; edits:\n%+v", j.StatusCommentID, j.ID, es)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var body struct{ Body string }
	_ = json.Unmarshal([]byte(es[len(es)-1].Body), &body)
	if !strings.Contains(body.Body, "### ✅ "+j.Workflow+" · succeeded") || !strings.Contains(body.Body, "kind=status id="+j.ID) {
		t.Errorf("final status comment of %s:\n%s", j.ID, body.Body)
	}
	running := false
	for _, w := range es {
		running = running || strings.Contains(w.Body, "### 🔄 "+j.Workflow+" · running")
		if w.Token != "user" || w.Login != j.User.Login {
			t.Errorf("status edit of %s made with %s/%s, want %s's token", j.ID, w.Token, w.Login, j.User.Login)
		}
	}
	if !running {
		t.Errorf("the status comment of %s never showed the job running", j.ID)
	}
	t.Logf("job %s: %d edits of its status comment, the last: %s", j.ID, len(es), strings.SplitN(body.Body, "\n", 3)[1])
}

// dispatches counts login's workflow_dispatch writes by file and inputs.
func (s *sandboxDev) dispatches(t *testing.T, login string) map[string]int {
	t.Helper()
	out := map[string]int{}
	file := regexp.MustCompile(`/actions/workflows/([^/]+)/dispatches$`)
	for _, w := range s.writes() {
		m := file.FindStringSubmatch(w.Path)
		if m == nil {
			continue
		}
		if w.Token != "user" || w.Login != login {
			t.Errorf("dispatch of %s made with %s/%s, want %s's token", m[1], w.Token, w.Login, login)
		}
		var in struct{ Inputs map[string]string }
		_ = json.Unmarshal([]byte(w.Body), &in)
		key := m[1]
		for _, k := range []string{"job", "environment"} {
			if v := in.Inputs[k]; v != "" {
				key += " " + k + "=" + v
			}
		}
		out[key]++
	}
	return out
}

// auditTokens checks who made each write: the installation only for dave's
// refusal (he had no token yet: no 👀 either, the refusal is the one write
// made as the App); dave for everything of his
// checks run; alice for everything of her ci and deploy runs except bob's 👀
// on his approval and his reply, made with bob's token. reactors says whose
// token must react to which comment.
func (s *sandboxDev) auditTokens(t *testing.T, davesPR int, reactors map[int64]string) {
	t.Helper()
	who := func(w write) string {
		if w.Token == "installation" {
			return "installation"
		}
		return w.Login
	}
	counts := map[string]int{}
	for _, w := range s.writes() {
		by := who(w)
		counts[by]++
		var want string
		for id, r := range reactors {
			if reactionOn(id)(w) {
				want = r
			}
		}
		switch {
		case want != "":
		case strings.Contains(w.Body, "has not connected their GitHub account"):
			want = "installation"
		case strings.Contains(w.Body, "@bob approved"):
			want = "bob"
		case strings.Contains(w.Path, fmt.Sprintf("/issues/%d/", davesPR)) || strings.Contains(w.Body, "id=checks-"):
			want = "dave"
		default:
			want = "alice"
		}
		if by != want {
			t.Errorf("%s %s made by %s, want %s: %.200q", w.Method, w.Path, by, want, w.Body)
		}
	}
	if counts["installation"] != 1 || counts["bob"] != 2 {
		t.Errorf("writes by token: %v; want 1 installation write (the refusal) and 2 of bob's", counts)
	}
}

// botCommentsStartNothing: every comment the bot created came back as an
// issue_comment webhook and was ignored (written through our App, or by
// the App's bot user), and there are still wantJobs jobs.
func (s *sandboxDev) botCommentsStartNothing(t *testing.T, wantJobs int) {
	t.Helper()
	var viaApp, asBot int
	for _, w := range s.writes() {
		if w.Method == "POST" && regexp.MustCompile(`/issues/\d+/comments$`).MatchString(w.Path) {
			if w.Token == "user" {
				viaApp++
			} else {
				asBot++
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		logs := s.Stderr.String()
		gotApp := strings.Count(logs, `msg="comment written through our App: ignored"`)
		gotBot := strings.Count(logs, `msg="comment by a bot: ignored"`)
		if gotApp >= viaApp && gotBot >= asBot {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("of the bot's comments, %d of %d written through the App and %d of %d by the bot user came back and were ignored",
				gotApp, viaApp, gotBot, asBot)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // time for a wrong run to show
	if js := s.jobs(); len(js) != wantJobs {
		t.Fatalf("%d jobs after the bot's comments came back, want %d: %+v", len(js), wantJobs, js)
	}
	t.Logf("%d comments written with users' tokens and %d with the installation's came back as webhooks and were ignored", viaApp, asBot)
}
