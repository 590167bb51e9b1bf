package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// runCLI runs the ai3 command tree with args and returns stdout and the error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestWorkflowsExecJSON(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want execResult
	}{
		{"succeeded", []string{"--definition", "testdata/exec/pass.asl.json", "--input", `{"who":"ai3"}`},
			execResult{Status: "SUCCEEDED", Output: json.RawMessage(`{"greeting":"hello ai3"}`)}},
		{"input file", []string{"--definition", "testdata/exec/pass.asl.json", "--input-file", "testdata/exec/input.json"},
			execResult{Status: "SUCCEEDED", Output: json.RawMessage(`{"greeting":"hello file"}`)}},
		{"failed state", []string{"--definition", "testdata/exec/fail.asl.json"},
			execResult{Status: "FAILED", Output: json.RawMessage(`null`), Error: ptr("Custom.Error"), Cause: ptr("it broke")}},
		{"unknown function fails as in AWS", []string{"--definition", "testdata/exec/unknown-function.asl.json", "--input", `{}`},
			execResult{Status: "FAILED", Output: json.RawMessage(`null`), Error: ptr("Lambda.ResourceNotFoundException")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"workflows", "exec", "--json"}, tt.args...)...)
			if err != nil {
				t.Fatalf("exit with error %v; a finished execution must exit 0", err)
			}
			if strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Fatalf("want exactly one JSON line, got %q", out)
			}
			var got execResult
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("output %q is not the result object: %v", out, err)
			}
			if got.Status != tt.want.Status || !jsonSame(t, got.Output, tt.want.Output) || str(got.Error) != str(tt.want.Error) {
				t.Errorf("got %s", out)
			}
			if tt.want.Cause != nil && str(got.Cause) != *tt.want.Cause {
				t.Errorf("cause %q, want %q", str(got.Cause), *tt.want.Cause)
			}
			if tt.want.Error != nil && *tt.want.Error == "Lambda.ResourceNotFoundException" && !strings.Contains(str(got.Cause), "function:no-such-function") {
				t.Errorf("the cause should name the missing function: %q", str(got.Cause))
			}
		})
	}
}

func TestWorkflowsExecRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no definition flag", []string{}, "--definition"},
		{"missing file", []string{"--definition", "testdata/exec/nope.json"}, "read --definition"},
		{"invalid definition", []string{"--definition", "testdata/exec/broken.asl.json"}, "StartAt"},
		{"input not JSON", []string{"--definition", "testdata/exec/pass.asl.json", "--input", `{"who":`}, "not valid JSON"},
		{"both inputs", []string{"--definition", "testdata/exec/pass.asl.json", "--input", `{}`, "--input-file", "testdata/exec/input.json"}, "none of the others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"workflows", "exec", "--json"}, tt.args...)...)
			if err == nil {
				t.Fatalf("want an error, got exit 0 with %q", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q should mention %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("nothing may be printed on stdout when the input is refused, got %q", out)
			}
		})
	}
}

func TestWorkflowsRun(t *testing.T) {
	out, err := runCLI(t, "workflows", "run", "deploy", "--json", "--input", `{"approval":"auto"}`)
	if err != nil {
		t.Fatal(err)
	}
	var got execResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if got.Status != "SUCCEEDED" || !strings.Contains(string(got.Output), `"approved":true`) {
		t.Errorf("deploy with auto-approval: %s", out)
	}
	out, err = runCLI(t, "workflows", "run", "deploy", "--json", "--input", `{"approval":"reject"}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Status != "FAILED" {
		t.Errorf("a rejected approval must fail the execution: %s", out)
	}
	if _, err := runCLI(t, "workflows", "run", "no-such-workflow"); err == nil {
		t.Error("an unknown workflow must be refused")
	}
}

func ptr(s string) *string { return &s }

func str(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func jsonSame(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func TestWorkflowsRunInterruptedIsAborted(t *testing.T) {
	// Without "approval":"auto" the deploy workflow waits for a person; an
	// interrupt must end it as ABORTED and still print the result object.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"workflows", "run", "deploy", "--json", "--input", `{}`})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	var got execResult
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Status != "ABORTED" || str(got.Error) != "ai3.Interrupted" {
		t.Errorf("got %q (%v)", out.String(), err)
	}
}
