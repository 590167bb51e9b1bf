package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
)

// The REST routes under /repos/{owner}/{repo}/ all begin alike: decode the
// body (for a write), take s.mu, authenticate the caller, find the
// repository and check the caller's role on it. repoRoute and repoRouteJSON do
// that once for every such route; the handlers start from a repoRequest.

// The role a route asks of a person on the repository (an installation
// token may do both).
const (
	readAccess  = false // read (GitHub hides the repository from others: 404)
	writeAccess = true  // write, maintain or admin (others: 403)
)

// repoRequest is an authorized request on a repository; its handler runs
// under s.mu.
type repoRequest struct {
	s   *Sandbox
	w   http.ResponseWriter
	r   *http.Request
	c   caller
	rp  *repo
	raw []byte // the body as sent, for the writes record (nil for a route without one)
}

// repoRoute serves a route on a repository that takes no body: under s.mu,
// access authenticates the caller and finds and authorizes the repository
// (write access when needWrite) before h runs; access answers what fails.
func (s *Sandbox) repoRoute(needWrite bool, h func(q *repoRequest)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveRepo(w, r, needWrite, nil, h) }
}

// repoRouteJSON is repoRoute for a route whose JSON body h takes: the body
// is decoded into a new T first, so one that does not parse is answered 400
// before the caller is looked at.
func repoRouteJSON[T any](s *Sandbox, needWrite bool, h func(q *repoRequest, in *T)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in := new(T)
		raw, ok := readJSON(w, r, in)
		if !ok {
			return
		}
		s.serveRepo(w, r, needWrite, raw, func(q *repoRequest) { h(q, in) })
	}
}

func (s *Sandbox) serveRepo(w http.ResponseWriter, r *http.Request, needWrite bool, raw []byte, h func(q *repoRequest)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, rp, ok := s.access(w, r, needWrite)
	if !ok {
		return
	}
	h(&repoRequest{s: s, w: w, r: r, c: c, rp: rp, raw: raw})
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
		if needWrite && !canWrite(role) {
			forbidden(w, "Must have admin rights to Repository.")
			return c, nil, false
		}
	}
	return c, rp, true
}

// canWrite reports whether a repository role may push (write, maintain,
// admin).
func canWrite(role string) bool { return rolePermission[role] == "write" || role == "admin" }

// record notes the request as a successful write (with its body); under s.mu.
func (q *repoRequest) record() { q.s.record(q.r, q.c, q.raw) }

// issue is the issue or pull request the path's {n} names; when there is
// none it answers 404 and returns nil.
func (q *repoRequest) issue() *issue {
	is := q.s.issueOf(q.rp, q.r.PathValue("n"))
	if is == nil {
		notFound(q.w)
	}
	return is
}

// comment is the comment of kind the path's {id} names; when there is none
// in the repository it answers 404 and returns nil.
func (q *repoRequest) comment(kind string) *comment {
	cm := q.s.commentByID(q.rp, kind, q.r.PathValue("id"))
	if cm == nil {
		notFound(q.w)
	}
	return cm
}

// pageJSON is the page of items the request asks for (paginate), each as
// show builds it; false when the paging parameters were refused (answered).
func pageJSON[T any](q *repoRequest, items []T, show func(T) map[string]any) ([]map[string]any, bool) {
	page, ok := q.s.paginate(q.w, q.r, len(items))
	if !ok {
		return nil, false
	}
	out := []map[string]any{} // [] rather than null for an empty page
	for _, x := range items[page.from:page.to] {
		out = append(out, show(x))
	}
	return out, true
}
