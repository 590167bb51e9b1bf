package localsfn

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

var testEpoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// newTestExecutor returns an in-memory executor; opts.Clock defaults to an auto clock.
func newTestExecutor(t testing.TB, opts Options) *Executor {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = NewAutoClock(testEpoch)
	}
	ex, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return ex
}

// runDef runs a definition to its end and describes the execution.
func runDef(t testing.TB, ex *Executor, def, input string) *ExecutionDescription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := ex.Run(ctx, "test", []byte(def), Standard, input)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return d
}

// start starts an execution of def without waiting.
func start(t testing.TB, ex *Executor, name, def, input string) string {
	t.Helper()
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, name, []byte(def), Standard)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Input: input})
	if err != nil {
		t.Fatal(err)
	}
	return out.ExecutionArn
}

func wait(t testing.TB, ex *Executor, arn string) *ExecutionDescription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := ex.WaitExecution(ctx, arn)
	if err != nil {
		t.Fatalf("wait for %s: %v", arn, err)
	}
	return d
}

// assertOutput checks a SUCCEEDED execution's output as a JSON value.
func assertOutput(t testing.TB, d *ExecutionDescription, want string) {
	t.Helper()
	if d.Status != StatusSucceeded {
		t.Fatalf("status %s (%s: %s), want SUCCEEDED", d.Status, d.Error, d.Cause)
	}
	got, err := decodeJSON([]byte(d.Output))
	if err != nil {
		t.Fatalf("output %q: %v", d.Output, err)
	}
	w, err := decodeJSON([]byte(want))
	if err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !jsonEqual(got, w) {
		t.Errorf("output %s\n      want %s", d.Output, want)
	}
}

// assertFailed checks a FAILED execution's error name.
func assertFailed(t testing.TB, d *ExecutionDescription, errName string) {
	t.Helper()
	if d.Status != StatusFailed || d.Error != errName {
		t.Fatalf("status %s error %q (cause %q), want FAILED %q", d.Status, d.Error, d.Cause, errName)
	}
}

// handler builds a Handler from a plain function.
func handler(f func(in map[string]any) (any, error)) Handler {
	return func(_ context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var in map[string]any
		_ = json.Unmarshal(raw, &in)
		out, err := f(in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

func eventTypes(h []Event) []string {
	var out []string
	for _, e := range h {
		out = append(out, e.Type)
	}
	return out
}

func hasEvent(h []Event, typ string) bool {
	for _, e := range h {
		if e.Type == typ {
			return true
		}
	}
	return false
}
