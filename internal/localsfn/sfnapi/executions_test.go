package sfnapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

const chainDef = `{"StartAt":"A","States":{
 "A":{"Type":"Pass","Parameters":{"got.$":"$.x"},"Next":"B"},
 "B":{"Type":"Pass","ResultPath":"$.b","Result":"done","End":true}}}`

func TestExecutionRoundTrip(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	m := a.create(t, "chain", chainDef, "")
	arn := a.start(t, m, "first", `{"x":7}`)
	if arn != "arn:aws:states:us-east-1:000000000000:execution:chain:first" {
		t.Fatalf("execution arn %s", arn)
	}
	d := a.waitDone(t, arn)
	if d.Status != types.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), `{"got":7,"b":"done"}`) ||
		aws.ToString(d.Input) != `{"x":7}` || aws.ToString(d.Name) != "first" || aws.ToString(d.StateMachineArn) != m ||
		d.StopDate == nil || d.StopDate.Before(*d.StartDate) || d.InputDetails == nil || !d.InputDetails.Included {
		t.Fatalf("describe: %+v", d)
	}
	events := a.history(t, arn)
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if !slices.Equal(eventTypes(events), want) {
		t.Fatalf("history %v\nwant %v", eventTypes(events), want)
	}
	for i, e := range events {
		if e.Id != int64(i+1) || e.Timestamp == nil {
			t.Errorf("event %d: id %d timestamp %v", i, e.Id, e.Timestamp)
		}
	}
	if got := aws.ToString(events[5].ExecutionSucceededEventDetails.Output); !sameJSON(got, `{"got":7,"b":"done"}`) {
		t.Errorf("ExecutionSucceeded output %s", got)
	}
	if got := aws.ToString(events[1].StateEnteredEventDetails.Name); got != "A" {
		t.Errorf("entered %s", got)
	}
}

func TestStartExecutionIsIdempotentByName(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	m := a.create(t, "waits", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, "")
	first, err := a.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String("once"), Input: aws.String(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String("once"), Input: aws.String(`{"a":1}`)})
	if err != nil || aws.ToString(again.ExecutionArn) != aws.ToString(first.ExecutionArn) || !again.StartDate.Equal(*first.StartDate) {
		t.Fatalf("same name and input while running: %+v %v, want the first execution", again, err)
	}
	_, err = a.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String("once"), Input: aws.String(`{"a":2}`)})
	var exists *types.ExecutionAlreadyExists
	if !errors.As(err, &exists) || !strings.Contains(exists.ErrorMessage(), aws.ToString(first.ExecutionArn)) {
		t.Fatalf("same name, other input: %v", err)
	}
	if _, err := a.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: first.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	_, err = a.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Name: aws.String("once"), Input: aws.String(`{"a":1}`)})
	if !errors.As(err, &exists) {
		t.Fatalf("same name after it ended: %v, want ExecutionAlreadyExists", err)
	}
	list, _ := a.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(m)})
	if len(list.Executions) != 1 {
		t.Fatalf("%d executions, want 1", len(list.Executions))
	}
}

func TestStopExecutionOfAWaitingExecution(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	m := a.create(t, "waits", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, "")
	arn := a.start(t, m, "", `{}`)
	out, err := a.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("Operator.Stop"), Cause: aws.String("no longer needed")})
	if err != nil || out.StopDate == nil {
		t.Fatalf("stop: %+v %v", out, err)
	}
	d := a.waitDone(t, arn)
	if d.Status != types.ExecutionStatusAborted || aws.ToString(d.Error) != "Operator.Stop" || aws.ToString(d.Cause) != "no longer needed" {
		t.Fatalf("after stop: %s %q %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	events := a.history(t, arn)
	last := events[len(events)-1]
	if last.Type != types.HistoryEventTypeExecutionAborted || aws.ToString(last.ExecutionAbortedEventDetails.Error) != "Operator.Stop" {
		t.Fatalf("last event %s %+v", last.Type, last.ExecutionAbortedEventDetails)
	}
	// Stopping it again answers its stop date, as AWS does for an ended execution.
	again, err := a.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil || !again.StopDate.Equal(*d.StopDate) {
		t.Fatalf("second stop: %+v %v", again, err)
	}
}

func TestListExecutionsFiltersAndPages(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	quick := a.create(t, "quick", passDef, "")
	waits := a.create(t, "waits", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, "")
	var done []string
	for i := range 5 {
		arn := a.start(t, quick, fmt.Sprintf("q%d", i), "{}")
		a.waitDone(t, arn)
		done = append(done, arn)
	}
	running := a.start(t, waits, "w", "{}")
	var got []string
	p := sfn.NewListExecutionsPaginator(a.client, &sfn.ListExecutionsInput{StateMachineArn: aws.String(quick), MaxResults: 2})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Executions) > 2 {
			t.Fatalf("page of %d, asked 2", len(page.Executions))
		}
		for _, e := range page.Executions {
			got = append(got, aws.ToString(e.ExecutionArn))
			if e.Status != types.ExecutionStatusSucceeded || e.StopDate == nil {
				t.Errorf("%s: %s", aws.ToString(e.Name), e.Status)
			}
		}
	}
	slices.Reverse(done) // newest first
	if !slices.Equal(got, done) {
		t.Fatalf("listed %v\nwant %v", got, done)
	}
	for _, c := range []struct {
		status types.ExecutionStatus
		want   int
	}{{types.ExecutionStatusRunning, 1}, {types.ExecutionStatusSucceeded, 0}, {"", 1}} {
		out, err := a.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(waits), StatusFilter: c.status})
		if err != nil || len(out.Executions) != c.want {
			t.Errorf("filter %q: %v %v, want %d", c.status, out, err, c.want)
		}
		if c.want == 1 && aws.ToString(out.Executions[0].ExecutionArn) != running {
			t.Errorf("filter %q listed %s", c.status, aws.ToString(out.Executions[0].ExecutionArn))
		}
	}
}

func TestStartSyncExecution(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	express := a.create(t, "fast", chainDef, types.StateMachineTypeExpress)
	out, err := a.client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(express), Input: aws.String(`{"x":"y"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusSucceeded || !sameJSON(aws.ToString(out.Output), `{"got":"y","b":"done"}`) ||
		!strings.HasPrefix(aws.ToString(out.ExecutionArn), "arn:aws:states:us-east-1:000000000000:express:fast:") || out.BillingDetails == nil {
		t.Fatalf("sync: %+v", out)
	}
	failing := a.create(t, "fails", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad","Cause":"because"}}}`, types.StateMachineTypeExpress)
	out, err = a.client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(failing)})
	if err != nil || out.Status != types.SyncExecutionStatusFailed || aws.ToString(out.Error) != "Bad" || aws.ToString(out.Cause) != "because" {
		t.Fatalf("sync failure: %+v %v", out, err)
	}
	standard := a.create(t, "slow", passDef, "")
	_, err = a.client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(standard)})
	var unsupported *types.StateMachineTypeNotSupported
	if !errors.As(err, &unsupported) {
		t.Fatalf("sync on STANDARD: %v", err)
	}
}

func TestHistoryPagination(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	m := a.create(t, "chain", chainDef, "")
	arn := a.start(t, m, "", `{"x":1}`)
	a.waitDone(t, arn)
	full := a.history(t, arn)
	for _, reverse := range []bool{false, true} {
		var got []int64
		p := sfn.NewGetExecutionHistoryPaginator(a.client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 4, ReverseOrder: reverse})
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range page.Events {
				got = append(got, e.Id)
			}
		}
		want := []int64{1, 2, 3, 4, 5, 6}
		if reverse {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) || pages != 2 {
			t.Errorf("reverse=%v: ids %v in %d pages, want %v in 2", reverse, got, pages, want)
		}
	}
	noData, err := a.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if d := noData.Events[0].ExecutionStartedEventDetails; d == nil || d.Input != nil {
		t.Errorf("includeExecutionData false still carries the input: %+v", d)
	}
	if d := full[0].ExecutionStartedEventDetails; aws.ToString(d.Input) != `{"x":1}` {
		t.Errorf("input %q", aws.ToString(d.Input))
	}
	// A token from the other direction, or made up, is refused.
	page, _ := a.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 2})
	for _, in := range []*sfn.GetExecutionHistoryInput{
		{ExecutionArn: aws.String(arn), NextToken: page.NextToken, ReverseOrder: true},
		{ExecutionArn: aws.String(arn), NextToken: aws.String("made-up")},
	} {
		_, err := a.client.GetExecutionHistory(ctx, in)
		var bad *types.InvalidToken
		if !errors.As(err, &bad) {
			t.Errorf("token %q reverse=%v: %v, want InvalidToken", aws.ToString(in.NextToken), in.ReverseOrder, err)
		}
	}
}

// tokenCatcher is a Lambda handler that hands its task token to the test.
func tokenCatcher(tokens chan<- string) localsfn.Handler {
	return func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var p struct{ Token string }
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		tokens <- p.Token
		return []byte(`{}`), nil
	}
}

const callbackDef = `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
 "Parameters":{"FunctionName":"approver","Payload":{"Token.$":"$$.Task.Token"}},%s"End":true}}}`
