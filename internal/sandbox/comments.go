package sandbox

import (
	"fmt"
	"net/http"
	"slices"
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
		s.repoRoute(readAccess, s.listIssueComments)(w, r)
	default:
		notFound(w)
	}
}

// commentInput is the body of a request that writes a comment.
type commentInput struct {
	Body *string `json:"body"`
}

// supplied reports whether the body carries a comment's text; when it does
// not it answers GitHub's 422.
func (in *commentInput) supplied(w http.ResponseWriter) bool {
	if in.Body == nil || *in.Body == "" {
		validationFailed(w, "body wasn't supplied.")
		return false
	}
	return true
}

func (s *Sandbox) createIssueComment(q *repoRequest, in *commentInput) {
	is := q.issue()
	if is == nil || !in.supplied(q.w) {
		return
	}
	s.commentCreated(q, &comment{Kind: kindIssue, Number: is.Number, Body: *in.Body, User: q.c.user.Login, ViaApp: true})
}

// commentCreated stores cm, written through the API by q's caller, records
// the write, answers 201 with the comment and announces it with its webhook;
// under s.mu.
func (s *Sandbox) commentCreated(q *repoRequest, cm *comment) {
	s.addComment(q.rp, cm)
	q.record()
	out := s.commentJSON(cm)
	if cm.Kind == kindIssue { // the issue comment answer names the new comment in Location
		q.w.Header().Set("Location", out["url"].(string))
	}
	writeJSON(q.w, http.StatusCreated, out)
	s.emit(q.w, s.commentEvent("created", cm, q.c.user, nil))
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

func (s *Sandbox) listIssueComments(q *repoRequest) {
	is := q.issue()
	if is == nil {
		return
	}
	s.listComments(q, func(cm *comment) bool { return cm.Kind == kindIssue && cm.Number == is.Number }, true)
}

// pullSubresource serves GET .../pulls/{a}/{b}: a pull request's review
// comments (.../pulls/{n}/comments) and one review comment
// (.../pulls/comments/{id}), which overlap for ServeMux as the issues'
// routes do.
func (s *Sandbox) pullSubresource(w http.ResponseWriter, r *http.Request) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "comments":
		r.SetPathValue("id", b)
		s.getComment(kindReview)(w, r)
	case b == "comments":
		r.SetPathValue("n", a)
		s.repoRoute(readAccess, s.listReviewComments)(w, r)
	default:
		notFound(w)
	}
}

// listReviewComments answers GET .../pulls/{n}/comments: the review
// comments of a pull request, oldest first (since, per_page, page).
func (s *Sandbox) listReviewComments(q *repoRequest) {
	is := q.issue()
	if is == nil {
		return
	}
	if is.PR == nil {
		notFound(q.w)
		return
	}
	s.listComments(q, func(cm *comment) bool { return cm.Kind == kindReview && cm.Number == is.Number }, true)
}

// listCommitComments answers GET .../commits/{sha}/comments: the comments
// on a commit, oldest first (per_page, page; GitHub takes no since there).
func (s *Sandbox) listCommitComments(q *repoRequest) {
	sha := q.r.PathValue("sha")
	s.listComments(q, func(cm *comment) bool { return cm.Kind == kindCommit && cm.CommitID == sha }, false)
}

// listComments answers one page of the repository's comments that keep
// accepts, oldest first; with withSince the since parameter (ISO 8601)
// keeps those updated at or after it, as GitHub does. Under s.mu.
func (s *Sandbox) listComments(q *repoRequest, keep func(*comment) bool, withSince bool) {
	var since time.Time
	if v := q.r.URL.Query().Get("since"); withSince && v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			validationFailed(q.w, fmt.Sprintf("since %q is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)", v))
			return
		}
		since = t
	}
	var all []*comment
	for _, cm := range s.st.Comments {
		if cm.Repo == q.rp.fullName() && keep(cm) && !cm.UpdatedAt.Before(since) {
			all = append(all, cm)
		}
	}
	sortComments(all)
	if out, ok := pageJSON(q, all, s.commentJSON); ok {
		writeJSON(q.w, http.StatusOK, out)
	}
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
	return s.repoRoute(readAccess, func(q *repoRequest) {
		if cm := q.comment(kind); cm != nil {
			writeJSON(q.w, http.StatusOK, s.commentJSON(cm))
		}
	})
}

// mayChange reports whether c may edit or delete cm: its author, anyone
// with write on the repository, or the App's installation.
func (s *Sandbox) mayChange(c caller, cm *comment) bool {
	if c.kind == "installation" || c.user.Login == cm.User {
		return true
	}
	return canWrite(s.roleOf(cm.Repo, c.user.Login))
}

// changeableIssueComment is the issue comment the path's {id} names when
// the caller may change it; otherwise it answers 404 or 403 and returns nil.
func (q *repoRequest) changeableIssueComment() *comment {
	cm := q.comment(kindIssue)
	if cm != nil && !q.s.mayChange(q.c, cm) {
		forbidden(q.w, "Resource not accessible by integration")
		return nil
	}
	return cm
}

func (s *Sandbox) editIssueComment(q *repoRequest, in *commentInput) {
	cm := q.changeableIssueComment()
	if cm == nil {
		return
	}
	if in.Body == nil { // an edit may empty the comment
		validationFailed(q.w, "body wasn't supplied.")
		return
	}
	old := cm.Body
	cm.Body, cm.UpdatedAt = *in.Body, s.now().UTC()
	s.changed()
	q.record()
	writeJSON(q.w, http.StatusOK, s.commentJSON(cm))
	s.emit(q.w, s.commentEvent("edited", cm, q.c.user, map[string]any{"body": map[string]any{"from": old}}))
}

func (s *Sandbox) deleteIssueComment(q *repoRequest) {
	cm := q.changeableIssueComment()
	if cm == nil {
		return
	}
	delete(s.st.Comments, cm.ID)
	if is := q.rp.Issues[cm.Number]; is != nil && is.Comments > 0 {
		is.Comments--
	}
	s.changed()
	q.record()
	q.w.WriteHeader(http.StatusNoContent)
	s.emit(q.w, s.commentEvent("deleted", cm, q.c.user, nil))
}

func (s *Sandbox) replyReviewComment(q *repoRequest, in *commentInput) {
	s.reviewReply(q, q.r.PathValue("id"), in)
}

// reviewCommentInput is the body of POST .../pulls/{n}/comments: a new
// review comment on the diff, or, with in_reply_to, a reply in the thread of
// that comment (GitHub then ignores everything but the body).
type reviewCommentInput struct {
	commentInput
	InReplyTo int64  `json:"in_reply_to"`
	CommitID  string `json:"commit_id"`
	Path      string `json:"path"`
	Line      int    `json:"line"`
	Position  int    `json:"position"`
}

func (s *Sandbox) createReviewComment(q *repoRequest, in *reviewCommentInput) {
	if in.InReplyTo != 0 {
		s.reviewReply(q, strconv.FormatInt(in.InReplyTo, 10), &in.commentInput)
		return
	}
	is := q.issue()
	if is == nil {
		return
	}
	if is.PR == nil {
		notFound(q.w)
		return
	}
	if !in.supplied(q.w) {
		return
	}
	line := in.Line
	if line == 0 {
		line = in.Position
	}
	if in.CommitID == "" || in.Path == "" || line <= 0 {
		validationFailed(q.w, "commit_id, path and line (or position) are required for a new review comment.")
		return
	}
	s.commentCreated(q, &comment{Kind: kindReview, Number: is.Number, Path: in.Path, Line: line, CommitID: in.CommitID,
		Body: *in.Body, User: q.c.user.Login, ViaApp: true})
}

// reviewReply answers a reply to review comment parentID of the path's pull
// request {n}, in the thread of its first comment; under s.mu.
func (s *Sandbox) reviewReply(q *repoRequest, parentID string, in *commentInput) {
	is := s.issueOf(q.rp, q.r.PathValue("n"))
	parent := s.commentByID(q.rp, kindReview, parentID)
	if is == nil || is.PR == nil || parent == nil || parent.Number != is.Number {
		notFound(q.w)
		return
	}
	if !in.supplied(q.w) {
		return
	}
	root := parent.ID
	if parent.InReplyTo != 0 {
		root = parent.InReplyTo
	}
	s.commentCreated(q, &comment{Kind: kindReview, Number: is.Number, Path: parent.Path, Line: parent.Line, CommitID: parent.CommitID,
		InReplyTo: root, Body: *in.Body, User: q.c.user.Login, ViaApp: true})
}

// commitCommentInput is the body of a request that comments on a commit.
type commitCommentInput struct {
	commentInput
	Path string `json:"path"`
	Line int    `json:"line"`
}

func (s *Sandbox) createCommitComment(q *repoRequest, in *commitCommentInput) {
	if !in.supplied(q.w) {
		return
	}
	s.commentCreated(q, &comment{Kind: kindCommit, CommitID: q.r.PathValue("sha"), Path: in.Path, Line: in.Line,
		Body: *in.Body, User: q.c.user.Login, ViaApp: true})
}

// reactionInput is the body of a request that reacts to a comment.
type reactionInput struct {
	Content string `json:"content"`
}

func (s *Sandbox) react(kind string) http.HandlerFunc {
	return repoRouteJSON(s, readAccess, func(q *repoRequest, in *reactionInput) {
		cm := q.comment(kind)
		if cm == nil {
			return
		}
		if !slices.Contains(reactionContents, in.Content) {
			validationFailed(q.w, fmt.Sprintf("content %q is not a reaction GitHub knows", in.Content))
			return
		}
		for _, x := range cm.Reactions {
			if x.Content == in.Content && x.User == q.c.user.Login {
				writeJSON(q.w, http.StatusOK, s.reactionJSON(x))
				return
			}
		}
		x := reaction{ID: s.newID(), Content: in.Content, User: q.c.user.Login, At: s.now().UTC()}
		cm.Reactions = append(cm.Reactions, x)
		s.changed()
		q.record()
		writeJSON(q.w, http.StatusCreated, s.reactionJSON(x))
	})
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

// ReviewCommentAs posts a top-level review comment on a pull request's diff
// as login from the browser (performed_via_github_app is null) and delivers
// its pull_request_review_comment webhook, as GitHub would. It returns the
// comment's id.
func (s *Sandbox) ReviewCommentAs(fullName string, number int, login, path string, line int, body string) (int64, error) {
	if body == "" {
		return 0, fmt.Errorf("sandbox: review comment on %s#%d: the body is empty", fullName, number)
	}
	s.mu.Lock()
	rp := s.st.Repos[fullName]
	if rp == nil || rp.Issues[number] == nil || rp.Issues[number].PR == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("sandbox: no pull request %s#%d", fullName, number)
	}
	u := s.addUser(login)
	cm := s.addComment(rp, &comment{Kind: kindReview, Number: number, Path: path, Line: line, CommitID: rp.Issues[number].PR.HeadSHA,
		Body: body, User: login})
	ev := s.commentEvent("created", cm, u, nil)
	s.mu.Unlock()
	s.save()
	s.deliver(ev)
	return cm.ID, nil
}

// CommitCommentAs posts a comment on commit sha of a repository as login
// from the browser and delivers its commit_comment webhook, as GitHub
// would. The repository is created if missing. It returns the comment's id.
func (s *Sandbox) CommitCommentAs(fullName, sha, login, body string) (int64, error) {
	if body == "" || sha == "" {
		return 0, fmt.Errorf("sandbox: comment on commit %q of %s: the body or the commit is empty", sha, fullName)
	}
	s.mu.Lock()
	rp, err := s.ensureRepo(fullName, RepoOptions{})
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	u := s.addUser(login)
	cm := s.addComment(rp, &comment{Kind: kindCommit, CommitID: sha, Body: body, User: login})
	ev := s.commentEvent("created", cm, u, nil)
	s.mu.Unlock()
	s.save()
	s.deliver(ev)
	return cm.ID, nil
}
