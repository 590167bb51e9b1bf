package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local"
	localjobs "github.com/sbalswa/ai3-mvp/internal/local/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

// repo is where the tests' jobs run.
const repo = "octo/app"

// hub is the tests' GitHub: the GitHub double (the production stand-in)
// with octo/app, a pull request from feature-x, alice and bob (who hold
// user tokens) and the App installed as 77. Its Actions runs advance only
// when a test completes them; their workflow_run webhooks go to onRun.
type hub struct {
	*githubdouble.Server
	pr                   int // the pull request jobs run on
	aliceToken, bobToken string

	mu     sync.Mutex
	timers []func()
	onRun  func(payload []byte)
}

func newHub(t testing.TB, opts ...githubdouble.Option) *hub {
	t.Helper()
	h := &hub{}
	opts = append([]githubdouble.Option{githubdouble.WithTimer(h.after), githubdouble.WithWebhookSink(h.webhook)}, opts...)
	h.Server = githubdouble.New(t, opts...)
	h.InstallApp(77)
	h.aliceToken = h.IssueUserToken("alice").AccessToken
	h.bobToken = h.IssueUserToken("bob").AccessToken
	var err error
	if h.pr, err = h.CreatePull(repo, sandbox.PullOptions{Title: "feat(api): add widgets", Head: "feature-x", User: "alice", Additions: 10, Deletions: 5}); err != nil {
		t.Fatal(err)
	}
	return h
}

// after holds the double's Actions timers until a test completes a run.
func (h *hub) after(_ time.Duration, f func()) {
	h.mu.Lock()
	h.timers = append(h.timers, f)
	h.mu.Unlock()
}

func (h *hub) webhook(_ context.Context, event, _ string, payload []byte) {
	h.mu.Lock()
	on := h.onRun
	h.mu.Unlock()
	if event == "workflow_run" && on != nil {
		on(payload)
	}
}

// setOnRun sets who receives the workflow_run webhooks.
func (h *hub) setOnRun(f func(payload []byte)) {
	h.mu.Lock()
	h.onRun = f
	h.mu.Unlock()
}

// complete ends run id with conclusion: the double moves it through
// in_progress to completed and sends the webhooks. Other runs advance too.
func (h *hub) complete(t testing.TB, id int64, conclusion string) {
	t.Helper()
	if err := h.SetRunConclusion(id, conclusion); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, fmt.Sprintf("run %d to complete", id), func() bool {
		h.mu.Lock()
		due := h.timers
		h.timers = nil
		h.mu.Unlock()
		for _, f := range due {
			f()
		}
		for _, r := range h.Runs() {
			if r.ID == id && r.Status == "completed" {
				return true
			}
		}
		return false
	})
}

// runURL is a run's html_url.
func (h *hub) runURL(id int64) string { return fmt.Sprintf("%s/%s/actions/runs/%d", h.URL, repo, id) }

// client reads GitHub as bob, with a token of its own (the users' may
// have expired on the double's clock).
func (h *hub) client() *github.Client {
	c, err := github.NewClient(nil).WithAuthToken(h.IssueUserToken("bob").AccessToken).WithEnterpriseURLs(h.APIURL(), h.APIURL())
	if err != nil {
		panic(err)
	}
	return c
}

// comment returns an issue comment's body as GitHub serves it.
func (h *hub) comment(t testing.TB, id int64) string {
	t.Helper()
	c, _, err := h.client().Issues.GetComment(context.Background(), "octo", "app", id)
	if err != nil {
		t.Fatalf("read comment %d: %v", id, err)
	}
	return c.GetBody()
}

// comments returns the bodies of the comments on pull request n.
func (h *hub) comments(t testing.TB, n int) []string {
	t.Helper()
	cs, _, err := h.client().Issues.ListComments(context.Background(), "octo", "app", n, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		t.Fatalf("list comments: %v", err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.GetBody())
	}
	return out
}

// addComment posts a comment on pull request n as alice (the jobs
// service's initial status comment) and returns its id.
func (h *hub) addComment(t testing.TB, n int, body string) int64 {
	t.Helper()
	id, err := h.CommentAs(repo, n, "alice", body)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// who names the maker of a write: a user's login, or "installation".
func who(w sandbox.Write) string {
	if w.Token == "installation" {
		return "installation"
	}
	return w.Login
}

// writesBy counts GitHub writes by who (and path substring).
func writesBy(ws []sandbox.Write, by, path string) int {
	n := 0
	for _, w := range ws {
		if who(w) == by && strings.Contains(w.Path, path) {
			n++
		}
	}
	return n
}

// commentWrites is the PATCH path pattern of issue comments, for FailNext.
const commentWrites = "/api/v3/repos/*/*/issues/comments/*"

// dropRunDetails removes return_run_details from a dispatch request's body.
func dropRunDetails(r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	delete(body, "return_run_details")
	b, _ := json.Marshal(body)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
}

// withoutRunDetails returns an API root that forwards to h but drops
// return_run_details from dispatches, as GitHub Enterprise Server versions
// that predate it do (they answer 204 without the run).
func (h *hub) withoutRunDetails(t testing.TB) string {
	target, _ := url.Parse(h.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/dispatches") {
			dropRunDetails(r)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v3/"
}

// vault hands out each user's token from the double until revoked.
type vault struct {
	mu      sync.Mutex
	tokens  map[int64]string
	revoked map[int64]bool
	calls   atomic.Int64
}

func newVault(h *hub) *vault {
	return &vault{tokens: map[int64]string{1001: h.aliceToken, 1002: h.bobToken}, revoked: map[int64]bool{}}
}

func (v *vault) Token(_ context.Context, id int64) (string, error) {
	v.calls.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.revoked[id] || v.tokens[id] == "" {
		return "", fmt.Errorf("token of user %d: %w", id, tokens.ErrNotFound)
	}
	return v.tokens[id], nil
}

func (v *vault) revoke(id int64) {
	v.mu.Lock()
	v.revoked[id] = true
	v.mu.Unlock()
}

// installations mints installation tokens from the double with the App's key.
func installations(h *hub) githubapp.InstallationTokens {
	return &githubapp.Minter{AppID: h.AppID(), APIURL: h.APIURL(),
		Key: func(context.Context) ([]byte, error) { return h.AppPrivateKey(), nil }}
}

// countingStore is the SQLite jobs store, counting job updates.
type countingStore struct {
	jobs.Store
	updates atomic.Int64
}

func (s *countingStore) Update(ctx context.Context, j *jobs.Job) error {
	err := s.Store.Update(ctx, j)
	if err == nil {
		s.updates.Add(1)
	}
	return err
}

// Updates counts successful job updates.
func (s *countingStore) Updates() int64 { return s.updates.Load() }

// openStore opens the embedded shape's job store on a new SQLite file.
func openStore(t testing.TB, dir string, now func() time.Time) *countingStore {
	t.Helper()
	ctx := context.Background()
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := localjobs.Open(ctx, db, localjobs.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(); db.Close() })
	return &countingStore{Store: store}
}

// eventually fails the test unless cond holds within the given time.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newJob is a job of alice's on the hub's pull request, its steps pending.
func newJob(id, workflow string, steps []string, commentID int64, pr int) *jobs.Job {
	j := &jobs.Job{ID: id, Workflow: workflow, Thread: jobs.Thread{Repo: repo, Kind: jobs.PullThread, Number: pr},
		Ref: "feature-x", User: jobs.User{ID: 1001, Login: "alice"}, InstallationID: 77,
		Status: jobs.Queued, Steps: map[string]*jobs.Step{}, StatusCommentID: commentID, CreatedAt: time.Now()}
	for _, s := range steps {
		j.Steps[s] = &jobs.Step{Status: jobs.Pending}
	}
	return j
}

// request is one write request that reached GitHub, refused or not.
type request struct {
	Method, Path string
	Status       int
	At           time.Time
}

// front is a recorder in front of the hub: every write request (POST,
// PATCH, PUT, DELETE) it forwards is kept with its answer's status and the
// time now says, so the tests count what GitHub's limits count, refused
// requests included.
type front struct {
	mu   sync.Mutex
	reqs []request
}

// recorded returns the write requests so far, in order.
func (f *front) recorded() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// front returns the recorder and the API root to give the code under test.
func (h *hub) front(t testing.TB, now func() time.Time) (*front, string) {
	target, _ := url.Parse(h.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	f := &front{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		at := now()
		proxy.ServeHTTP(rec, r)
		f.mu.Lock()
		f.reqs = append(f.reqs, request{Method: r.Method, Path: r.URL.Path, Status: rec.status, At: at})
		f.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL + "/api/v3/"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
