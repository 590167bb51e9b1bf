package sfnapi_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

func receive(t testing.TB, tokens <-chan string) string {
	t.Helper()
	select {
	case tok := <-tokens:
		return tok
	case <-time.After(20 * time.Second):
		t.Fatal("no task token issued")
		return ""
	}
}

func TestTaskTokenCompletedFromOutside(t *testing.T) {
	tokens := make(chan string, 4)
	a := newAPI(t, localsfn.Options{Handlers: map[string]localsfn.Handler{"approver": tokenCatcher(tokens)}})
	ctx := context.Background()
	m := a.create(t, "ask", fmt.Sprintf(callbackDef, `"HeartbeatSeconds":3600,`), "")

	ok := a.start(t, m, "approved", "{}")
	tok := receive(t, tokens)
	if _, err := a.client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if _, err := a.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"approved":true}`)}); err != nil {
		t.Fatalf("success: %v", err)
	}
	d := a.waitDone(t, ok)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"approved":true}` {
		t.Fatalf("after SendTaskSuccess: %s %s", d.Status, aws.ToString(d.Output))
	}
	types1 := eventTypes(a.history(t, ok))
	if !slices.Contains(types1, "TaskSubmitted") || !slices.Contains(types1, "TaskSucceeded") {
		t.Errorf("history %v", types1)
	}
	_, err := a.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	var gone *types.TaskDoesNotExist
	if !errors.As(err, &gone) {
		t.Fatalf("second SendTaskSuccess: %v, want TaskDoesNotExist", err)
	}

	rejected := a.start(t, m, "rejected", "{}")
	tok = receive(t, tokens)
	if _, err := a.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok), Error: aws.String("Rejected"), Cause: aws.String("by alice")}); err != nil {
		t.Fatal(err)
	}
	d = a.waitDone(t, rejected)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "Rejected" || aws.ToString(d.Cause) != "by alice" {
		t.Fatalf("after SendTaskFailure: %s %q %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

func TestTaskTimedOut(t *testing.T) {
	tokens := make(chan string, 1)
	a := newAPI(t, localsfn.Options{Handlers: map[string]localsfn.Handler{"approver": tokenCatcher(tokens)}})
	ctx := context.Background()
	m := a.create(t, "ask", fmt.Sprintf(callbackDef, `"HeartbeatSeconds":1,`), "")
	arn := a.start(t, m, "", "{}")
	tok := receive(t, tokens)
	d := a.waitDone(t, arn)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.HeartbeatTimeout" {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Error))
	}
	_, err := a.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	var timedOut *types.TaskTimedOut
	if !errors.As(err, &timedOut) {
		t.Fatalf("late SendTaskSuccess: %v, want TaskTimedOut", err)
	}
}

// TestRestartWithExecutionsInFlight stops the server and its executor with
// an execution waiting for a callback and another in a Wait state, starts a
// new one on the same database, and finishes both through the new server.
func TestRestartWithExecutionsInFlight(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sfn.db")
	open := func(tokens chan string) *api {
		db, err := localsfn.OpenDB(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return newAPI(t, localsfn.Options{DB: db, Handlers: map[string]localsfn.Handler{"approver": tokenCatcher(tokens)}})
	}
	tokens := make(chan string, 2)
	first := open(tokens)
	m := first.create(t, "ask", fmt.Sprintf(callbackDef, ""), "")
	waits := first.create(t, "waits", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"Done"},"Done":{"Type":"Succeed"}}}`, "")
	asking := first.start(t, m, "in-flight", `{"n":1}`)
	tok := receive(t, tokens)
	waiting := first.start(t, waits, "waiting", `{}`)
	// The restart must find it inside the Wait state.
	for deadline := time.Now().Add(20 * time.Second); !slices.Contains(eventTypes(first.history(t, waiting)), string(types.HistoryEventTypeWaitStateEntered)); {
		if time.Now().After(deadline) {
			t.Fatalf("the Wait state was never entered: %v", eventTypes(first.history(t, waiting)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := first.history(t, asking)
	first.srv.Close()
	first.ex.Close()

	second := open(make(chan string, 2))
	n, err := second.ex.Resume(ctx)
	if err != nil || n != 2 {
		t.Fatalf("resume: %d, %v; want 2", n, err)
	}
	if d, _ := second.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(asking)}); d.Status != types.ExecutionStatusRunning {
		t.Fatalf("after restart: %s", d.Status)
	}
	if _, err := second.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"ok":1}`)}); err != nil {
		t.Fatalf("SendTaskSuccess after restart: %v", err)
	}
	if d := second.waitDone(t, asking); d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"ok":1}` {
		t.Fatalf("resumed execution: %s %s", d.Status, aws.ToString(d.Output))
	}
	after := second.history(t, asking)
	if len(after) <= len(before) || !slices.Equal(eventTypes(after[:len(before)]), eventTypes(before)) {
		t.Fatalf("history before restart %v\nafter %v", eventTypes(before), eventTypes(after))
	}
	if _, err := second.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(waiting)}); err != nil {
		t.Fatal(err)
	}
	if d := second.waitDone(t, waiting); d.Status != types.ExecutionStatusAborted {
		t.Fatalf("stopped after restart: %s", d.Status)
	}
	// The machines and executions are listed by the new process.
	list, err := second.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(m)})
	if err != nil || len(list.Executions) != 1 || list.Executions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("list after restart: %+v %v", list, err)
	}
}
