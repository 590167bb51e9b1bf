package sandbox

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"time"
)

// Fault is an answer to give instead of the real one (FailNext).
type Fault struct {
	Status int
	Body   string // JSON; GitHub's {"message": …} for the status when empty
	Header http.Header
	// Delay holds the request this long (or until its client gives up)
	// before the answer: a slow GitHub. With Status 0 the real answer
	// follows the delay.
	Delay time.Duration
}

type fault struct {
	method, pattern string
	left            int
	Fault
}

// FailNext answers the next n requests whose method is method ("" for any)
// and whose path (relative to the stand-in's root, e.g.
// "/api/v3/repos/*/*/issues/*/comments") matches pattern as path.Match reads
// it, with f instead of the real answer. Nothing is changed by such a request,
// unless f only delays it (Status 0, Delay set).
func (s *Sandbox) FailNext(method, pattern string, n int, f Fault) error {
	if _, err := path.Match(pattern, "/"); err != nil {
		return fmt.Errorf("sandbox: fault pattern %q: %w", pattern, err)
	}
	if (f.Status < 100 || f.Status > 599) && !(f.Status == 0 && f.Delay > 0) {
		return fmt.Errorf("sandbox: fault status %d is not an HTTP status", f.Status)
	}
	if f.Delay < 0 {
		return fmt.Errorf("sandbox: fault delay %s is negative", f.Delay)
	}
	s.mu.Lock()
	s.faults = append(s.faults, &fault{method: method, pattern: pattern, left: n, Fault: f})
	s.mu.Unlock()
	return nil
}

// SecondaryRateLimit is GitHub's answer when a client writes too fast: 403,
// a retry-after header and GitHub's wording.
func SecondaryRateLimit(retryAfter time.Duration) Fault {
	return Fault{Status: http.StatusForbidden,
		Header: http.Header{"Retry-After": {strconv.Itoa(int(retryAfter.Seconds()))}},
		Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ` +
			`If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",` +
			`"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}
}

// TooManyRequests is the 429 GitHub also answers for secondary rate limits.
func TooManyRequests(retryAfter time.Duration) Fault {
	f := SecondaryRateLimit(retryAfter)
	f.Status = http.StatusTooManyRequests
	return f
}

// takeFault returns the injected answer for r, if one is due.
func (s *Sandbox) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.method != "" && f.method != r.Method {
			continue
		}
		if ok, _ := path.Match(f.pattern, r.URL.Path); !ok {
			continue
		}
		f.left--
		if f.left <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		out := f.Fault
		return &out
	}
	return nil
}

func (f Fault) write(w http.ResponseWriter) {
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"message":%q,"documentation_url":"https://docs.github.com/rest"}`, http.StatusText(f.Status))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

// Write is one change made through the REST API, with who made it.
type Write struct {
	Method string `json:"method"`
	Path   string `json:"path"` // relative to the stand-in's root
	// Token is "user" (a user-to-server token) or "installation".
	Token string `json:"token"`
	// Login is the person whose user token made the write ("" for an
	// installation token).
	Login          string    `json:"login,omitempty"`
	InstallationID int64     `json:"installation_id,omitempty"`
	Body           string    `json:"body,omitempty"`
	At             time.Time `json:"at"`
}

// maxWrites bounds the writes kept in memory (the oldest are dropped).
const maxWrites = 100_000

// record notes a successful write; under s.mu.
func (s *Sandbox) record(r *http.Request, c caller, body []byte) {
	w := Write{Method: r.Method, Path: r.URL.Path, Token: c.kind, InstallationID: c.installation, Body: string(body), At: s.now().UTC()}
	if c.kind == "user" {
		w.Login = c.user.Login
	}
	if len(s.writes) >= maxWrites {
		s.writes = s.writes[1:]
	}
	s.writes = append(s.writes, w)
}

// Writes returns the writes made through the REST API since the stand-in
// started, oldest first.
func (s *Sandbox) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Write(nil), s.writes...)
}

func (s *Sandbox) getWrites(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"writes": s.Writes()})
}

type pageRange struct{ from, to int }

// paginate reads per_page (default 30, at most 100) and page, sets GitHub's
// Link header and returns the slice of n items to answer.
func (s *Sandbox) paginate(w http.ResponseWriter, r *http.Request, n int) (pageRange, bool) {
	q := r.URL.Query()
	per, page := 30, 1
	if v := q.Get("per_page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			validationFailed(w, "per_page must be a positive number")
			return pageRange{}, false
		}
		per = min(p, 100)
	}
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			validationFailed(w, "page must be a positive number")
			return pageRange{}, false
		}
		page = p
	}
	last := max(1, (n+per-1)/per)
	link := func(p int, rel string) string {
		u := *r.URL
		v := u.Query()
		v.Set("per_page", strconv.Itoa(per))
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", s.cfg.BaseURL+u.RequestURI(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		h := links[0]
		for _, l := range links[1:] {
			h += ", " + l
		}
		w.Header().Set("Link", h)
	}
	from := min((page-1)*per, n)
	return pageRange{from, min(from+per, n)}, true
}
