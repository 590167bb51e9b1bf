package steps_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local"
	localjobs "github.com/sbalswa/ai3-mvp/internal/local/jobs"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// fanout runs three Actions workflows at once, then a Go step.
func fanout() *asl.Workflow {
	w := asl.NewWorkflow("fanout", asl.Standard).ReportFailuresWith(steps.Task)
	for _, n := range []string{"build_linux", "build_mac", "build_windows"} {
		w.Step(n, asl.InvokeAndWait(steps.Task).With("kind", steps.KindActions).With("workflow_file", n+".yml").Retry(retryTransient()))
	}
	w.Step("done", asl.Invoke(steps.Task).With("kind", steps.KindGo).With("func", "checks.summary")).
		Needs("build_linux", "build_mac", "build_windows")
	return w
}

// durable is one process's executor and service over the data directory.
type durable struct {
	ex    *localsfn.Executor
	svc   *steps.Service
	store jobs.Store
	db    *sql.DB
}

func openDurable(t testing.TB, ctx context.Context, dir, apiURL, token string) *durable {
	t.Helper()
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := localjobs.Open(ctx, db, localjobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	xdb, err := localsfn.OpenDB(ctx, filepath.Join(dir, "executions.db"))
	if err != nil {
		t.Fatal(err)
	}
	fwd := &forward{}
	svc := steps.New(steps.Deps{Store: store, Callbacks: fwd, Users: &vault{tokens: map[int64]string{1001: token}, revoked: map[int64]bool{}},
		APIURL: apiURL, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	fin := svc.Finalizer()
	ex, err := localsfn.New(ctx, localsfn.Options{DB: xdb, Handlers: map[string]localsfn.Handler{"ai3-step": svc.Step},
		Notify: func(ctx context.Context, c localsfn.StatusChange) { _ = fin.Handle(ctx, steps.StatusChange(c)) }})
	if err != nil {
		t.Fatal(err)
	}
	fwd.ex = ex
	return &durable{ex: ex, svc: svc, store: store, db: db}
}

// TestCrashChild is the process TestKillMidParallel kills: it starts the
// fanout execution and waits to be killed.
func TestCrashChild(t *testing.T) {
	dir, api, token := os.Getenv("STEPS_CRASH_DIR"), os.Getenv("STEPS_CRASH_API"), os.Getenv("STEPS_CRASH_TOKEN")
	if dir == "" {
		t.Skip("run by TestKillMidParallel")
	}
	ctx := context.Background()
	d := openDurable(t, ctx, dir, api, token)
	var j jobs.Job
	if err := json.Unmarshal([]byte(os.Getenv("STEPS_CRASH_JOB")), &j); err != nil {
		t.Fatal(err)
	}
	if err := d.store.Create(ctx, &j); err != nil {
		t.Fatal(err)
	}
	def, err := fanout().Definition(fn)
	if err != nil {
		t.Fatal(err)
	}
	arn, err := d.ex.CreateStateMachine(ctx, "fanout", def, localsfn.Standard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ex.StartExecution(ctx, localsfn.StartExecutionInput{StateMachineArn: arn, Name: j.ID, Input: string(jobs.InputOf(&j).JSON())}); err != nil {
		t.Fatal(err)
	}
	select {} // until SIGKILL
}

// TestKillMidParallel kills (SIGKILL) a process whose STANDARD execution has
// three Parallel branches waiting on their Actions runs, resumes the
// execution in this process, completes the runs, and checks that GitHub saw
// exactly one dispatch per step and the final comment is right.
func TestKillMidParallel(t *testing.T) {
	if os.Getenv("STEPS_CRASH_DIR") != "" {
		t.Skip("inside the child")
	}
	dir := t.TempDir()
	gh := newHub(t)
	var names []string
	for _, s := range fanout().Steps() {
		names = append(names, s.Name())
	}
	j := newJob("fanout-crash1", "fanout", names, gh.addComment(t, gh.pr, "queued"), gh.pr)
	j.Ref = "main"
	jb, _ := json.Marshal(j)
	child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	child.Env = append(os.Environ(), "STEPS_CRASH_DIR="+dir, "STEPS_CRASH_API="+gh.APIURL(), "STEPS_CRASH_TOKEN="+gh.aliceToken, "STEPS_CRASH_JOB="+string(jb))
	child.Stdout, child.Stderr = io.Discard, io.Discard
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "three dispatches by the child", func() bool { return len(gh.Runs()) == 3 })
	time.Sleep(100 * time.Millisecond)           // let the branches record their runs
	if err := child.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = child.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := openDurable(t, ctx, dir, gh.APIURL(), gh.aliceToken)
	t.Cleanup(func() { d.ex.Close() })
	wr := d.svc.WorkflowRunHandler(nil)
	gh.setOnRun(func(p []byte) {
		if err := wr.Handle(ctx, &events.Envelope{DeliveryID: fmt.Sprint(time.Now().UnixNano()), PayloadComplete: true, Payload: p}); err != nil {
			t.Errorf("workflow_run: %v", err)
		}
	})
	// As the embedded shape does at start (dropCommentLeases): the child may
	// have died in the middle of a status comment write, holding its lease
	// (90 s), and every write of this process would wait that long.
	if err := d.svc.Reporter().DropLease(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := d.ex.Resume(ctx); err != nil || n != 1 {
		t.Fatalf("resumed %d executions: %v", n, err)
	}
	// The re-run branches find their runs and wait on new tokens.
	eventually(t, 30*time.Second, "the re-run branches to wait", func() bool {
		cur, _ := d.store.Get(ctx, j.ID)
		n := 0
		for _, name := range []string{"build_linux", "build_mac", "build_windows"} {
			if st := cur.Steps[name]; st.Status == jobs.Waiting && st.Attempts >= 2 {
				n++
			}
		}
		return n == 3
	})
	for _, r := range gh.Runs() {
		gh.complete(t, r.ID, "success")
	}
	arn := fmt.Sprintf("arn:aws:states:us-east-1:000000000000:execution:fanout:%s", j.ID)
	desc, err := d.ex.WaitExecution(ctx, arn)
	if err != nil || desc.Status != "SUCCEEDED" {
		t.Fatalf("execution %v: %v", desc, err)
	}
	if n := len(gh.Runs()); n != 3 {
		t.Errorf("%d dispatches, want exactly one per step (3)", n)
	}
	var final *jobs.Job
	eventually(t, 30*time.Second, "the final comment", func() bool {
		final, _ = d.store.Get(ctx, j.ID)
		return final.Status.Final() && final.Rendered >= final.Version
	})
	c := gh.comment(t, j.StatusCommentID)
	for _, name := range []string{"build_linux", "build_mac", "build_windows", "done"} {
		if !strings.Contains(row(c, name), "✅ succeeded") {
			t.Errorf("row of %s: %q", name, row(c, name))
		}
	}
}
