// Package executortest is the contract suite of the jobs.Executor port. Every
// adapter runs it (the embedded one directly, the AWS one over HTTP against
// the embedded Step Functions API), so the two cannot drift.
package executortest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Workflow names and definitions the suite needs deployed.
const (
	// Callback waits on a task token, handed to the WaitFunction handler,
	// and ends with the token's output.
	Callback = "contract-callback"
	// Echo succeeds at once with its input as output.
	Echo = "contract-echo"
	// WaitFunction is the Lambda function name the callback machine invokes.
	WaitFunction = "contract-wait"
)

// Definitions returns the ASL of the suite's workflows (both STANDARD).
func Definitions() map[string][]byte {
	return map[string][]byte{
		Callback: []byte(`{"StartAt":"Wait","States":{"Wait":{"Type":"Task",` +
			`"Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",` +
			`"Parameters":{"FunctionName":"` + WaitFunction + `","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}`),
		Echo: []byte(`{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}}`),
	}
}

// WaitHandler returns the handler to register as WaitFunction: it sends each
// task token it is given on tokens and returns at once.
func WaitHandler(tokens chan<- string) func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		var p struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		tokens <- p.Token
		return json.RawMessage(`{}`), nil
	}
}

// Env is one adapter under test: Exec with Definitions deployed, and the
// tokens its WaitHandler receives.
type Env struct {
	Exec   jobs.Executor
	Tokens <-chan string
	// MissingARN is a well-formed ARN of an execution that does not exist.
	MissingARN string
}

// Run runs the contract against the adapter open returns.
func Run(t *testing.T, open func(t *testing.T) Env) {
	ctx := context.Background()
	input := json.RawMessage(`{"job":{"id":"j1"}}`)

	t.Run("callback succeeds with the token's output", func(t *testing.T) {
		e := open(t)
		arn, err := e.Exec.Start(ctx, Callback, "job-ok", input)
		if err != nil {
			t.Fatal(err)
		}
		tok := token(t, e)
		if x := describe(t, e, arn); x.Status != "RUNNING" {
			t.Fatalf("status while waiting = %s, want RUNNING", x.Status)
		}
		if err := e.Exec.SendTaskSuccess(ctx, tok, json.RawMessage(`{"approved_by":"alice"}`)); err != nil {
			t.Fatal(err)
		}
		x := until(t, e, arn)
		if x.Status != "SUCCEEDED" || !sameJSON(x.Output, `{"approved_by":"alice"}`) {
			t.Fatalf("got %s %s, want SUCCEEDED with the token's output", x.Status, x.Output)
		}
		if err := e.Exec.SendTaskSuccess(ctx, tok, json.RawMessage(`{}`)); !errors.Is(err, jobs.ErrTaskNotFound) {
			t.Fatalf("second completion of a token: err = %v, want ErrTaskNotFound", err)
		}
	})

	t.Run("task failure fails the execution with its error and cause", func(t *testing.T) {
		e := open(t)
		arn, err := e.Exec.Start(ctx, Callback, "job-rejected", input)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Exec.SendTaskFailure(ctx, token(t, e), "ai3.ApprovalRejected", "bob rejected: not today"); err != nil {
			t.Fatal(err)
		}
		x := until(t, e, arn)
		if x.Status != "FAILED" || x.Error != "ai3.ApprovalRejected" || x.Cause != "bob rejected: not today" {
			t.Fatalf("got %s %q %q", x.Status, x.Error, x.Cause)
		}
	})

	t.Run("start is idempotent by name and input", func(t *testing.T) {
		e := open(t)
		a1, err := e.Exec.Start(ctx, Callback, "job-same", input)
		if err != nil {
			t.Fatal(err)
		}
		a2, err := e.Exec.Start(ctx, Callback, "job-same", input)
		if err != nil || a2 != a1 {
			t.Fatalf("second start = %q, %v; want %q", a2, err, a1)
		}
		if _, err := e.Exec.Start(ctx, Callback, "job-same", json.RawMessage(`{"other":1}`)); !errors.Is(err, jobs.ErrExecutionExists) {
			t.Fatalf("start with another input: err = %v, want ErrExecutionExists", err)
		}
		tok := token(t, e)
		select { // the retried start did not run a second execution
		case extra := <-e.Tokens:
			t.Fatalf("a second execution asked for token %q", extra)
		case <-time.After(100 * time.Millisecond):
		}
		_ = e.Exec.SendTaskSuccess(ctx, tok, nil)
		until(t, e, a1)
		// A start retried after its execution ended finds it (Step Functions
		// answers ExecutionAlreadyExists; the adapter looks it up).
		a3, err := e.Exec.Start(ctx, Callback, "job-same", input)
		if err != nil || a3 != a1 {
			t.Fatalf("start after the execution ended = %q, %v; want %q", a3, err, a1)
		}
		if _, err := e.Exec.Start(ctx, Callback, "job-same", json.RawMessage(`{"other":1}`)); !errors.Is(err, jobs.ErrExecutionExists) {
			t.Fatalf("start of an ended execution with another input: err = %v, want ErrExecutionExists", err)
		}
		select {
		case extra := <-e.Tokens:
			t.Fatalf("a start after the end ran a second execution (token %q)", extra)
		case <-time.After(100 * time.Millisecond):
		}
	})

	t.Run("stop aborts a waiting execution and voids its token", func(t *testing.T) {
		e := open(t)
		arn, err := e.Exec.Start(ctx, Callback, "job-stop", input)
		if err != nil {
			t.Fatal(err)
		}
		tok := token(t, e)
		if err := e.Exec.Stop(ctx, arn, "ai3.Cancelled", "cancelled by @alice"); err != nil {
			t.Fatal(err)
		}
		x := until(t, e, arn)
		if x.Status != "ABORTED" {
			t.Fatalf("status = %s, want ABORTED", x.Status)
		}
		if err := e.Exec.SendTaskSuccess(ctx, tok, nil); !errors.Is(err, jobs.ErrTaskNotFound) {
			t.Fatalf("token of a stopped execution: err = %v, want ErrTaskNotFound", err)
		}
	})

	t.Run("echo succeeds with its input", func(t *testing.T) {
		e := open(t)
		arn, err := e.Exec.Start(ctx, Echo, "job-echo", input)
		if err != nil {
			t.Fatal(err)
		}
		if x := until(t, e, arn); x.Status != "SUCCEEDED" || !sameJSON(x.Output, string(input)) || x.Start.IsZero() || x.Stop.IsZero() {
			t.Fatalf("got %+v", x)
		}
	})

	t.Run("unknown things are ErrNotFound or ErrTaskNotFound", func(t *testing.T) {
		e := open(t)
		if _, err := e.Exec.Start(ctx, "no-such-workflow", "job-x", input); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("unknown workflow: err = %v", err)
		}
		if _, err := e.Exec.Describe(ctx, e.MissingARN); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("unknown execution: err = %v", err)
		}
		if err := e.Exec.SendTaskSuccess(ctx, "no-such-token", nil); !errors.Is(err, jobs.ErrTaskNotFound) {
			t.Fatalf("unknown token: err = %v", err)
		}
		if err := e.Exec.SendTaskFailure(ctx, "no-such-token", "E", "c"); !errors.Is(err, jobs.ErrTaskNotFound) {
			t.Fatalf("unknown token (failure): err = %v", err)
		}
	})
}

func token(t *testing.T, e Env) string {
	t.Helper()
	select {
	case tok := <-e.Tokens:
		return tok
	case <-time.After(30 * time.Second):
		t.Fatal("no task token within 30 s")
	}
	return ""
}

func describe(t *testing.T, e Env, arn string) *jobs.Execution {
	t.Helper()
	x, err := e.Exec.Describe(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// until polls Describe until the execution ends (30 s at most).
func until(t *testing.T, e Env, arn string) *jobs.Execution {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		x := describe(t, e, arn)
		if x.Status != "RUNNING" {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still RUNNING after 10 s", arn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sameJSON(a json.RawMessage, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
