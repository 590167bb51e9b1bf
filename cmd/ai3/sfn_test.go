package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
)

// startSfnServe runs `ai3 sfn serve args…` until stop is called and
// returns the URL it printed.
func startSfnServe(t *testing.T, args ...string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	cmd := newRootCmd()
	cmd.SetOut(pw)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(append([]string{"sfn", "serve", "--addr", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("ai3 sfn serve printed nothing: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`on (http://[0-9.:]+) `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("start-up line %q names no URL", line)
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ai3 sfn serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return m[1], stop
}

// TestSfnServeKeepsExecutionsAcrossRestarts serves with --data, leaves one
// execution finished and one waiting, restarts, and finds both.
func TestSfnServeKeepsExecutionsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	url, stop := startSfnServe(t, "--data", data)
	c := sfnapi.NewClient(url)
	mk := func(name, def string) *string {
		out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
		if err != nil {
			t.Fatal(err)
		}
		return out.StateMachineArn
	}
	quick := mk("quick", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"ok","End":true}}}`)
	slow := mk("slow", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	q, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: quick})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: slow})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: q.ExecutionArn})
		if err == nil && d.Status == types.ExecutionStatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quick execution: %v %v", d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	url, _ = startSfnServe(t, "--data", data)
	c = sfnapi.NewClient(url)
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: q.ExecutionArn})
	if err != nil || d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `"ok"` {
		t.Fatalf("finished execution after restart: %+v %v", d, err)
	}
	d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: s.ExecutionArn})
	if err != nil || d.Status != types.ExecutionStatusRunning {
		t.Fatalf("waiting execution after restart: %+v %v", d, err)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: q.ExecutionArn})
	if err != nil || len(h.Events) != 4 || h.Events[3].Type != types.HistoryEventTypeExecutionSucceeded {
		t.Fatalf("history after restart: %+v %v", h, err)
	}
}

// TestSfnServeWithAWSCLI runs the round trip docs/sfn-local.md shows with
// the aws CLI itself.
func TestSfnServeWithAWSCLI(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		testenv.Missing(t, "the aws CLI", "install it (apt-get install awscli, or `make system-tools`)")
	}
	url, _ := startSfnServe(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"stepfunctions", "--endpoint-url", url, "--output", "json"}, args...)...)
		// only the local endpoint's dummy credentials, never the user's profile
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
		if root := os.Getenv("PYENV_ROOT"); root != "" {
			cmd.Env = append(cmd.Env, "PYENV_ROOT="+root)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("aws %v printed %s", args, out)
		}
		return doc
	}
	created := run("create-state-machine", "--name", "hello", "--role-arn", "arn:aws:iam::000000000000:role/r",
		"--definition", `{"StartAt":"Hi","States":{"Hi":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('hello {}', $.who)"},"End":true}}}`)
	machine, _ := created["stateMachineArn"].(string)
	started := run("start-execution", "--state-machine-arn", machine, "--input", `{"who":"cli"}`)
	execution, _ := started["executionArn"].(string)
	var desc map[string]any
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if desc = run("describe-execution", "--execution-arn", execution); desc["status"] != "RUNNING" {
			break
		}
	}
	if desc["status"] != "SUCCEEDED" || desc["output"] != `{"greeting":"hello cli"}` {
		t.Fatalf("describe-execution: %v", desc)
	}
	hist := run("get-execution-history", "--execution-arn", execution)
	events, _ := hist["events"].([]any)
	if len(events) != 4 {
		t.Fatalf("get-execution-history: %v", hist)
	}
	last, _ := events[3].(map[string]any)
	if last["type"] != "ExecutionSucceeded" {
		t.Fatalf("last event %v", last)
	}
}

func TestWorkflowsExecHistory(t *testing.T) {
	out, err := runCLI(t, "workflows", "exec", "--json", "--history", "--definition", "testdata/exec/fail.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	var got execResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	var kinds []string
	for i, ev := range got.History {
		kinds = append(kinds, ev["type"].(string))
		if ev["id"] != float64(i+1) {
			t.Errorf("event %d has id %v", i, ev["id"])
		}
	}
	if got.Status != "FAILED" || len(kinds) < 3 || kinds[0] != "ExecutionStarted" || kinds[len(kinds)-1] != "ExecutionFailed" {
		t.Fatalf("status %s, history %v", got.Status, kinds)
	}
	last := got.History[len(got.History)-1]["executionFailedEventDetails"].(map[string]any)
	if last["error"] != "Custom.Error" {
		t.Errorf("ExecutionFailed details %v", last)
	}
	// Without --history there is no history field.
	out, _ = runCLI(t, "workflows", "exec", "--json", "--definition", "testdata/exec/fail.asl.json")
	if bytes.Contains([]byte(out), []byte(`"history"`)) {
		t.Errorf("history without --history: %s", out)
	}
}
