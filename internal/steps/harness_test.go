package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// env is one test's world: GitHub, the job store, the service and an
// embedded executor whose "step" and "report" tasks are the service's.
type env struct {
	t     testing.TB
	gh    *hub
	store *countingStore
	vault *vault
	svc   *steps.Service
	ex    *localsfn.Executor
	ctx   context.Context
	n     int
	// noStatusEvents drops the executor's status changes, as AWS sends
	// none for EXPRESS executions.
	noStatusEvents bool

	mu       sync.Mutex
	payloads map[string]json.RawMessage // the last payload of each step
}

// payload returns the last payload the step task received for step.
func (e *env) payload(step string) json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.payloads[step]
}

// option adjusts the service of a new env (whose GitHub exists already).
type option func(*env, *steps.Deps)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	return newEnvOn(t, newHub(t), opts...)
}

// newEnvOn is newEnv on a given GitHub.
func newEnvOn(t testing.TB, gh *hub, opts ...option) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, gh: gh, store: openStore(t, t.TempDir(), nil), payloads: map[string]json.RawMessage{}, vault: newVault(gh)}
	fwd := &forward{}
	d := steps.Deps{Store: e.store, Callbacks: fwd, Users: e.vault, Installations: installations(gh),
		APIURL: gh.APIURL(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }}
	for _, o := range opts {
		o(e, &d)
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
			if e.noStatusEvents {
				return
			}
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
	gh.setOnRun(func(payload []byte) {
		env := &events.Envelope{DeliveryID: "d-" + fmt.Sprint(time.Now().UnixNano()), Event: "workflow_run", PayloadComplete: true, Payload: payload}
		if err := wr.Handle(ctx, env); err != nil {
			t.Errorf("workflow_run handler: %v", err)
		}
	})
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
	return e.startOn(w, args, jobs.Thread{})
}

// startOn is start on a thread of the pull request (the zero Thread: its
// conversation).
func (e *env) startOn(w *asl.Workflow, args map[string]string, t jobs.Thread) (*jobs.Job, string) {
	e.t.Helper()
	return e.startWith(w, args, func(j *jobs.Job) {
		if t.Kind != "" {
			j.Thread = t
		}
	})
}

// startWith is start with the new job record adjusted by set before it is
// stored.
func (e *env) startWith(w *asl.Workflow, args map[string]string, set func(j *jobs.Job)) (*jobs.Job, string) {
	e.t.Helper()
	e.n++
	var names []string
	for _, s := range w.Steps() {
		names = append(names, s.Name())
	}
	id := fmt.Sprintf("%s-%d", w.Name(), e.n)
	j := newJob(id, w.Name(), names, e.gh.addComment(e.t, e.gh.pr, jobs.Marker{Kind: "status", ID: id}.String()+" queued"), e.gh.pr)
	j.Args = args
	set(j)
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
	eventually(e.t, 30*time.Second, "the job to end", func() bool {
		j, err = e.store.Get(e.ctx, jobID)
		return err == nil && j.Status.Final() && j.Rendered >= j.Version
	})
	return d, j
}

// comment returns the job's status comment body.
func (e *env) comment(j *jobs.Job) string { return e.gh.comment(e.t, j.StatusCommentID) }

// waitStep waits until the job's step has a status.
func (e *env) waitStep(jobID, step string, s jobs.Status) *jobs.Job {
	e.t.Helper()
	var j *jobs.Job
	eventually(e.t, 30*time.Second, step+" to be "+string(s), func() bool {
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

// waitRun waits until the job's step waits on a dispatched run, and returns
// the job.
func (e *env) waitRun(jobID, step string) *jobs.Job {
	e.t.Helper()
	var j *jobs.Job
	eventually(e.t, 30*time.Second, step+" to wait on its run", func() bool {
		j, _ = e.store.Get(e.ctx, jobID)
		return j != nil && j.Steps[step].Status == jobs.Waiting && j.Steps[step].Link != ""
	})
	return j
}
