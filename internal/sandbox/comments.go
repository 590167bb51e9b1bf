package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Comment kinds: on an issue or pull request's conversation, on a pull
// request's diff (review comment), on a commit.
const (
	kindIssue  = "issue"
	kindReview = "review"
	kindCommit = "commit"
)

type comment struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Repo      string     `json:"repo"`
	Number    int        `json:"number,omitempty"` // issue or pull request
	CommitID  string     `json:"commit_id,omitempty"`
	Path      string     `json:"path,omitempty"`
	Line      int        `json:"line,omitempty"`
	InReplyTo int64      `json:"in_reply_to,omitempty"`
	Body      string     `json:"body"`
	User      string     `json:"user"`
	ViaApp    bool       `json:"via_app,omitempty"` // written with the App's user or installation token
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Reactions []reaction `json:"reactions,omitempty"`
}

type reaction struct {
	ID      int64     `json:"id"`
	Content string    `json:"content"`
	User    string    `json:"user"`
	At      time.Time `json:"at"`
}

// readJSON decodes a request body of at most 1 MiB into v and returns the raw
// bytes (for the writes record).
func readJSON(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError("Problems parsing JSON"))
		return nil, false
	}
	return raw, true
}

// access authenticates r and finds its repository (created when the
// sandbox creates what is named); it answers the error itself. Under s.mu.
func (s *Sandbox) access(w http.ResponseWriter, r *http.Request, needWrite bool) (caller, *repo, bool) {
	c, ok := s.callerOf(r)
	if !ok {
		badCredentials(w)
		return c, nil, false
	}
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	rp, exists := s.st.Repos[full]
	if !exists && s.cfg.AutoCreate {
		rp, _ = s.ensureRepo(full, RepoOptions{})
	}
	if rp == nil {
		notFound(w)
		return c, nil, false
	}
	if c.kind == "user" {
		role := s.roleOf(full, c.user.Login)
		if role == "none" {
			notFound(w) // GitHub hides private repositories from those who cannot read them
			return c, nil, false
		}
		if needWrite && rolePermission[role] != "write" && role != "admin" {
			forbidden(w, "Must have admin rights to Repository.")
			return c, nil, false
		}
	}
	return c, rp, true
}

// issueOf finds issue {n} of rp (created when the sandbox creates what is
// named); under s.mu.
func (s *Sandbox) issueOf(rp *repo, n string) *issue {
	num, err := strconv.Atoi(n)
	if err != nil || num <= 0 {
		return nil
	}
	if is, ok := rp.Issues[num]; ok {
		return is
	}
	if !s.cfg.AutoCreate {
		return nil
	}
	for rp.NextNumber < num-1 {
		rp.NextNumber++
	}
	if rp.NextNumber >= num {
		return nil
	}
	return s.newIssue(rp, IssueOptions{Title: fmt.Sprintf("Sandbox issue %d", num)})
}

func (s *Sandbox) issueSubresource(w http.ResponseWriter, r *http.Request) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "comments":
		r.SetPathValue("id", b)
		s.getComment(kindIssue)(w, r)
	case b == "comments":
		r.SetPathValue("n", a)
		s.listIssueComments(w, r)
	default:
		notFound(w)
	}
}

func (s *Sandbox) createIssueComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body *string `json:"body"`
	}
	raw, ok := readJSON(w, r, &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, rp, ok := s.access(w, r, false)
	if !ok {
		return
	}
	is := s.issueOf(rp, r.PathValue("n"))
	if is == nil {
		notFound(w)
		return
	}
	if in.Body == nil || *in.Body == "" {
		validationFailed(w, "body wasn't supplied.")
		return
	}
	cm := s.addComment(rp, &comment{Kind: kindIssue, Number: is.Number, Body: *in.Body, User: c.user.Login, ViaApp: true})
	s.record(r, c, raw)
	out := s.commentJSON(cm)
	w.Header().Set("Location", out["url"].(string))
	writeJSON(w, http.StatusCreated, out)
	s.emit(w, s.commentEvent("created", cm, c.user, nil))
}

// addComment stores a new comment; under s.mu.
func (s *Sandbox) addComment(rp *repo, cm *comment) *comment {
	now := s.now().UTC()
	cm.ID, cm.Repo, cm.CreatedAt, cm.UpdatedAt = s.newID(), rp.fullName(), now, now
	s.st.Comments[cm.ID] = cm
	if is := rp.Issues[cm.Number]; is != nil && cm.Kind == kindIssue {
		is.Comments++
		is.UpdatedAt = now
	}
	s.changed()
	return cm
}

func (s *Sandbox) listIssueComments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rp, ok := s.access(w, r, false)
	if !ok {
		return
	}
	is := s.issueOf(rp, r.PathValue("n"))
	if is == nil {
		notFound(w)
		return
	}
	var all []*comment
	for _, cm := range s.st.Comments {
		if cm.Kind == kindIssue && cm.Repo == rp.fullName() && cm.Number == is.Number {
			all = append(all, cm)
		}
	}
	sortComments(all)
	page, ok := s.paginate(w, r, len(all))
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, cm := range all[page.from:page.to] {
		out = append(out, s.commentJSON(cm))
	}
	writeJSON(w, http.StatusOK, out)
}

// commentByID finds a comment of a kind in the request's repository; under s.mu.
func (s *Sandbox) commentByID(rp *repo, kind, id string) *comment {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	cm := s.st.Comments[n]
	if cm == nil || cm.Kind != kind || cm.Repo != rp.fullName() {
		return nil
	}
	return cm
}

func (s *Sandbox) getComment(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, rp, ok := s.access(w, r, false)
		if !ok {
			return
		}
		cm := s.commentByID(rp, kind, r.PathValue("id"))
		if cm == nil {
			notFound(w)
			return
		}
		writeJSON(w, http.StatusOK, s.commentJSON(cm))
	}
}

// mayChange reports whether c may edit or delete cm: its author, anyone
// with write on the repository, or the App's installation.
func (s *Sandbox) mayChange(c caller, cm *comment) bool {
	if c.kind == "installation" || c.user.Login == cm.User {
		return true
	}
	role := s.roleOf(cm.Repo, c.user.Login)
	return rolePermission[role] == "write" || role == "admin"
}

func (s *Sandbox) editIssueComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body *string `json:"body"`
	}
	raw, ok := readJSON(w, r, &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, rp, ok := s.access(w, r, false)
	if !ok {
		return
	}
	cm := s.commentByID(rp, kindIssue, r.PathValue("id"))
	switch {
	case cm == nil:
		notFound(w)
		return
	case !s.mayChange(c, cm):
		forbidden(w, "Resource not accessible by integration")
		return
	case in.Body == nil:
		validationFailed(w, "body wasn't supplied.")
		return
	}
	old := cm.Body
	cm.Body, cm.UpdatedAt = *in.Body, s.now().UTC()
	s.changed()
	s.record(r, c, raw)
	writeJSON(w, http.StatusOK, s.commentJSON(cm))
	s.emit(w, s.commentEvent("edited", cm, c.user, map[string]any{"body": map[string]any{"from": old}}))
}

func (s *Sandbox) deleteIssueComment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, rp, ok := s.access(w, r, false)
	if !ok {
		return
	}
	cm := s.commentByID(rp, kindIssue, r.PathValue("id"))
	switch {
	case cm == nil:
		notFound(w)
		return
	case !s.mayChange(c, cm):
		forbidden(w, "Resource not accessible by integration")
		return
	}
	delete(s.st.Comments, cm.ID)
	if is := rp.Issues[cm.Number]; is != nil && is.Comments > 0 {
		is.Comments--
	}
	s.changed()
	s.record(r, c, nil)
	w.WriteHeader(http.StatusNoContent)
	s.emit(w, s.commentEvent("deleted", cm, c.user, nil))
}

func (s *Sandbox) replyReviewComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body *string `json:"body"`
	}
	raw, ok := readJSON(w, r, &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, rp, ok := s.access(w, r, false)
	if !ok {
		return
	}
	is := s.issueOf(rp, r.PathValue("n"))
	parent := s.commentByID(rp, kindReview, r.PathValue("id"))
	if is == nil || is.PR == nil || parent == nil || parent.Number != is.Number {
		notFound(w)
		return
	}
	if in.Body == nil || *in.Body == "" {
		validationFailed(w, "body wasn't supplied.")
		return
	}
	root := parent.ID
	if parent.InReplyTo != 0 {
		root = parent.InReplyTo
	}
	cm := s.addComment(rp, &comment{Kind: kindReview, Number: is.Number, Path: parent.Path, Line: parent.Line, CommitID: parent.CommitID,
		InReplyTo: root, Body: *in.Body, User: c.user.Login, ViaApp: true})
	s.record(r, c, raw)
	writeJSON(w, http.StatusCreated, s.commentJSON(cm))
	s.emit(w, s.commentEvent("created", cm, c.user, nil))
}

func (s *Sandbox) createCommitComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body *string `json:"body"`
		Path string  `json:"path"`
		Line int     `json:"line"`
	}
	raw, ok := readJSON(w, r, &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, rp, ok := s.access(w, r, false)
	if !ok {
		return
	}
	if in.Body == nil || *in.Body == "" {
		validationFailed(w, "body wasn't supplied.")
		return
	}
	cm := s.addComment(rp, &comment{Kind: kindCommit, CommitID: r.PathValue("sha"), Path: in.Path, Line: in.Line,
		Body: *in.Body, User: c.user.Login, ViaApp: true})
	s.record(r, c, raw)
	writeJSON(w, http.StatusCreated, s.commentJSON(cm))
	s.emit(w, s.commentEvent("created", cm, c.user, nil))
}

func (s *Sandbox) react(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Content string `json:"content"`
		}
		raw, ok := readJSON(w, r, &in)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, rp, ok := s.access(w, r, false)
		if !ok {
			return
		}
		cm := s.commentByID(rp, kind, r.PathValue("id"))
		if cm == nil {
			notFound(w)
			return
		}
		valid := false
		for _, x := range reactionContents {
			valid = valid || x == in.Content
		}
		if !valid {
			validationFailed(w, fmt.Sprintf("content %q is not a reaction GitHub knows", in.Content))
			return
		}
		for _, x := range cm.Reactions {
			if x.Content == in.Content && x.User == c.user.Login {
				writeJSON(w, http.StatusOK, s.reactionJSON(x))
				return
			}
		}
		x := reaction{ID: s.newID(), Content: in.Content, User: c.user.Login, At: s.now().UTC()}
		cm.Reactions = append(cm.Reactions, x)
		s.changed()
		s.record(r, c, raw)
		writeJSON(w, http.StatusCreated, s.reactionJSON(x))
	}
}

func (s *Sandbox) reactionJSON(x reaction) map[string]any {
	return map[string]any{"id": x.ID, "node_id": nodeID("REA_", x.ID), "user": s.userByLogin(x.User), "content": x.Content,
		"created_at": stamp(x.At)}
}

// CommentAs posts a comment on an issue or pull request as login from the
// browser (no App involved: performed_via_github_app is null) and delivers
// its issue_comment webhook, as GitHub would. The repository and issue are
// created if missing. It returns the comment's id.
func (s *Sandbox) CommentAs(fullName string, number int, login, body string) (int64, error) {
	if body == "" {
		return 0, fmt.Errorf("sandbox: comment on %s#%d: the body is empty", fullName, number)
	}
	s.mu.Lock()
	rp, err := s.ensureRepo(fullName, RepoOptions{})
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	is := rp.Issues[number]
	for is == nil && rp.NextNumber < number {
		is = s.newIssue(rp, IssueOptions{Title: fmt.Sprintf("Sandbox issue %d", rp.NextNumber+1)})
		if is.Number != number {
			is = nil
		}
	}
	if is == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("sandbox: %s#%d does not exist", fullName, number)
	}
	u := s.addUser(login)
	cm := s.addComment(rp, &comment{Kind: kindIssue, Number: number, Body: body, User: login})
	ev := s.commentEvent("created", cm, u, nil)
	s.mu.Unlock()
	s.save()
	s.deliver(ev)
	return cm.ID, nil
}

// CreateReviewComment seeds a top-level review comment on a pull request's
// diff (as login from the browser, no webhook), for replies to answer.
func (s *Sandbox) CreateReviewComment(fullName string, number int, login, path string, line int, body string) (int64, error) {
	s.mu.Lock()
	defer s.save()
	defer s.mu.Unlock()
	rp := s.st.Repos[fullName]
	if rp == nil || rp.Issues[number] == nil || rp.Issues[number].PR == nil {
		return 0, fmt.Errorf("sandbox: no pull request %s#%d", fullName, number)
	}
	s.addUser(login)
	cm := s.addComment(rp, &comment{Kind: kindReview, Number: number, Path: path, Line: line, CommitID: rp.Issues[number].PR.HeadSHA,
		Body: body, User: login})
	return cm.ID, nil
}
