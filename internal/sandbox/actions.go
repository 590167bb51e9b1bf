package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type run struct {
	ID           int64          `json:"id"`
	Repo         string         `json:"repo"`
	Workflow     string         `json:"workflow"` // file name
	Name         string         `json:"name"`
	DisplayTitle string         `json:"display_title"`
	Branch       string         `json:"branch"`
	SHA          string         `json:"sha"`
	Status       string         `json:"status"` // queued, in_progress, completed
	Conclusion   string         `json:"conclusion,omitempty"`
	Forced       string         `json:"forced,omitempty"` // conclusion set for this run
	Number       int            `json:"number"`
	Actor        string         `json:"actor"`
	Inputs       map[string]any `json:"inputs,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	StartedAt    time.Time      `json:"started_at"`
}

// Run is a workflow run as the sandbox simulates it.
type Run struct {
	ID           int64
	Repo         string // owner/name
	Workflow     string // file name, e.g. "ci.yml"
	DisplayTitle string
	Ref          string
	Status       string // queued, in_progress, completed
	Conclusion   string // set once completed
	Actor        string // who dispatched it (a person, or the App's bot)
	Inputs       map[string]any
}

// Runs returns the workflow runs dispatched so far, oldest first.
func (s *Sandbox) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Run
	for _, r := range s.st.Runs {
		out = append(out, Run{ID: r.ID, Repo: r.Repo, Workflow: r.Workflow, DisplayTitle: r.DisplayTitle, Ref: r.Branch,
			Status: r.Status, Conclusion: r.Conclusion, Actor: r.Actor, Inputs: r.Inputs})
	}
	slices.SortFunc(out, func(a, b Run) int { return int(a.ID - b.ID) })
	return out
}

// SetConclusion sets the conclusion of the runs of workflow file in repo
// that complete from now on ("success" unless set: failure, cancelled, …).
func (s *Sandbox) SetConclusion(fullName, file, conclusion string) {
	s.mu.Lock()
	s.st.Conclusions[fullName+":"+file] = conclusion
	s.changed()
	s.mu.Unlock()
	s.save()
}

// SetRunConclusion sets the conclusion run id will complete with.
func (s *Sandbox) SetRunConclusion(id int64, conclusion string) error {
	s.mu.Lock()
	r, ok := s.st.Runs[id]
	if ok {
		r.Forced = conclusion
		s.changed()
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("sandbox: no workflow run %d", id)
	}
	s.save()
	return nil
}

// dispatchInput is the body of a workflow dispatch.
type dispatchInput struct {
	Ref              string         `json:"ref"`
	Inputs           map[string]any `json:"inputs"`
	ReturnRunDetails bool           `json:"return_run_details"`
}

func (s *Sandbox) dispatch(q *repoRequest, in *dispatchInput) {
	w, rp := q.w, q.rp
	wf := s.workflowOf(rp, q.r.PathValue("workflow"))
	switch {
	case wf == nil:
		notFound(w)
		return
	case in.Ref == "":
		validationFailed(w, "\"ref\" wasn't supplied.")
		return
	case len(in.Inputs) > 25:
		validationFailed(w, "you may only provide a maximum of 25 inputs")
		return
	}
	branch := strings.TrimPrefix(in.Ref, "refs/heads/")
	rp.RunNumber++
	now := s.now().UTC()
	title := wf.Name
	if v, ok := in.Inputs["ai3_run"]; ok {
		title = strings.TrimSpace(wf.Name + " " + fmt.Sprint(v))
	}
	run := &run{ID: s.newID(), Repo: rp.fullName(), Workflow: wf.File, Name: wf.Name, DisplayTitle: title, Branch: branch,
		SHA: rp.branchHead(branch), Status: "queued", Number: rp.RunNumber, Actor: q.c.user.Login, Inputs: in.Inputs,
		CreatedAt: now, UpdatedAt: now}
	s.st.Runs[run.ID] = run
	s.changed()
	q.record()
	if in.ReturnRunDetails {
		writeJSON(w, http.StatusOK, map[string]any{"workflow_run_id": run.ID,
			"run_url":  s.api("repos", rp.Owner, rp.Name, "actions", "runs", fmt.Sprint(run.ID)),
			"html_url": s.web(rp.Owner, rp.Name, "actions", "runs", fmt.Sprint(run.ID))})
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	ev := s.runEvent("requested", run)
	ev.then = func() { s.schedule(run.ID, s.cfg.RunStart) } // never before "requested" is out
	s.emit(w, ev)
}

// workflowOf finds a workflow by numeric id or file name; a file name not
// seen before is declared. Under s.mu.
func (s *Sandbox) workflowOf(rp *repo, id string) *workflow {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		for _, wf := range rp.Workflows {
			if wf.ID == n {
				return wf
			}
		}
		return nil
	}
	if !strings.HasSuffix(id, ".yml") && !strings.HasSuffix(id, ".yaml") {
		return nil
	}
	return s.ensureWorkflow(rp, id)
}

// schedule advances run id after d unless the sandbox closed.
func (s *Sandbox) schedule(id int64, d time.Duration) {
	s.cfg.AfterFunc(max(d, 0), func() { s.advance(id) })
}

// advance moves a run one step: queued → in_progress → completed, and
// announces it.
func (s *Sandbox) advance(id int64) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.inflight.Add(1)
	defer s.inflight.Done()
	r, ok := s.st.Runs[id]
	if !ok || r.Status == "completed" {
		s.mu.Unlock()
		return
	}
	now := s.now().UTC()
	var action string
	var next func()
	if r.Status == "queued" {
		r.Status, r.StartedAt, action = "in_progress", now, "in_progress"
		next = func() { s.schedule(id, s.cfg.RunFinish) }
	} else {
		r.Status, action = "completed", "completed"
		r.Conclusion = r.Forced
		if r.Conclusion == "" {
			r.Conclusion = s.st.Conclusions[r.Repo+":"+r.Workflow]
		}
		if r.Conclusion == "" {
			r.Conclusion = "success"
		}
	}
	r.UpdatedAt = now
	s.changed()
	ev := s.runEvent(action, r)
	ev.then = next
	s.mu.Unlock()
	s.save()
	s.deliver(ev)
}

// resumeRuns schedules what remains of the runs a restart interrupted.
func (s *Sandbox) resumeRuns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, r := range s.st.Runs {
		switch r.Status {
		case "queued":
			s.schedule(r.ID, s.cfg.RunStart-now.Sub(r.CreatedAt))
		case "in_progress":
			s.schedule(r.ID, s.cfg.RunFinish-now.Sub(r.StartedAt))
		}
	}
}

func (s *Sandbox) runEvent(action string, r *run) event {
	rp := s.st.Repos[r.Repo]
	p := map[string]any{"action": action, "workflow": s.workflowJSON(rp, rp.Workflows[r.Workflow]), "workflow_run": s.runJSON(r)}
	return event{name: "workflow_run", key: fmt.Sprintf("run/%d", r.ID), payload: s.envelope(p, rp, s.addUser(r.Actor))}
}

func (s *Sandbox) workflowJSON(rp *repo, wf *workflow) map[string]any {
	return map[string]any{
		"id": wf.ID, "node_id": nodeID("W_", wf.ID), "name": wf.Name, "path": ".github/workflows/" + wf.File, "state": "active",
		"created_at": stamp(wf.CreatedAt), "updated_at": stamp(wf.CreatedAt),
		"url":       s.api("repos", rp.Owner, rp.Name, "actions", "workflows", fmt.Sprint(wf.ID)),
		"html_url":  s.web(rp.Owner, rp.Name, "blob", rp.DefaultBranch, ".github", "workflows", wf.File),
		"badge_url": s.web(rp.Owner, rp.Name, "workflows", wf.Name, "badge.svg"),
	}
}

// repoLiteJSON is the short repository form workflow runs carry.
func (s *Sandbox) repoLiteJSON(rp *repo) map[string]any {
	full := s.repoJSON(rp)
	keep := []string{"archive_url", "assignees_url", "blobs_url", "branches_url", "collaborators_url", "comments_url",
		"commits_url", "compare_url", "contents_url", "contributors_url", "deployments_url", "description", "downloads_url",
		"events_url", "fork", "forks_url", "full_name", "git_commits_url", "git_refs_url", "git_tags_url", "hooks_url",
		"html_url", "id", "issue_comment_url", "issue_events_url", "issues_url", "keys_url", "labels_url", "languages_url",
		"merges_url", "milestones_url", "name", "node_id", "notifications_url", "owner", "private", "pulls_url",
		"releases_url", "stargazers_url", "statuses_url", "subscribers_url", "subscription_url", "tags_url", "teams_url",
		"trees_url", "url"}
	m := map[string]any{}
	for _, k := range keep {
		m[k] = full[k]
	}
	return m
}

func (s *Sandbox) runJSON(r *run) map[string]any {
	rp := s.st.Repos[r.Repo]
	wf := rp.Workflows[r.Workflow]
	au := s.api("repos", rp.Owner, rp.Name, "actions", "runs", fmt.Sprint(r.ID))
	actor := s.userByLogin(r.Actor)
	var conclusion any
	if r.Status == "completed" {
		conclusion = r.Conclusion
	}
	started := r.StartedAt
	if started.IsZero() {
		started = r.CreatedAt
	}
	suite := r.ID + 1
	return map[string]any{
		"id": r.ID, "name": r.Name, "node_id": nodeID("WFR_", r.ID), "head_branch": r.Branch, "head_sha": r.SHA,
		"path": ".github/workflows/" + r.Workflow, "display_title": r.DisplayTitle, "run_number": r.Number, "event": "workflow_dispatch",
		"status": r.Status, "conclusion": conclusion, "workflow_id": wf.ID, "check_suite_id": suite,
		"check_suite_node_id": nodeID("CS_", suite), "url": au, "html_url": s.web(rp.Owner, rp.Name, "actions", "runs", fmt.Sprint(r.ID)),
		"pull_requests": []any{}, "created_at": stamp(r.CreatedAt), "updated_at": stamp(r.UpdatedAt), "actor": actor,
		"triggering_actor": actor, "run_attempt": 1, "referenced_workflows": []any{}, "run_started_at": stamp(started),
		"jobs_url": au + "/jobs", "logs_url": au + "/logs", "check_suite_url": s.api("repos", rp.Owner, rp.Name, "check-suites", fmt.Sprint(suite)),
		"artifacts_url": au + "/artifacts", "cancel_url": au + "/cancel", "rerun_url": au + "/rerun", "previous_attempt_url": nil,
		"workflow_url": s.api("repos", rp.Owner, rp.Name, "actions", "workflows", fmt.Sprint(wf.ID)),
		"head_commit": map[string]any{"id": r.SHA, "tree_id": fakeSHA("tree:" + r.SHA), "message": "Sandbox commit on " + r.Branch,
			"timestamp": stamp(rp.CreatedAt), "author": map[string]string{"name": "ai3 sandbox", "email": "sandbox@example.com"},
			"committer": map[string]string{"name": "ai3 sandbox", "email": "sandbox@example.com"}},
		"repository": s.repoLiteJSON(rp), "head_repository": s.repoLiteJSON(rp),
	}
}

func (s *Sandbox) getRun(q *repoRequest) {
	id, _ := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	run, found := s.st.Runs[id]
	if !found || run.Repo != q.rp.fullName() {
		notFound(q.w)
		return
	}
	writeJSON(q.w, http.StatusOK, s.runJSON(run))
}

func (s *Sandbox) listRuns(q *repoRequest) {
	rp := q.rp
	f := q.r.URL.Query() // the filters
	created, err := parseCreated(f.Get("created"))
	if err != nil {
		validationFailed(q.w, err.Error())
		return
	}
	// Under actions/workflows/{workflow}/runs: that workflow's runs only
	// (by file name or id); the workflow must exist.
	var wf *workflow
	if id := q.r.PathValue("workflow"); id != "" {
		wf = rp.Workflows[id]
		for _, x := range rp.Workflows {
			if strconv.FormatInt(x.ID, 10) == id {
				wf = x
			}
		}
		if wf == nil {
			notFound(q.w)
			return
		}
	}
	var runs []*run
	for _, x := range s.st.Runs {
		match := x.Repo == rp.fullName() && (wf == nil || x.Workflow == wf.File) &&
			(f.Get("event") == "" || f.Get("event") == "workflow_dispatch") &&
			(f.Get("branch") == "" || f.Get("branch") == x.Branch) &&
			(f.Get("actor") == "" || f.Get("actor") == x.Actor) &&
			(f.Get("head_sha") == "" || f.Get("head_sha") == x.SHA) &&
			(f.Get("status") == "" || f.Get("status") == x.Status || (x.Status == "completed" && f.Get("status") == x.Conclusion)) &&
			created(x.CreatedAt)
		if match {
			runs = append(runs, x)
		}
	}
	slices.SortFunc(runs, func(a, b *run) int { return int(b.ID - a.ID) }) // newest first
	if out, ok := pageJSON(q, runs, s.runJSON); ok {
		writeJSON(q.w, http.StatusOK, map[string]any{"total_count": len(runs), "workflow_runs": out})
	}
}

// parseCreated reads GitHub's date filter: ">=T", "<=T", ">T", "<T",
// "A..B" or a single day, with T a date or an RFC 3339 time.
func parseCreated(q string) (func(time.Time) bool, error) {
	if q == "" {
		return func(time.Time) bool { return true }, nil
	}
	parse := func(v string) (time.Time, time.Time, error) {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, t, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("created: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", v)
		}
		return t, t.Add(24*time.Hour - time.Nanosecond), nil
	}
	if a, b, ok := strings.Cut(q, ".."); ok {
		from, _, err := parse(a)
		if err != nil {
			return nil, err
		}
		_, to, err := parse(b)
		if err != nil {
			return nil, err
		}
		return func(t time.Time) bool { return !t.Before(from) && !t.After(to) }, nil
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if v, ok := strings.CutPrefix(q, op); ok {
			from, to, err := parse(v)
			if err != nil {
				return nil, err
			}
			return map[string]func(time.Time) bool{
				">=": func(t time.Time) bool { return !t.Before(from) }, "<=": func(t time.Time) bool { return !t.After(to) },
				">": func(t time.Time) bool { return t.After(to) }, "<": func(t time.Time) bool { return t.Before(from) },
			}[op], nil
		}
	}
	from, to, err := parse(q)
	if err != nil {
		return nil, err
	}
	return func(t time.Time) bool { return !t.Before(from) && !t.After(to) }, nil
}
