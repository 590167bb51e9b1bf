package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestSfnServeRunsLambdaInsideRIE serves with --lambda adder=URL (the
// invoke URL of a real Go Lambda, the sfnapi package's testdata/adder,
// running under aws-lambda-rie) and --lambda-endpoint (the same emulator,
// which serves its one function under the name "function"), and runs one
// execution through the AWS SDK whose two Task states call one function
// each way: the first adds, the second doubles the sum.
func TestSfnServeRunsLambdaInsideRIE(t *testing.T) {
	fn := testenv.StartLambda(t, testenv.LambdaSpec{
		Package:  filepath.Join(testenv.RepoRoot(), "internal", "localsfn", "sfnapi", "testdata", "adder"),
		Isolated: true,
	})
	url, _ := startSfnServe(t, "--account", "123456789012",
		"--lambda", "adder="+fn.Endpoint()+"/2015-03-31/functions/function/invocations",
		"--lambda-endpoint", fn.Endpoint())
	c := sfnapi.NewClient(url)
	ctx := context.Background()

	def := `{"StartAt":"Add","States":{
		"Add":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:adder","Next":"Double"},
		"Double":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:function",
			"Parameters":{"a.$":"$.sum","b.$":"$.sum"},"End":true}}}`
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("add-double"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(m.StateMachineArn), "arn:aws:states:us-east-1:123456789012:stateMachine:") {
		t.Errorf("state machine ARN %s is not in --account's account", aws.ToString(m.StateMachineArn))
	}
	x, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"a":2,"b":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := waitExecution(t, c, aws.ToString(x.ExecutionArn))
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"sum":10}` {
		t.Fatalf("%s output %s error %s cause %s\nfunction logs:\n%s", d.Status, aws.ToString(d.Output),
			aws.ToString(d.Error), aws.ToString(d.Cause), fn.Logs())
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var succeeded []string
	for _, e := range h.Events {
		if e.Type == types.HistoryEventTypeLambdaFunctionSucceeded {
			succeeded = append(succeeded, aws.ToString(e.LambdaFunctionSucceededEventDetails.Output))
		}
	}
	if want := []string{`{"sum":5}`, `{"sum":10}`}; !slices.Equal(succeeded, want) {
		t.Fatalf("LambdaFunctionSucceeded outputs %v, want %v", succeeded, want)
	}
}

// TestSfnServeRejectsBadLambdaFlag checks that a --lambda without NAME= or
// an http URL stops `ai3 sfn serve` with a message naming the flag.
func TestSfnServeRejectsBadLambdaFlag(t *testing.T) {
	for _, spec := range []string{"adder", "=http://127.0.0.1:9000/x", "adder=127.0.0.1:9000"} {
		_, err := runCLI(t, "sfn", "serve", "--addr", "127.0.0.1:0", "--lambda", spec)
		if err == nil || !strings.Contains(err.Error(), "--lambda") {
			t.Errorf("--lambda %q: %v, want an error naming --lambda", spec, err)
		}
	}
}

// waitExecution polls DescribeExecution until the execution leaves RUNNING.
func waitExecution(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusRunning || time.Now().After(deadline) {
			return d
		}
	}
}
