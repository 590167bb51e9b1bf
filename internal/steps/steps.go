// Package steps runs the steps of ai3's workflows. Every step of every
// workflow is one invocation of the logical task "step" (the Lambda
// ai3-step, or its in-process handler in the embedded shape); the payload's
// "kind" says what the step does and its other fields are the kind's
// arguments:
//
//	asl.InvokeAndWait("step").With("kind", "github.actions").With("workflow_file", "build.yml")
//
// Kinds register by name in a Registry; the built-ins are github.actions,
// approval, http.check, pr.checks and go (Go functions registered by name).
// The Service wraps every kind with progress: around each attempt it records
// the step's state in the job record (a versioned conditional write) and has
// the Reporter re-render the job's status comment with the requesting user's
// token. The workflow_run handler and Resolve complete the steps that wait
// on a task token; the Finalizer ends the job when its execution ends.
package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Task names: every step invokes the logical task Task, and the workflows
// report failures with ReportTask (see asl's ReportFailuresWith).
const (
	Task       = "step"
	ReportTask = "report"
)

// Built-in kind names.
const (
	KindActions  = "github.actions"
	KindApproval = "approval"
	KindHTTP     = "http.check"
	KindChecks   = "pr.checks"
	KindGo       = "go"
)

// Error names the waiting kinds fail with (SendTaskFailure), and what Retry
// and Catch match.
const (
	// ErrApprovalRejected is the error of a rejected approval; its cause
	// names who rejected.
	ErrApprovalRejected = "ai3.ApprovalRejected"
	// ErrActionsFailed is the error of a GitHub Actions run that concluded
	// anything but success; the cause holds the conclusion and the run's link.
	ErrActionsFailed = "ai3.ActionsFailed"
	// ErrUserRevoked fails a step whose user revoked the app or whose login
	// expired: nothing can be written in their name any more (the type name
	// of UserAuthorizationRevoked).
	ErrUserRevoked = "UserAuthorizationRevoked"
)

// Payload is what every step invocation receives: the fields the asl
// compiler sets (workflow, step, execution, input, steps, TaskToken) plus the
// step's With(...) arguments, of which "kind" is required.
type Payload struct {
	Workflow  string                     `json:"workflow"`
	Step      string                     `json:"step"`
	Execution string                     `json:"execution"`
	Input     jobs.Input                 `json:"input"`
	Steps     map[string]json.RawMessage `json:"steps"`
	Kind      string                     `json:"kind"`
	TaskToken string                     `json:"TaskToken,omitempty"`
}

// Call is one attempt of one step, as a kind sees it.
type Call struct {
	Payload
	// Job is the job record as the attempt started.
	Job *jobs.Job
	// Attempt counts from 1.
	Attempt int
	// GitHub reads and writes as the requesting user.
	GitHub *github.Client
	raw    json.RawMessage
	svc    *Service
}

// Args decodes the step's arguments (the payload's own fields) into v.
func (c *Call) Args(v any) error {
	if err := json.Unmarshal(c.raw, v); err != nil {
		return &InputError{Msg: fmt.Sprintf("step %s: arguments of kind %s: %v", c.Step, c.Kind, err)}
	}
	return nil
}

// Result is what a kind returns.
type Result struct {
	// Output is the step's result (JSON-encoded into the execution's state).
	Output any
	// Wait says the step holds its task token: the step is recorded as
	// Waiting with the token, and whoever completes the token (the
	// workflow_run handler, approve/reject) ends it.
	Wait bool
	// Failed records the step as failed on the comment while the execution
	// goes on (a policy check that did not pass; a later step concludes).
	Failed bool
	// Link and Detail are shown on the step's row of the status comment.
	Link, Detail string
}

// Kind does one kind of step.
type Kind interface {
	Run(ctx context.Context, c *Call) (Result, error)
}

// KindFunc adapts a function to a Kind.
type KindFunc func(ctx context.Context, c *Call) (Result, error)

// Run calls f.
func (f KindFunc) Run(ctx context.Context, c *Call) (Result, error) { return f(ctx, c) }

// Registry holds the kinds by name, and the Go functions the kind "go" runs.
// The zero value is empty; NewRegistry has the built-ins.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]Kind
	funcs map[string]KindFunc
}

// Register adds a kind; registering a name twice is an error.
func (r *Registry) Register(name string, k Kind) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds == nil {
		r.kinds = map[string]Kind{}
	}
	if _, ok := r.kinds[name]; ok || name == "" {
		return fmt.Errorf("register step kind %q: empty or already registered", name)
	}
	r.kinds[name] = k
	return nil
}

// Func registers a Go function that steps of kind "go" run with
// .With("func", name); registering a name twice is an error.
func (r *Registry) Func(name string, f KindFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.funcs == nil {
		r.funcs = map[string]KindFunc{}
	}
	if _, ok := r.funcs[name]; ok || name == "" {
		return fmt.Errorf("register Go step %q: empty or already registered", name)
	}
	r.funcs[name] = f
	return nil
}

// Kind returns the kind called name.
func (r *Registry) Kind(name string) (Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Kinds returns the registered kind names, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewRegistry returns a registry with the built-in kinds and Go functions.
func NewRegistry() *Registry {
	r := &Registry{}
	must(r.Register(KindActions, KindFunc(runActions)))
	must(r.Register(KindApproval, KindFunc(runApproval)))
	must(r.Register(KindHTTP, KindFunc(runHTTPCheck)))
	must(r.Register(KindChecks, KindFunc(runPRCheck)))
	must(r.Register(KindGo, KindFunc(r.runGo)))
	must(r.Func("checks.summary", checksSummary))
	return r
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// runGo runs the Go function named by the step's "func" argument.
func (r *Registry) runGo(ctx context.Context, c *Call) (Result, error) {
	var a struct {
		Func string `json:"func"`
	}
	if err := c.Args(&a); err != nil {
		return Result{}, err
	}
	r.mu.RLock()
	f, ok := r.funcs[a.Func]
	r.mu.RUnlock()
	if !ok {
		return Result{}, &InputError{Msg: fmt.Sprintf("step %s: no Go function %q is registered", c.Step, a.Func)}
	}
	return f(ctx, c)
}

// Errors a kind returns. The Lambda runtime and the embedded executor name
// the ASL error after the Go type, so these names are what Retry and Catch
// match: the workflows retry TransientError.

// TransientError is a passing problem (GitHub 5xx, a mergeability not yet
// computed); the workflows retry it.
type TransientError struct{ Msg string }

func (e *TransientError) Error() string { return e.Msg }

// InputError means the step's arguments or the execution input are wrong;
// retrying cannot help.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// CheckFailedError means a check (a smoke test, the checks' summary) did not
// pass.
type CheckFailedError struct{ Msg string }

func (e *CheckFailedError) Error() string { return e.Msg }

// UserAuthorizationRevoked means the requesting user's token is gone (they
// revoked the app, or their login expired): no write can be made as them.
type UserAuthorizationRevoked struct{ Msg string }

func (e *UserAuthorizationRevoked) Error() string { return e.Msg }
