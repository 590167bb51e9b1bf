package sandbox

import (
	"fmt"
	"strings"
	"time"
)

// state is everything the stand-in knows; it is what the snapshot holds.
type state struct {
	NextID      int64                            `json:"next_id"`
	AppKeyPEM   string                           `json:"app_key_pem"`
	SignedIn    string                           `json:"signed_in"`
	Users       map[string]*User                 `json:"users"`
	Codes       map[string]*authCode             `json:"codes"`
	Access      map[string]*grantRecord          `json:"access"`
	Refresh     map[string]*grantRecord          `json:"refresh"`
	Devices     map[string]*device               `json:"devices"`
	Members     map[string]map[string]membership `json:"members"`
	Perms       map[string]map[string]string     `json:"perms"`
	Installs    map[int64]bool                   `json:"installs"`
	InstTokens  map[string]*instToken            `json:"inst_tokens"`
	Repos       map[string]*repo                 `json:"repos"`
	Comments    map[int64]*comment               `json:"comments"`
	Runs        map[int64]*run                   `json:"runs"`
	Conclusions map[string]string                `json:"conclusions"` // "owner/name:file"
	Deployments map[int64]*deployment            `json:"deployments"`
	Counts      map[string]int                   `json:"counts"`
	FailNext    map[string]string                `json:"fail_next"`
}

func newState() *state {
	return &state{
		NextID: 1000, Users: map[string]*User{}, Codes: map[string]*authCode{}, Access: map[string]*grantRecord{},
		Refresh: map[string]*grantRecord{}, Devices: map[string]*device{}, Members: map[string]map[string]membership{},
		Perms: map[string]map[string]string{}, Installs: map[int64]bool{}, InstTokens: map[string]*instToken{},
		Repos: map[string]*repo{}, Comments: map[int64]*comment{}, Runs: map[int64]*run{}, Conclusions: map[string]string{},
		Deployments: map[int64]*deployment{}, Counts: map[string]int{}, FailNext: map[string]string{},
	}
}

// User is a GitHub account known to the stand-in.
type User struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	// Bot marks the App's own account (login "<slug>[bot]").
	Bot bool `json:"bot,omitempty"`
	// DefaultWrite gives the user write on every repository without an
	// explicit permission (sandbox users, see EnsureUser).
	DefaultWrite bool `json:"default_write,omitempty"`
}

type authCode struct {
	User        string    `json:"user"`
	Challenge   string    `json:"challenge"`
	RedirectURI string    `json:"redirect_uri"`
	Expires     time.Time `json:"expires"`
	Used        bool      `json:"used"`
}

type grantRecord struct {
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used"`
	Scope   string    `json:"scope"`
}

type device struct {
	UserCode string    `json:"user_code"`
	User     string    `json:"user"`
	State    string    `json:"state"` // pending, approved, denied
	Interval int       `json:"interval"`
	Expires  time.Time `json:"expires"`
	LastPoll time.Time `json:"last_poll"`
	Redeemed bool      `json:"redeemed"`
	Scope    string    `json:"scope"`
}

type membership struct {
	State string `json:"state"`
	Role  string `json:"role"`
}

type instToken struct {
	Installation int64     `json:"installation"`
	Expires      time.Time `json:"expires"`
}

type repo struct {
	ID            int64                `json:"id"`
	Owner         string               `json:"owner"`
	Name          string               `json:"name"`
	DefaultBranch string               `json:"default_branch"`
	CreatedAt     time.Time            `json:"created_at"`
	NextNumber    int                  `json:"next_number"`
	Issues        map[int]*issue       `json:"issues"`
	Workflows     map[string]*workflow `json:"workflows"` // by file name
	RunNumber     int                  `json:"run_number"`
	// Branches holds the heads of pushed branches (PushBranch); any other
	// branch name exists at fakeSHA("<owner>/<name>:<branch>").
	Branches map[string]string `json:"branches,omitempty"`
}

func (r *repo) fullName() string { return r.Owner + "/" + r.Name }

// branchHead is the commit branch points at.
func (r *repo) branchHead(branch string) string {
	if sha, ok := r.Branches[branch]; ok {
		return sha
	}
	return fakeSHA(r.fullName() + ":" + branch)
}

type issue struct {
	ID        int64     `json:"id"`
	Number    int       `json:"number"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	User      string    `json:"user"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Comments  int       `json:"comments"`
	Labels    []string  `json:"labels,omitempty"`
	PR        *pullInfo `json:"pr,omitempty"`
}

type pullInfo struct {
	ID             int64  `json:"id"`
	HeadRef        string `json:"head_ref"`
	HeadSHA        string `json:"head_sha"`
	BaseRef        string `json:"base_ref"`
	BaseSHA        string `json:"base_sha"`
	Additions      int    `json:"additions"`
	Deletions      int    `json:"deletions"`
	ChangedFiles   int    `json:"changed_files"`
	Mergeable      *bool  `json:"mergeable"`
	MergeableState string `json:"mergeable_state"`
	Draft          bool   `json:"draft"`
}

type workflow struct {
	ID        int64     `json:"id"`
	File      string    `json:"file"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Membership and permission checks, under s.mu.

func (s *Sandbox) membershipOf(org, login string) (membership, bool) {
	m, ok := s.st.Members[org][login]
	return m, ok
}

func (s *Sandbox) roleOf(fullName, login string) string {
	if role, ok := s.st.Perms[fullName][login]; ok {
		return role
	}
	if u := s.st.Users[login]; u != nil && u.DefaultWrite {
		return "write"
	}
	return "none"
}

func (s *Sandbox) newID() int64 {
	s.st.NextID++
	return s.st.NextID
}

// addUser runs under s.mu.
func (s *Sandbox) addUser(login string) *User {
	if u, ok := s.st.Users[login]; ok {
		return u
	}
	u := &User{ID: s.newID(), Login: login}
	s.st.Users[login] = u
	s.changed()
	return u
}

// AddUser creates an account (or returns the existing one) with a fresh id.
// It belongs to no organization and has no repository permission.
func (s *Sandbox) AddUser(login string) User {
	s.mu.Lock()
	u := *s.addUser(login)
	s.mu.Unlock()
	s.save()
	return u
}

// EnsureUser creates a sandbox user (or returns the existing one): an active
// member of the sandbox organization with write on every repository, unless
// SetMembership or SetPermission say otherwise.
func (s *Sandbox) EnsureUser(login string) User {
	s.mu.Lock()
	u := s.addUser(login)
	if !u.DefaultWrite {
		u.DefaultWrite = true
		if _, ok := s.membershipOf(s.cfg.Org, login); !ok {
			s.setMembership(s.cfg.Org, login, "active", "member")
		}
		s.changed()
	}
	out := *u
	s.mu.Unlock()
	s.save()
	return out
}

// SetMembership sets login's membership of org: state "active" or "pending",
// role "member" or "admin". An empty state removes it.
func (s *Sandbox) SetMembership(org, login, state, role string) {
	s.mu.Lock()
	s.addUser(login)
	s.setMembership(org, login, state, role)
	s.mu.Unlock()
	s.save()
}

func (s *Sandbox) setMembership(org, login, state, role string) {
	if s.st.Members[org] == nil {
		s.st.Members[org] = map[string]membership{}
	}
	if state == "" {
		delete(s.st.Members[org], login)
	} else {
		s.st.Members[org][login] = membership{state, role}
	}
	s.changed()
}

// SetPermission sets login's role on repo ("owner/name"): admin, maintain,
// write, triage, read or none.
func (s *Sandbox) SetPermission(repo, login, role string) {
	s.mu.Lock()
	s.addUser(login)
	if s.st.Perms[repo] == nil {
		s.st.Perms[repo] = map[string]string{}
	}
	s.st.Perms[repo][login] = role
	s.changed()
	s.mu.Unlock()
	s.save()
}

// InstallApp installs the App as installation id (on the sandbox
// organization, with access to all its repositories).
func (s *Sandbox) InstallApp(id int64) {
	s.mu.Lock()
	s.st.Installs[id] = true
	s.changed()
	s.mu.Unlock()
	s.save()
}

// Count returns how many requests of a kind were served: "token.code",
// "token.refresh", "token.device", "device.code", "user", "membership",
// "permission", "installation_token".
func (s *Sandbox) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Counts[kind]
}

// RepoOptions describes a repository to create.
type RepoOptions struct {
	DefaultBranch string // default "main"
}

// CreateRepo creates repository fullName ("owner/name") if it does not exist.
func (s *Sandbox) CreateRepo(fullName string, opts RepoOptions) error {
	s.mu.Lock()
	_, err := s.ensureRepo(fullName, opts)
	s.mu.Unlock()
	s.save()
	return err
}

func (s *Sandbox) ensureRepo(fullName string, opts RepoOptions) (*repo, error) {
	if r, ok := s.st.Repos[fullName]; ok {
		return r, nil
	}
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("sandbox: repository %q: want owner/name", fullName)
	}
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	r := &repo{ID: s.newID(), Owner: owner, Name: name, DefaultBranch: opts.DefaultBranch, CreatedAt: s.now().UTC(),
		Issues: map[int]*issue{}, Workflows: map[string]*workflow{}}
	s.st.Repos[fullName] = r
	s.changed()
	return r, nil
}

// IssueOptions describes an issue to create.
type IssueOptions struct {
	Title, Body, User string
	Labels            []string
}

// CreateIssue creates an issue in repo (created if missing) and returns its
// number.
func (s *Sandbox) CreateIssue(fullName string, o IssueOptions) (int, error) {
	s.mu.Lock()
	defer s.save()
	defer s.mu.Unlock()
	r, err := s.ensureRepo(fullName, RepoOptions{})
	if err != nil {
		return 0, err
	}
	return s.newIssue(r, o).Number, nil
}

func (s *Sandbox) newIssue(r *repo, o IssueOptions) *issue {
	if o.User == "" {
		o.User = r.Owner
	}
	if o.Title == "" {
		o.Title = "Sandbox issue"
	}
	s.addUser(o.User)
	r.NextNumber++
	now := s.now().UTC()
	is := &issue{ID: s.newID(), Number: r.NextNumber, Title: o.Title, Body: o.Body, User: o.User, State: "open",
		CreatedAt: now, UpdatedAt: now, Labels: o.Labels}
	r.Issues[is.Number] = is
	s.changed()
	return is
}

// PullOptions describes a pull request to create.
type PullOptions struct {
	Title, Body, User    string
	Head, Base           string // branch names (base defaults to the default branch)
	HeadSHA              string // default: derived from the head branch
	Additions, Deletions int
	ChangedFiles         int
	Labels               []string
	Draft                bool
	Conflicting          bool // mergeable false, mergeable_state "dirty"
}

// CreatePull creates a pull request in repo (created if missing) and returns
// its number.
func (s *Sandbox) CreatePull(fullName string, o PullOptions) (int, error) {
	s.mu.Lock()
	defer s.save()
	defer s.mu.Unlock()
	r, err := s.ensureRepo(fullName, RepoOptions{})
	if err != nil {
		return 0, err
	}
	if o.Head == "" {
		return 0, fmt.Errorf("sandbox: pull request in %s: a head branch is required", fullName)
	}
	if o.Base == "" {
		o.Base = r.DefaultBranch
	}
	if o.HeadSHA == "" {
		o.HeadSHA = r.branchHead(o.Head)
	} else {
		setBranch(r, o.Head, o.HeadSHA)
	}
	if o.Title == "" {
		o.Title = "Sandbox pull request"
	}
	is := s.newIssue(r, IssueOptions{Title: o.Title, Body: o.Body, User: o.User, Labels: o.Labels})
	mergeable, state := true, "clean"
	if o.Conflicting {
		mergeable, state = false, "dirty"
	}
	is.PR = &pullInfo{ID: s.newID(), HeadRef: o.Head, HeadSHA: o.HeadSHA, BaseRef: o.Base, BaseSHA: fakeSHA(fullName + ":" + o.Base),
		Additions: o.Additions, Deletions: o.Deletions, ChangedFiles: o.ChangedFiles, Mergeable: &mergeable, MergeableState: state, Draft: o.Draft}
	return is.Number, nil
}

// PushBranch moves branch of repo (created if missing) to commit sha, as a
// push does: a branch read answers sha from then on, a dispatch at the
// branch runs sha, and the open pull requests from the branch have sha as
// their head.
func (s *Sandbox) PushBranch(fullName, branch, sha string) error {
	s.mu.Lock()
	defer s.save()
	defer s.mu.Unlock()
	r, err := s.ensureRepo(fullName, RepoOptions{})
	if err != nil {
		return err
	}
	if branch == "" || len(sha) != 40 {
		return fmt.Errorf("sandbox: push to %s: want a branch and a 40-hex commit, got %q and %q", fullName, branch, sha)
	}
	setBranch(r, branch, sha)
	for _, is := range r.Issues {
		if is.PR != nil && is.State == "open" && is.PR.HeadRef == branch {
			is.PR.HeadSHA = sha
			is.UpdatedAt = s.now().UTC()
		}
	}
	s.changed()
	return nil
}

// setBranch records that branch of r points at sha.
func setBranch(r *repo, branch, sha string) {
	if r.Branches == nil {
		r.Branches = map[string]string{}
	}
	r.Branches[branch] = sha
}

// AddWorkflow declares a workflow file (".github/workflows/<file>") with its
// name. Dispatching a file not declared declares it, named after the file.
func (s *Sandbox) AddWorkflow(fullName, file, name string) error {
	s.mu.Lock()
	defer s.save()
	defer s.mu.Unlock()
	r, err := s.ensureRepo(fullName, RepoOptions{})
	if err != nil {
		return err
	}
	w := s.ensureWorkflow(r, file)
	if name != "" {
		w.Name = name
	}
	return nil
}

func (s *Sandbox) ensureWorkflow(r *repo, file string) *workflow {
	if w, ok := r.Workflows[file]; ok {
		return w
	}
	name := strings.TrimSuffix(strings.TrimSuffix(file, ".yml"), ".yaml")
	w := &workflow{ID: s.newID(), File: file, Name: name, CreatedAt: s.now().UTC()}
	r.Workflows[file] = w
	s.changed()
	return w
}
