package sfnapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// adderARN is the adder function's ARN as a user's ASL names it.
const adderARN = "arn:aws:lambda:us-east-1:123456789012:function:adder"

// rieInvokePath is where aws-lambda-rie answers Lambda's Invoke API: it
// serves one function, whose name is always "function".
const rieInvokePath = "/2015-03-31/functions/function/invocations"

// startAdderAPI runs testdata/adder under aws-lambda-rie and serves an
// executor configured for it as a user would: the name "adder" bound to the
// emulator's invoke URL (localsfn.HTTPFunction, what `ai3 sfn serve
// --lambda adder=URL` does), and the emulator as the Lambda endpoint for
// every other function (Options.LambdaEndpoint, `--lambda-endpoint`).
func startAdderAPI(t *testing.T) *api {
	t.Helper()
	fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: "./testdata/adder", Isolated: true})
	return newAPI(t, localsfn.Options{
		Region: "us-east-1", Account: "123456789012",
		Handlers:       map[string]localsfn.Handler{"adder": localsfn.HTTPFunction(nil, fn.Endpoint()+rieInvokePath)},
		LambdaEndpoint: fn.Endpoint(),
	})
}

// eventOf returns the first history event of type typ, or fails the test.
func eventOf(t *testing.T, events []types.HistoryEvent, typ types.HistoryEventType) types.HistoryEvent {
	t.Helper()
	for _, e := range events {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no %s event in %v", typ, eventTypes(events))
	return types.HistoryEvent{}
}

// TestLambdaTaskRunsInsideRIE runs real Lambda code (testdata/adder, built
// and started under aws-lambda-rie) from state machines created, started
// and read through the Step Functions API with the AWS SDK: a Task whose
// Resource is the function's ARN, the lambda:invoke integration, and a
// function reached through the Lambda endpoint alone. The function's answer
// is the output, and the history has the Lambda events AWS writes.
func TestLambdaTaskRunsInsideRIE(t *testing.T) {
	a := startAdderAPI(t)

	t.Run("function ARN", func(t *testing.T) {
		m := a.create(t, "add", `{"StartAt":"Add","States":{"Add":{"Type":"Task","Resource":"`+adderARN+`","End":true}}}`, "")
		arn := a.start(t, m, "", `{"a":2,"b":3}`)
		d := a.waitDone(t, arn)
		if d.Status != types.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), `{"sum":5}`) {
			t.Fatalf("%s output %s error %s cause %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		events := a.history(t, arn)
		want := []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
			"LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"}
		if got := eventTypes(events); !slices.Equal(got, want) {
			t.Fatalf("history %v, want %v", got, want)
		}
		sched := eventOf(t, events, types.HistoryEventTypeLambdaFunctionScheduled).LambdaFunctionScheduledEventDetails
		if sched == nil || aws.ToString(sched.Resource) != adderARN || !sameJSON(aws.ToString(sched.Input), `{"a":2,"b":3}`) {
			t.Errorf("LambdaFunctionScheduled details %+v", sched)
		}
		done := eventOf(t, events, types.HistoryEventTypeLambdaFunctionSucceeded).LambdaFunctionSucceededEventDetails
		if done == nil || !sameJSON(aws.ToString(done.Output), `{"sum":5}`) {
			t.Errorf("LambdaFunctionSucceeded details %+v", done)
		}
	})

	t.Run("lambda:invoke", func(t *testing.T) {
		m := a.create(t, "invoke", `{"StartAt":"Add","States":{"Add":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"`+adderARN+`","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`, "")
		arn := a.start(t, m, "", `{"a":4,"b":3}`)
		d := a.waitDone(t, arn)
		if d.Status != types.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), `{"sum":7}`) {
			t.Fatalf("%s output %s error %s cause %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		events := a.history(t, arn)
		want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
			"TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
		if got := eventTypes(events); !slices.Equal(got, want) {
			t.Fatalf("history %v, want %v", got, want)
		}
		sched := eventOf(t, events, types.HistoryEventTypeTaskScheduled).TaskScheduledEventDetails
		if sched == nil || aws.ToString(sched.ResourceType) != "lambda" || aws.ToString(sched.Resource) != "invoke" ||
			!sameJSON(aws.ToString(sched.Parameters), `{"FunctionName":"`+adderARN+`","Payload":{"a":4,"b":3}}`) {
			t.Errorf("TaskScheduled details %+v", sched)
		}
		// The task's result is Lambda's Invoke response, the answer in Payload.
		done := eventOf(t, events, types.HistoryEventTypeTaskSucceeded).TaskSucceededEventDetails
		var resp struct {
			StatusCode int
			Payload    json.RawMessage
		}
		if done == nil || json.Unmarshal([]byte(aws.ToString(done.Output)), &resp) != nil ||
			resp.StatusCode != 200 || !sameJSON(string(resp.Payload), `{"sum":7}`) {
			t.Errorf("TaskSucceeded details %+v", done)
		}
	})

	// No handler is registered for "function": the executor invokes it at
	// the Lambda endpoint, where the emulator serves it under that name.
	t.Run("Lambda endpoint", func(t *testing.T) {
		m := a.create(t, "endpoint", `{"StartAt":"Add","States":{"Add":{"Type":"Task",
			"Resource":"arn:aws:lambda:us-east-1:123456789012:function:function","End":true}}}`, "")
		d := a.waitDone(t, a.start(t, m, "", `{"a":10,"b":1}`))
		if d.Status != types.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), `{"sum":11}`) {
			t.Fatalf("%s output %s error %s cause %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		// Any other name is not there: the emulator's 404 is Lambda's
		// ResourceNotFoundException.
		m = a.create(t, "missing", `{"StartAt":"Add","States":{"Add":{"Type":"Task",
			"Resource":"arn:aws:lambda:us-east-1:123456789012:function:missing","End":true}}}`, "")
		d = a.waitDone(t, a.start(t, m, "", `{}`))
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != localsfn.ErrLambdaNotFound {
			t.Fatalf("missing function: %s error %s cause %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	})
}

// TestLambdaFunctionErrorInsideRIE makes the real function return an error
// and checks the execution fails as Step Functions reports a Lambda
// function's error: the runtime's errorType (the Go error's type name) is
// the error, its whole error document the cause, in the Lambda (or Task)
// Failed event and in the execution's failure; and a Catch matches the
// error by that name.
func TestLambdaFunctionErrorInsideRIE(t *testing.T) {
	a := startAdderAPI(t)

	t.Run("function ARN", func(t *testing.T) {
		m := a.create(t, "add", `{"StartAt":"Add","States":{"Add":{"Type":"Task","Resource":"`+adderARN+`","End":true}}}`, "")
		arn := a.start(t, m, "", `{"fail":true}`)
		d := a.waitDone(t, arn)
		const cause = `{"errorMessage":"asked to fail","errorType":"errorString"}`
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "errorString" || !sameJSON(aws.ToString(d.Cause), cause) {
			t.Fatalf("%s error %q cause %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		events := a.history(t, arn)
		want := []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
			"LambdaFunctionFailed", "ExecutionFailed"}
		if got := eventTypes(events); !slices.Equal(got, want) {
			t.Fatalf("history %v, want %v", got, want)
		}
		failed := eventOf(t, events, types.HistoryEventTypeLambdaFunctionFailed).LambdaFunctionFailedEventDetails
		if failed == nil || aws.ToString(failed.Error) != "errorString" || !sameJSON(aws.ToString(failed.Cause), cause) {
			t.Errorf("LambdaFunctionFailed details %+v", failed)
		}
		ef := eventOf(t, events, types.HistoryEventTypeExecutionFailed).ExecutionFailedEventDetails
		if ef == nil || aws.ToString(ef.Error) != "errorString" || !sameJSON(aws.ToString(ef.Cause), cause) {
			t.Errorf("ExecutionFailed details %+v", ef)
		}
	})

	t.Run("lambda:invoke", func(t *testing.T) {
		m := a.create(t, "invoke", `{"StartAt":"Add","States":{"Add":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"adder","Payload.$":"$"},"End":true}}}`, "")
		arn := a.start(t, m, "", `{"a":-2,"b":1}`)
		d := a.waitDone(t, arn)
		const cause = `{"errorMessage":"-2 is negative","errorType":"NegativeError"}`
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "NegativeError" || !sameJSON(aws.ToString(d.Cause), cause) {
			t.Fatalf("%s error %q cause %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		events := a.history(t, arn)
		failed := eventOf(t, events, types.HistoryEventTypeTaskFailed).TaskFailedEventDetails
		if failed == nil || aws.ToString(failed.Error) != "NegativeError" || !sameJSON(aws.ToString(failed.Cause), cause) {
			t.Errorf("TaskFailed details %+v", failed)
		}
	})

	t.Run("caught by name", func(t *testing.T) {
		m := a.create(t, "caught", `{"StartAt":"Add","States":{
			"Add":{"Type":"Task","Resource":"`+adderARN+`","End":true,
				"Catch":[{"ErrorEquals":["NegativeError"],"ResultPath":"$.error","Next":"Refused"}]},
			"Refused":{"Type":"Pass","End":true}}}`, "")
		d := a.waitDone(t, a.start(t, m, "", `{"a":1,"b":-5}`))
		want := `{"a":1,"b":-5,"error":{"Error":"NegativeError","Cause":"{\"errorMessage\":\"-5 is negative\",\"errorType\":\"NegativeError\"}"}}`
		if d.Status != types.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), want) {
			t.Fatalf("%s output %s error %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error))
		}
	})
}
