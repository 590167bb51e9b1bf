package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/internal/steps/stepstest"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// vault hands out "tok-<login>" for each user until revoked.
type vault struct {
	mu      sync.Mutex
	logins  map[int64]string
	revoked map[int64]bool
	calls   atomic.Int64
}

func (v *vault) Token(_ context.Context, id int64) (string, error) {
	v.calls.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.revoked[id] {
		return "", fmt.Errorf("token of user %d: %w", id, tokens.ErrNotFound)
	}
	return "tok-" + v.logins[id], nil
}

func (v *vault) revoke(id int64) {
	v.mu.Lock()
	v.revoked[id] = true
	v.mu.Unlock()
}

type installations struct{}

func (installations) InstallationToken(context.Context, int64) (githubapp.InstallationToken, error) {
	return githubapp.InstallationToken{Token: "tok-installation", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

// env is one test's world: GitHub, the job store, the service and an
// embedded executor whose "step" and "report" tasks are the service's.
type env struct {
	t     testing.TB
	gh    *stepstest.GitHub
	store *stepstest.MemStore
	vault *vault
	svc   *steps.Service
	ex    *localsfn.Executor
	ctx   context.Context
	n     int

	mu       sync.Mutex
	payloads map[string]json.RawMessage // the last payload of each step
}

// payload returns the last payload the step task received for step.
func (e *env) payload(step string) json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.payloads[step]
}

type option func(*steps.Deps)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, store: stepstest.NewMemStore(), payloads: map[string]json.RawMessage{},
		vault: &vault{logins: map[int64]string{1001: "alice", 1002: "bob"}, revoked: map[int64]bool{}}}
	e.gh = stepstest.NewGitHub(t, stepstest.TokenAuth(map[string]string{
		"tok-alice": "alice", "tok-bob": "bob", "tok-installation": "installation"}))
	fwd := &forward{}
	d := steps.Deps{Store: e.store, Callbacks: fwd, Users: e.vault, Installations: installations{},
		APIURL: e.gh.APIURL(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }}
	for _, o := range opts {
		o(&d)
	}
	e.svc = steps.New(d)
	fin := e.svc.Finalizer()
	ex, err := localsfn.New(ctx, localsfn.Options{
		Clock: localsfn.NewAutoClock(time.Now()),
		Handlers: map[string]localsfn.Handler{"ai3-step": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			var p struct{ Step string }
			_ = json.Unmarshal(in, &p)
			e.mu.Lock()
			e.payloads[p.Step] = in
			e.mu.Unlock()
			return e.svc.Step(ctx, in)
		}, "ai3-report": e.svc.Report},
		Notify: func(ctx context.Context, c localsfn.StatusChange) {
			if err := fin.Handle(ctx, steps.StatusChange(c)); err != nil {
				t.Errorf("finalizer: %v", err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	fwd.ex = ex
	e.ex = ex
	wr := e.svc.WorkflowRunHandler(nil)
	e.gh.OnRunCompleted = func(payload []byte) {
		env := &events.Envelope{DeliveryID: "d-" + fmt.Sprint(time.Now().UnixNano()), Event: "workflow_run", PayloadComplete: true, Payload: payload}
		if err := wr.Handle(ctx, env); err != nil {
			t.Errorf("workflow_run handler: %v", err)
		}
	}
	return e
}

type forward struct{ ex *localsfn.Executor }

func (f *forward) SendTaskSuccess(ctx context.Context, token string, out json.RawMessage) error {
	return f.ex.SendTaskSuccess(ctx, token, out)
}

func (f *forward) SendTaskFailure(ctx context.Context, token, name, cause string) error {
	return f.ex.SendTaskFailure(ctx, token, name, cause)
}

func fn(task string) string { return "ai3-" + task }

// start creates the job record (as the jobs service does: steps pending, an
// initial status comment) and starts the workflow's execution.
func (e *env) start(w *asl.Workflow, args map[string]string) (*jobs.Job, string) {
	e.t.Helper()
	e.n++
	j := &jobs.Job{ID: fmt.Sprintf("%s-%d", w.Name(), e.n), Workflow: w.Name(),
		Thread: jobs.Thread{Repo: "octo/app", Kind: jobs.PullThread, Number: 7},
		Ref:    "feature-x", User: jobs.User{ID: 1001, Login: "alice"}, InstallationID: 77, Args: args,
		Status: jobs.Queued, Steps: map[string]*jobs.Step{}, CreatedAt: time.Now()}
	for _, s := range w.Steps() {
		j.Steps[s.Name()] = &jobs.Step{Status: jobs.Pending}
	}
	j.StatusCommentID = e.gh.AddComment(jobs.Marker{Kind: "status", ID: j.ID}.String() + " queued")
	if err := e.store.Create(e.ctx, j); err != nil {
		e.t.Fatal(err)
	}
	def, err := w.Definition(fn)
	if err != nil {
		e.t.Fatal(err)
	}
	arn, err := e.ex.CreateStateMachine(e.ctx, w.Name(), def, string(w.Type()))
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := e.ex.StartExecution(e.ctx, localsfn.StartExecutionInput{StateMachineArn: arn, Name: j.ID, Input: string(jobs.InputOf(j).JSON())})
	if err != nil {
		e.t.Fatal(err)
	}
	return j, out.ExecutionArn
}

// wait waits for the execution to end and for the finaliser to have ended
// the job, and returns the job.
func (e *env) wait(arn, jobID string) (*localsfn.ExecutionDescription, *jobs.Job) {
	e.t.Helper()
	d, err := e.ex.WaitExecution(e.ctx, arn)
	if err != nil {
		e.t.Fatal(err)
	}
	var j *jobs.Job
	stepstest.Eventually(e.t, 10*time.Second, "the job to end", func() bool {
		j, err = e.store.Get(e.ctx, jobID)
		return err == nil && j.Status.Final() && j.Rendered >= j.Version
	})
	return d, j
}

// comment returns the job's status comment body.
func (e *env) comment(j *jobs.Job) string { return e.gh.Comment(j.StatusCommentID) }

// waitStep waits until the job's step has a status.
func (e *env) waitStep(jobID, step string, s jobs.Status) *jobs.Job {
	e.t.Helper()
	var j *jobs.Job
	stepstest.Eventually(e.t, 10*time.Second, step+" to be "+string(s), func() bool {
		j, _ = e.store.Get(e.ctx, jobID)
		return j != nil && j.Steps[step] != nil && j.Steps[step].Status == s
	})
	return j
}

// row returns the comment's table row of step.
func row(comment, step string) string {
	for _, l := range strings.Split(comment, "\n") {
		if strings.HasPrefix(l, "| `"+step+"` |") {
			return l
		}
	}
	return ""
}

// writesBy counts GitHub writes by who (and path substring).
func writesBy(ws []stepstest.Write, who, path string) int {
	n := 0
	for _, w := range ws {
		if w.Who == who && strings.Contains(w.Path, path) {
			n++
		}
	}
	return n
}

// waitRun waits until the job's step waits on a dispatched run, and returns
// the job.
func (e *env) waitRun(jobID, step string) *jobs.Job {
	e.t.Helper()
	var j *jobs.Job
	stepstest.Eventually(e.t, 10*time.Second, step+" to wait on its run", func() bool {
		j, _ = e.store.Get(e.ctx, jobID)
		return j != nil && j.Steps[step].Status == jobs.Waiting && j.Steps[step].Link != ""
	})
	return j
}
