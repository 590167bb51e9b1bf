package sfnapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// TestErrorShapes checks each exception the API answers, as the SDK sees
// it: the exception's code and a message naming what was wrong.
func TestErrorShapes(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	m := a.create(t, "m", passDef, "")
	express := a.create(t, "x", passDef, "EXPRESS")
	done := a.start(t, m, "done", "{}")
	a.waitDone(t, done)
	unknownExec := "arn:aws:states:us-east-1:000000000000:execution:m:nope"
	unknownMachine := "arn:aws:states:us-east-1:000000000000:stateMachine:nope"
	goodToken := strings.Repeat("A", 64)
	c := a.client
	cases := []struct {
		name, code, inMessage string
		call                  func() error
	}{
		{"describe unknown execution", "ExecutionDoesNotExist", unknownExec, func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(unknownExec)})
			return err
		}},
		{"history of unknown execution", "ExecutionDoesNotExist", unknownExec, func() error {
			_, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(unknownExec)})
			return err
		}},
		{"stop unknown execution", "ExecutionDoesNotExist", unknownExec, func() error {
			_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(unknownExec)})
			return err
		}},
		{"start unknown machine", "StateMachineDoesNotExist", unknownMachine, func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(unknownMachine)})
			return err
		}},
		{"list executions of unknown machine", "StateMachineDoesNotExist", unknownMachine, func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(unknownMachine)})
			return err
		}},
		{"second start of an ended execution", "ExecutionAlreadyExists", done, func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String("done")})
			return err
		}},
		{"machine ARN where an execution is due", "InvalidArn", "Resource type not valid in this context: stateMachine", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(m)})
			return err
		}},
		{"not an ARN", "InvalidArn", "Invalid ARN prefix", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("my-machine")})
			return err
		}},
		{"bad execution name", "InvalidName", "a b", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String("a b")})
			return err
		}},
		{"bad machine name", "InvalidName", "m/1", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m/1"), Definition: aws.String(passDef), RoleArn: aws.String(role)})
			return err
		}},
		{"input not JSON", "InvalidExecutionInput", "not valid JSON", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Input: aws.String("{oops")})
			return err
		}},
		{"definition not JSON", "InvalidDefinition", "Invalid State Machine Definition", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("broken"), Definition: aws.String("{"), RoleArn: aws.String(role)})
			return err
		}},
		{"callback in an EXPRESS machine", "InvalidDefinition", ".waitForTaskToken", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("cb"), Type: "EXPRESS", RoleArn: aws.String(role),
				Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Payload":{"t.$":"$$.Task.Token"}},"End":true}}}`)})
			return err
		}},
		{"unknown task token", "TaskDoesNotExist", "Task Does Not Exist", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(goodToken), Output: aws.String("{}")})
			return err
		}},
		{"malformed task token", "InvalidToken", "Invalid Token", func() error {
			_, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("not-a-token")})
			return err
		}},
		{"task output not JSON", "InvalidOutput", "not valid JSON", func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(goodToken), Output: aws.String("{oops")})
			return err
		}},
		{"maxResults out of range", "ValidationException", "at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000", func() error {
			_, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{MaxResults: 1001})
			return err
		}},
		{"name too long", "ValidationException", "Member must have length less than or equal to 80", func() error {
			_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String(strings.Repeat("n", 81))})
			return err
		}},
		{"unknown status filter", "ValidationException", "statusFilter", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(m), StatusFilter: "DONE"})
			return err
		}},
		{"sync start of a STANDARD machine", "StateMachineTypeNotSupported", "not supported", func() error {
			_, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(m)})
			return err
		}},
		{"update without changes", "MissingRequiredParameter", "must be specified", func() error {
			_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(express)})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var api smithy.APIError
			if !errors.As(err, &api) {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if api.ErrorCode() != tc.code || !strings.Contains(api.ErrorMessage(), tc.inMessage) {
				t.Fatalf("got %s %q, want %s with %q", api.ErrorCode(), api.ErrorMessage(), tc.code, tc.inMessage)
			}
		})
	}
	// Nothing refused was created.
	list, _ := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if len(list.StateMachines) != 2 {
		t.Errorf("%d machines after refused creations, want 2", len(list.StateMachines))
	}
}

// TestRawProtocol speaks awsJson1_0 without an SDK: unsigned requests are
// served, and anything but a Step Functions operation is refused in AWS's shape.
func TestRawProtocol(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	post := func(target, body string) (int, map[string]any, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: answer is not JSON: %s", target, data)
		}
		return resp.StatusCode, doc, resp.Header
	}
	status, doc, h := post("AWSStepFunctions.CreateStateMachine", `{"name":"raw","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	if status != 200 || doc["stateMachineArn"] != "arn:aws:states:us-east-1:000000000000:stateMachine:raw" || h.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("unsigned create: %d %v", status, doc)
	}
	if _, ok := doc["creationDate"].(float64); !ok {
		t.Errorf("creationDate %v is not epoch seconds", doc["creationDate"])
	}
	for _, c := range []struct{ target, body, typ string }{
		{"AWSStepFunctions.CreateActivity", `{}`, "UnknownOperationException"},
		{"Other.ListStateMachines", `{}`, "UnknownOperationException"},
		{"", `{}`, "UnknownOperationException"},
		{"AWSStepFunctions.ListStateMachines", `[1,2]`, "SerializationException"},
		{"AWSStepFunctions.CreateStateMachine", `{"name":"n","definition":"{}"}`, "ValidationException"},
	} {
		status, doc, _ := post(c.target, c.body)
		if status != 400 || doc["__type"] != c.typ {
			t.Errorf("%q %s: %d %v, want 400 %s", c.target, c.body, status, doc, c.typ)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
