package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/commands"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local"
	localjobs "github.com/sbalswa/ai3-mvp/internal/local/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const repo = "octo-org/app"

// executor records what the handler asks of Step Functions.
type executor struct {
	mu      sync.Mutex
	starts  []string
	stops   []string
	success map[string]string
	failure map[string]string
}

func (e *executor) Start(_ context.Context, workflow, name string, _ json.RawMessage) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.starts = append(e.starts, name)
	return "arn:aws:states:us-east-1:000000000000:execution:" + workflow + ":" + name, nil
}
func (e *executor) Stop(_ context.Context, arn, _, _ string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stops = append(e.stops, arn)
	return nil
}
func (e *executor) SendTaskSuccess(_ context.Context, token string, out json.RawMessage) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.success[token] = string(out)
	return nil
}
func (e *executor) SendTaskFailure(_ context.Context, token, name, cause string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failure[token] = name + ": " + cause
	return nil
}
func (e *executor) Describe(context.Context, string) (*jobs.Execution, error) {
	return nil, jobs.ErrNotFound
}

// userTokens hands out the double's grants; a user in expired reads as a
// login that needs renewing.
type userTokens struct {
	mu      sync.Mutex
	tok     map[int64]string
	expired map[int64]bool
}

func (u *userTokens) Token(_ context.Context, id int64) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.expired[id] {
		return "", tokens.ErrReauthRequired
	}
	if t, ok := u.tok[id]; ok {
		return t, nil
	}
	return "", tokens.ErrNotFound
}

// flakyStore fails the next Update once when failUpdate is set: a crash
// between a GitHub write and the record of it.
type flakyStore struct {
	jobs.Store
	failUpdate bool
}

func (f *flakyStore) Update(ctx context.Context, j *jobs.Job) error {
	if f.failUpdate {
		f.failUpdate = false
		return errors.New("injected: the process died here")
	}
	return f.Store.Update(ctx, j)
}

type rig struct {
	t     *testing.T
	gh    *githubdouble.Server
	h     *commands.Handler
	exec  *executor
	store *flakyStore
	users *userTokens
	deps  *commands.Deps
	pr    int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	gh := githubdouble.New(t, githubdouble.WithConfig(func(c *sandbox.Config) { c.Org = "octo-org"; c.InstallationID = 7 }))
	pr, err := gh.CreatePull(repo, sandbox.PullOptions{Title: "feat: x", User: "alice", Head: "feature-x"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := local.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ls, err := localjobs.Open(context.Background(), db, localjobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, gh: gh, exec: &executor{success: map[string]string{}, failure: map[string]string{}},
		store: &flakyStore{Store: ls}, users: &userTokens{tok: map[int64]string{}, expired: map[int64]bool{}}, pr: pr}
	key := gh.AppPrivateKey()
	minter := &githubapp.Minter{AppID: gh.AppID(), APIURL: gh.APIURL(), Key: func(context.Context) ([]byte, error) { return key, nil }}
	auth := &githubapp.Authorizer{Org: "octo-org", Installations: minter, Tokens: r.users, APIURL: gh.APIURL()}
	deps := &commands.Deps{Bot: "ai3-mvp", Jobs: r.store, Executor: r.exec, Authorizer: auth, Tokens: r.users,
		LoginURL: "https://ai3.example/oauth/login", Render: func(j *jobs.Job) string {
			return fmt.Sprintf("%s is %s\n\n%s", j.ID, j.Status, jobs.Marker{Kind: "status", ID: j.ID})
		}}
	r.deps = deps
	r.h = &commands.Handler{Bot: "ai3-mvp", AppID: gh.AppID(), Registry: commands.NewRegistry(deps), Authorizer: auth,
		Tokens: r.users, LoginURL: deps.LoginURL, GitHub: githubapp.Clients{Users: r.users, Installations: minter, APIURL: gh.APIURL()}}
	return r
}

// login makes login a member with write and a stored token.
func (r *rig) login(login string) int64 {
	u := r.gh.EnsureUser(login)
	r.users.mu.Lock()
	r.users.tok[u.ID] = r.gh.IssueUserToken(login).AccessToken
	r.users.mu.Unlock()
	return u.ID
}

// say posts a comment as login and returns the envelope of its webhook.
func (r *rig) say(login, body string) *events.Envelope {
	r.t.Helper()
	before := len(r.gh.Webhooks())
	if _, err := r.gh.CommentAs(repo, r.pr, login, body); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ws := r.gh.Webhooks()
		for _, w := range ws[before:] {
			if w.Event == "issue_comment" && strings.Contains(string(w.Payload), `"action":"created"`) {
				return &events.Envelope{DeliveryID: w.DeliveryID, Event: w.Event, Payload: w.Payload, PayloadComplete: true, ReceivedAt: time.Now()}
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatal("the double delivered no issue_comment webhook")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *rig) handle(env *events.Envelope) error {
	return r.h.Handle(context.Background(), env)
}

// bodies returns the bodies of the comments written on the pull request
// that contain text, with who wrote them.
func (r *rig) bodies(text string) []sandbox.Write {
	var out []sandbox.Write
	for _, w := range r.gh.Writes() {
		if w.Method == "POST" && strings.HasSuffix(w.Path, fmt.Sprintf("/issues/%d/comments", r.pr)) && strings.Contains(w.Body, text) {
			out = append(out, w)
		}
	}
	return out
}

func TestRetriedRunStartsOnce(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	env := r.say("alice", "@ai3-mvp run checks")
	// First attempt dies after posting the status comment, before recording it.
	r.store.failUpdate = true
	if err := r.handle(env); err == nil {
		t.Fatal("the injected crash was not reported")
	}
	for range 2 { // the bus retries; a later duplicate retry changes nothing
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.bodies("kind=status")); n != 1 {
		t.Fatalf("%d status comments, want 1", n)
	}
	if len(r.exec.starts) != 1 {
		t.Fatalf("executions started: %v, want one", r.exec.starts)
	}
	j, err := r.store.Latest(context.Background(), repo, r.pr)
	if err != nil {
		t.Fatal(err)
	}
	if j.StatusCommentID == 0 || j.ExecutionARN == "" || j.Status != jobs.Running || j.User.Login != "alice" || j.Ref != "feature-x" {
		t.Fatalf("job %+v", j)
	}
	if w := r.bodies("kind=status")[0]; w.Token != "user" || w.Login != "alice" {
		t.Fatalf("status comment by %s/%s", w.Token, w.Login)
	}
}

func TestRetriedReplyPostsOnce(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	env := r.say("alice", "@ai3-mvp ping")
	for range 3 {
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.bodies("pong")); n != 1 {
		t.Fatalf("%d pongs for one delivery, want 1", n)
	}
}

func TestExpiredLoginIsToldToLogInAgain(t *testing.T) {
	r := newRig(t)
	id := r.login("erin")
	r.users.expired[id] = true
	if err := r.handle(r.say("erin", "@ai3-mvp run checks")); err != nil {
		t.Fatal(err)
	}
	ws := r.bodies("login has expired")
	if len(ws) != 1 || ws[0].Token != "installation" || !strings.Contains(ws[0].Body, "https://ai3.example/oauth/login") {
		t.Fatalf("replies %+v", ws)
	}
	if len(r.exec.starts) != 0 {
		t.Fatal("an expired login started a job")
	}
}

func TestReplies(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	for _, tc := range []struct{ say, want string }{
		{"@ai3-mvp", "| `run <workflow> [key=value …]` |"},
		{"@ai3-mvp help", "`run deploy [ref=string] smoke_url=string`"},
		{"@ai3-mvp run", "Which workflow?"},
		{"@ai3-mvp run nope", "There is no workflow `nope`. Known: checks, ci, deploy."},
		{"@ai3-mvp run checks max_diff_lines=lots", "want a whole number"},
		{"@ai3-mvp run checks colour=blue", `Unknown argument "colour" (known: max_diff_lines). Usage: ` + "`@ai3-mvp run checks [max_diff_lines=int]`"},
		{"@ai3-mvp cancel nope-123", "There is no job `nope-123`"},
		{"@ai3-mvp status", "No job was started on this thread yet."},
		{"@ai3-mvp login", "[Connect your GitHub account](https://ai3.example/oauth/login)"},
		{"@ai3-mvp whoami", "you may run workflows on " + repo},
		{"@ai3-mvp aprove x", "Did you mean `approve`?"},
	} {
		env := r.say("alice", tc.say)
		if err := r.handle(env); err != nil {
			t.Fatalf("%q: %v", tc.say, err)
		}
		ws := r.bodies("id=" + env.DeliveryID + "#0")
		if len(ws) != 1 || ws[0].Login != "alice" || !strings.Contains(ws[0].Body, jsonText(tc.want)) {
			t.Errorf("%q: want one reply by alice containing %q, got %+v", tc.say, tc.want, ws)
		}
	}
	if len(r.exec.starts) != 0 {
		t.Fatalf("refused commands started %v", r.exec.starts)
	}
}

func TestSixCommandsInOneComment(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	body := strings.Repeat("@ai3-mvp ping\n", 6)
	if err := r.handle(r.say("alice", body)); err != nil {
		t.Fatal(err)
	}
	if n := len(r.bodies("pong")); n != commands.MaxCommandsPerComment {
		t.Fatalf("%d pongs, want %d", n, commands.MaxCommandsPerComment)
	}
	if len(r.bodies("I run at most 5 commands per comment")) != 1 {
		t.Fatal("the sixth command was dropped silently")
	}
}

func TestDeployConcurrencyAndApproval(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	r.login("bob")
	ctx := context.Background()
	if err := r.handle(r.say("alice", "@ai3-mvp run deploy smoke_url=http://127.0.0.1:9/health")); err != nil {
		t.Fatal(err)
	}
	first, err := r.store.Latest(ctx, repo, r.pr)
	if err != nil || first.Lock == "" {
		t.Fatalf("first deploy %+v, %v", first, err)
	}
	if err := r.handle(r.say("bob", "@ai3-mvp run deploy smoke_url=http://127.0.0.1:9/health")); err != nil {
		t.Fatal(err)
	}
	if ws := r.bodies("is already running on " + repo + " as job `" + first.ID + "`"); len(ws) != 1 || ws[0].Login != "bob" {
		t.Fatalf("second deploy not refused naming the first: %+v", r.bodies("already"))
	}
	if len(r.exec.starts) != 1 {
		t.Fatalf("starts %v", r.exec.starts)
	}
	// The approval step waits with a task token.
	first.Steps["approval"] = &jobs.Step{Status: jobs.Waiting, TaskToken: "tok-approval"}
	if err := r.store.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := r.handle(r.say("alice", "@ai3-mvp approve "+first.ID)); err != nil {
		t.Fatal(err)
	}
	if len(r.bodies("someone else must approve it")) != 1 || len(r.exec.success) != 0 {
		t.Fatal("the requester approved their own deploy")
	}
	if err := r.handle(r.say("bob", "@ai3-mvp approve "+first.ID)); err != nil {
		t.Fatal(err)
	}
	if out := r.exec.success["tok-approval"]; out != `{"decision":"approved","approved_by":"bob"}` {
		t.Fatalf("task output %q", out)
	}
	j, _ := r.store.Get(ctx, first.ID)
	if st := j.Steps["approval"]; st.Status != jobs.Succeeded || st.Detail != "approved by @bob" || st.TaskToken != "" {
		t.Fatalf("approval step %+v", st)
	}
	if err := r.handle(r.say("bob", "@ai3-mvp cancel "+first.ID)); err != nil {
		t.Fatal(err)
	}
	if len(r.exec.stops) != 1 || r.exec.stops[0] != j.ExecutionARN {
		t.Fatalf("stops %v", r.exec.stops)
	}
}

// jsonText is text as it appears inside a JSON string (the recorded bodies).
func jsonText(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSpace(b.String())
	return out[1 : len(out)-1]
}

// Without a login, whatever the comment asks, the App writes exactly one
// thing — the reply saying why, with the login link — and nothing else: no
// 👀, no help, no answer to the commands themselves.
func TestWithoutALoginTheAppWritesOnlyTheRefusal(t *testing.T) {
	for _, say := range []string{"@ai3-mvp help", "@ai3-mvp ping", "@ai3-mvp whoami", "@ai3-mvp", "@ai3-mvp nonsense",
		"@ai3-mvp login", "@ai3-mvp run checks\n@ai3-mvp status"} {
		t.Run(say, func(t *testing.T) {
			r := newRig(t)
			r.gh.EnsureUser("frank") // a member with write who never logged in
			env := r.say("frank", say)
			before := len(r.gh.Writes())
			if err := r.handle(env); err != nil {
				t.Fatal(err)
			}
			ws := r.gh.Writes()[before:]
			if len(ws) != 1 {
				t.Fatalf("%d writes, want the one refusal: %+v", len(ws), ws)
			}
			w := ws[0]
			if w.Token != "installation" || w.Method != "POST" || !strings.HasSuffix(w.Path, fmt.Sprintf("/issues/%d/comments", r.pr)) ||
				!strings.Contains(w.Body, "https://ai3.example/oauth/login") || !strings.Contains(w.Body, "@frank") {
				t.Fatalf("write %+v, want the refusal with the login link, as the installation", w)
			}
			if len(r.exec.starts) != 0 {
				t.Fatal("a job started without a login")
			}
		})
	}
}
