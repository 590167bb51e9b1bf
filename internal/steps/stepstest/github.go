package stepstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Write is one write request GitHub served: who made it (a user's login, or
// "installation") and what.
type Write struct {
	Method, Path, Who string
	Status            int
}

// Run is a GitHub Actions run the stand-in started.
type Run struct {
	ID           int64             `json:"id"`
	RunNumber    int               `json:"run_number"`
	Name         string            `json:"name"`
	DisplayTitle string            `json:"display_title"`
	Path         string            `json:"path"`
	Event        string            `json:"event"`
	Status       string            `json:"status"`
	Conclusion   *string           `json:"conclusion"`
	HTMLURL      string            `json:"html_url"`
	HeadBranch   string            `json:"head_branch"`
	Inputs       map[string]string `json:"-"`
	Repo         string            `json:"-"`
	By           string            `json:"-"`
}

// PR is a pull request the stand-in serves.
type PR struct {
	Number         int      `json:"number"`
	Title          string   `json:"title"`
	Additions      int      `json:"additions"`
	Deletions      int      `json:"deletions"`
	Mergeable      *bool    `json:"mergeable"`
	MergeableState string   `json:"mergeable_state"`
	Labels         []string `json:"-"`
}

// GitHub stands in for GitHub's REST API under /api/v3/ for the paths the
// steps use. Auth decides who a request is from; a request it refuses gets
// 401 Bad credentials.
type GitHub struct {
	URL  string
	Auth func(r *http.Request) (who string, ok bool)
	// OnRunCompleted receives the workflow_run "completed" payload of every
	// run that Complete ends (the webhook GitHub would send).
	OnRunCompleted func(payload []byte)
	// ReturnRunDetails makes dispatch answer 200 with the run's id (GitHub's
	// return_run_details), instead of 204.
	ReturnRunDetails bool

	mu       sync.Mutex
	comments map[int64]string
	commentN int64
	runs     []*Run
	prs      map[string]*PR
	writes   []Write
	failures []failure
}

type failure struct {
	match      string
	status     int
	retryAfter int
}

// NewGitHub starts the stand-in until the test ends.
func NewGitHub(t testing.TB, auth func(r *http.Request) (string, bool)) *GitHub {
	g := &GitHub{Auth: auth, comments: map[int64]string{}, prs: map[string]*PR{}, commentN: 1000}
	mux := http.NewServeMux()
	api := "/api/v3/repos/{owner}/{repo}/"
	mux.HandleFunc("POST "+api+"issues/{n}/comments", g.createComment)
	mux.HandleFunc("PATCH "+api+"issues/comments/{id}", g.editComment)
	mux.HandleFunc("GET "+api+"pulls/{n}", g.getPR)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{repo}", g.getRepo)
	mux.HandleFunc("POST "+api+"actions/workflows/{file}/dispatches", g.dispatch)
	mux.HandleFunc("GET "+api+"actions/workflows/{file}/runs", g.listRuns)
	mux.HandleFunc("GET "+api+"actions/runs/{id}", g.getRun)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := g.Auth(r)
		if !ok {
			writeJSON(w, 401, map[string]string{"message": "Bad credentials"})
			return
		}
		r.Header.Set("X-Test-Who", who)
		if r.Method != http.MethodGet {
			if f, ok := g.failure(r); ok {
				g.record(r, who, f.status)
				if f.retryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
				}
				msg := "Server Error"
				if f.status == 403 || f.status == 429 {
					msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
				}
				writeJSON(w, f.status, map[string]string{"message": msg,
					"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// APIURL is the REST root to give go-github clients.
func (g *GitHub) APIURL() string { return g.URL + "/api/v3/" }

// FailNext makes the next n write requests whose path contains match
// answer status (with Retry-After: retryAfter seconds when > 0).
func (g *GitHub) FailNext(n int, match string, status, retryAfter int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for range n {
		g.failures = append(g.failures, failure{match, status, retryAfter})
	}
}

func (g *GitHub) failure(r *http.Request) (failure, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, f := range g.failures {
		if strings.Contains(r.URL.Path, f.match) {
			g.failures = append(g.failures[:i], g.failures[i+1:]...)
			return f, true
		}
	}
	return failure{}, false
}

func (g *GitHub) record(r *http.Request, who string, status int) {
	g.mu.Lock()
	g.writes = append(g.writes, Write{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/api/v3"), Who: who, Status: status})
	g.mu.Unlock()
}

// Writes returns every write request served, in order.
func (g *GitHub) Writes() []Write {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Write(nil), g.writes...)
}

// Comment returns a comment's body.
func (g *GitHub) Comment(id int64) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.comments[id]
}

// Comments returns every comment body by id.
func (g *GitHub) Comments() map[int64]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[int64]string, len(g.comments))
	for k, v := range g.comments {
		out[k] = v
	}
	return out
}

// SetPR serves a pull request of repo.
func (g *GitHub) SetPR(repo string, pr PR) {
	g.mu.Lock()
	g.prs[repo+"#"+strconv.Itoa(pr.Number)] = &pr
	g.mu.Unlock()
}

// Runs returns the runs dispatched so far.
func (g *GitHub) Runs() []Run {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Run, len(g.runs))
	for i, r := range g.runs {
		out[i] = *r
	}
	return out
}

// Complete ends run id with conclusion and sends its workflow_run webhook.
func (g *GitHub) Complete(id int64, conclusion string) error {
	g.mu.Lock()
	var run *Run
	for _, r := range g.runs {
		if r.ID == id {
			run = r
		}
	}
	if run == nil {
		g.mu.Unlock()
		return fmt.Errorf("no run %d", id)
	}
	run.Status, run.Conclusion = "completed", &conclusion
	owner, name, _ := strings.Cut(run.Repo, "/")
	payload, _ := json.Marshal(map[string]any{"action": "completed", "workflow_run": run,
		"repository": map[string]any{"full_name": run.Repo, "name": name, "owner": map[string]any{"login": owner}}})
	hook := g.OnRunCompleted
	g.mu.Unlock()
	if hook != nil {
		hook(payload)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *GitHub) createComment(w http.ResponseWriter, r *http.Request) {
	var in struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	g.record(r, r.Header.Get("X-Test-Who"), 201)
	g.mu.Lock()
	g.commentN++
	id := g.commentN
	g.comments[id] = in.Body
	g.mu.Unlock()
	writeJSON(w, 201, map[string]any{"id": id, "body": in.Body})
}

func (g *GitHub) editComment(w http.ResponseWriter, r *http.Request) {
	var in struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	g.mu.Lock()
	_, ok := g.comments[id]
	if ok {
		g.comments[id] = in.Body
	}
	g.mu.Unlock()
	if !ok {
		g.record(r, r.Header.Get("X-Test-Who"), 404)
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	g.record(r, r.Header.Get("X-Test-Who"), 200)
	writeJSON(w, 200, map[string]any{"id": id, "body": in.Body})
}

// AddComment creates a comment as if posted (the jobs service's initial
// status comment) and returns its id.
func (g *GitHub) AddComment(body string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commentN++
	g.comments[g.commentN] = body
	return g.commentN
}

func (g *GitHub) getPR(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	pr, ok := g.prs[r.PathValue("owner")+"/"+r.PathValue("repo")+"#"+r.PathValue("n")]
	g.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	labels := []map[string]string{}
	for _, l := range pr.Labels {
		labels = append(labels, map[string]string{"name": l})
	}
	b, _ := json.Marshal(pr)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	out["labels"] = labels
	out["html_url"] = fmt.Sprintf("https://github.example/%s/%s/pull/%d", r.PathValue("owner"), r.PathValue("repo"), pr.Number)
	writeJSON(w, 200, out)
}

func (g *GitHub) getRepo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"full_name": r.PathValue("owner") + "/" + r.PathValue("repo"), "default_branch": "main"})
}

func (g *GitHub) dispatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ref    string            `json:"ref"`
		Inputs map[string]string `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Ref == "" {
		writeJSON(w, 422, map[string]string{"message": "ref is required"})
		return
	}
	who := r.Header.Get("X-Test-Who")
	g.record(r, who, 204)
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	g.mu.Lock()
	id := int64(5000 + len(g.runs) + 1)
	file := r.PathValue("file")
	run := &Run{ID: id, RunNumber: len(g.runs) + 1, Name: strings.TrimSuffix(file, ".yml"),
		DisplayTitle: strings.TrimSuffix(file, ".yml") + " " + in.Inputs["ai3_run"], Path: ".github/workflows/" + file,
		Event: "workflow_dispatch", Status: "queued", HeadBranch: in.Ref, Inputs: in.Inputs, Repo: repo, By: who,
		HTMLURL: fmt.Sprintf("https://github.example/%s/actions/runs/%d", repo, id)}
	g.runs = append(g.runs, run)
	details := g.ReturnRunDetails
	g.mu.Unlock()
	if details {
		writeJSON(w, 200, map[string]any{"workflow_run_id": id, "run_url": g.APIURL() + "repos/" + repo + "/actions/runs/" + strconv.FormatInt(id, 10), "html_url": run.HTMLURL})
		return
	}
	w.WriteHeader(204)
}

func (g *GitHub) listRuns(w http.ResponseWriter, r *http.Request) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	g.mu.Lock()
	var out []*Run
	for i := len(g.runs) - 1; i >= 0; i-- {
		run := g.runs[i]
		if run.Repo == repo && run.Path == ".github/workflows/"+r.PathValue("file") {
			c := *run
			out = append(out, &c)
		}
	}
	g.mu.Unlock()
	writeJSON(w, 200, map[string]any{"total_count": len(out), "workflow_runs": out})
}

func (g *GitHub) getRun(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, run := range g.runs {
		if run.ID == id {
			writeJSON(w, 200, run)
			return
		}
	}
	writeJSON(w, 404, map[string]string{"message": "Not Found"})
}

// TokenAuth authorizes "Bearer <token>" requests by a fixed token → who map.
func TokenAuth(tokens map[string]string) func(*http.Request) (string, bool) {
	var mu sync.Mutex
	return func(r *http.Request) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		who, ok := tokens[tok]
		return who, ok
	}
}

// Eventually fails the test unless cond holds within the given time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
