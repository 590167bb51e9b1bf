package localsfn

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const waitHour = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`

func TestStartExecutionIdempotentForStandard(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	ex := newTestExecutor(t, Options{Clock: clock})
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, "m", []byte(waitHour), Standard)
	if err != nil {
		t.Fatal(err)
	}
	first, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "run-1", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "run-1", Input: `{"a":1}`})
	if err != nil || again.ExecutionArn != first.ExecutionArn {
		t.Fatalf("same name and input while running must return the same execution: %v %v", again, err)
	}
	if _, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "run-1", Input: `{"a":2}`}); !errors.Is(err, ErrExecutionAlreadyExists) {
		t.Errorf("same name, other input: want ExecutionAlreadyExists, got %v", err)
	}
	clock.BlockUntil(1)
	clock.Advance(time.Hour)
	wait(t, ex, first.ExecutionArn)
	if _, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "run-1", Input: `{"a":1}`}); !errors.Is(err, ErrExecutionAlreadyExists) {
		t.Errorf("same name after the execution closed: want ExecutionAlreadyExists, got %v", err)
	}
}

func TestStartExecutionRefusesBadInput(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	ctx := context.Background()
	arn, _ := ex.CreateStateMachine(ctx, "m", []byte(pass(`"Result":1`)), Express)
	tests := []struct {
		in   StartExecutionInput
		want error
	}{
		{StartExecutionInput{StateMachineArn: arn, Input: `{"a":`}, ErrInvalidExecutionInput},
		{StartExecutionInput{StateMachineArn: arn, Input: `"` + strings.Repeat("x", PayloadLimit) + `"`}, ErrInvalidExecutionInput},
		{StartExecutionInput{StateMachineArn: arn, Name: "bad name"}, ErrInvalidName},
		{StartExecutionInput{StateMachineArn: arn + "x"}, ErrStateMachineDoesNotExist},
	}
	for _, tt := range tests {
		if _, err := ex.StartExecution(ctx, tt.in); !errors.Is(err, tt.want) {
			t.Errorf("StartExecution(%.40q…): got %v, want %v", tt.in.Input, err, tt.want)
		}
	}
}

func TestExpressExecutionsAreDistinctAndKeepNoHistory(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	ctx := context.Background()
	arn, _ := ex.CreateStateMachine(ctx, "m", []byte(pass(`"Result":1`)), Express)
	a, _ := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "n"})
	b, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "n"})
	if err != nil || a.ExecutionArn == b.ExecutionArn || !strings.Contains(a.ExecutionArn, ":express:") {
		t.Fatalf("EXPRESS executions: %v %v %v", a, b, err)
	}
	wait(t, ex, a.ExecutionArn)
	if h, _ := ex.GetExecutionHistory(ctx, a.ExecutionArn); len(h) != 0 {
		t.Errorf("EXPRESS executions keep no history in AWS, got %v", eventTypes(h))
	}
}

func TestStopExecution(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	ex := newTestExecutor(t, Options{Clock: clock})
	arn := start(t, ex, "m", waitHour, `{}`)
	clock.BlockUntil(1)
	if err := ex.StopExecution(context.Background(), arn, "Operator.Stop", "no longer needed"); err != nil {
		t.Fatal(err)
	}
	d := wait(t, ex, arn)
	if d.Status != StatusAborted || d.Error != "Operator.Stop" || d.Cause != "no longer needed" {
		t.Errorf("got %s %q %q", d.Status, d.Error, d.Cause)
	}
	h, _ := ex.GetExecutionHistory(context.Background(), arn)
	if last := h[len(h)-1]; last.Type != "ExecutionAborted" {
		t.Errorf("last event %s", last.Type)
	}
}

// A stop that arrives before the execution's goroutine has begun (right
// after StartExecution returned) still aborts it: CI once hung 30 minutes
// in StopExecution because the stop found nothing to cancel yet.
func TestStopBeforeTheRunBegins(t *testing.T) {
	ex := newTestExecutor(t, Options{Clock: NewFakeClock(testEpoch)})
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, "m", []byte(waitHour), Standard)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ex.machine(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	x := newExecution(ex, rec, arn+":x", "x", "{}", map[string]any{}, testEpoch)
	x.stop(stopFailure("Operator.Stop", "early"))
	done := make(chan struct{})
	go func() { x.run(ctx, rec.machine.StartAt, map[string]any{}, nil); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a run stopped before it began is still running")
	}
	if d := x.describe(); d.Status != StatusAborted || d.Error != "Operator.Stop" || d.Cause != "early" {
		t.Fatalf("got %s %q %q, want ABORTED Operator.Stop early", d.Status, d.Error, d.Cause)
	}
}

// The same race through the public API, many times over.
func TestStopRightAfterStart(t *testing.T) {
	ex := newTestExecutor(t, Options{Clock: NewFakeClock(testEpoch)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := ex.CreateStateMachine(ctx, "m", []byte(waitHour), Standard)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: m})
		if err != nil {
			t.Fatal(err)
		}
		if err := ex.StopExecution(ctx, out.ExecutionArn, "", ""); err != nil {
			t.Fatalf("stop %d: %v", i, err)
		}
		if d, _ := ex.DescribeExecution(ctx, out.ExecutionArn); d.Status != StatusAborted {
			t.Fatalf("execution %d: %s after stop", i, d.Status)
		}
	}
}

func TestMachineTimeout(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	ex := newTestExecutor(t, Options{Clock: clock})
	arn := start(t, ex, "m", `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, `{}`)
	clock.BlockUntil(2) // machine deadline + Wait
	clock.Advance(61 * time.Second)
	d := wait(t, ex, arn)
	if d.Status != StatusTimedOut || d.Error != ErrTimeout {
		t.Errorf("got %s %q", d.Status, d.Error)
	}
}

func TestHistoryEventTypes(t *testing.T) {
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"f": handler(func(map[string]any) (any, error) { return 1, nil }),
	}})
	def := `{"StartAt":"P","States":{
	  "P":{"Type":"Pass","Next":"T"},
	  "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"Next":"C"},
	  "C":{"Type":"Choice","Choices":[{"Variable":"$.StatusCode","NumericEquals":200,"Next":"Par"}]},
	  "Par":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}],"Next":"M"},
	  "M":{"Type":"Map","ItemsPath":"$.list","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"Parameters":{"list":[1]},"End":true}}}`
	def = strings.Replace(def, `"Parameters":{"list":[1]},`, ``, 1)
	def = strings.Replace(def, `"Par":{"Type":"Parallel"`, `"Par":{"Type":"Parallel","ResultSelector":{"list":[1]}`, 1)
	d := runDef(t, ex, def, `{}`)
	if d.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", d.Status, d.Error, d.Cause)
	}
	h, err := ex.GetExecutionHistory(context.Background(), d.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ExecutionStarted",
		"PassStateEntered", "PassStateExited",
		"TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
		"ChoiceStateEntered", "ChoiceStateExited",
		"ParallelStateEntered", "ParallelStateStarted", "WaitStateEntered", "WaitStateExited", "ParallelStateSucceeded", "ParallelStateExited",
		"MapStateEntered", "MapStateStarted", "MapIterationStarted", "SucceedStateEntered", "SucceedStateExited", "MapIterationSucceeded", "MapStateSucceeded", "MapStateExited",
		"ExecutionSucceeded"}
	if got := eventTypes(h); !slices.Equal(got, want) {
		t.Errorf("history\n got %v\nwant %v", got, want)
	}
	for i, e := range h {
		if e.ID != int64(i+1) {
			t.Errorf("event %d has id %d", i, e.ID)
		}
	}
	if h[1].DetailsKey != "stateEnteredEventDetails" || h[1].Details["name"] != "P" {
		t.Errorf("PassStateEntered details %v %v", h[1].DetailsKey, h[1].Details)
	}
	raw, _ := json.Marshal(h[0])
	if !strings.Contains(string(raw), `"executionStartedEventDetails"`) || !strings.Contains(string(raw), `"previousEventId":0`) {
		t.Errorf("ExecutionStarted JSON %s", raw)
	}
}

func TestStatusChangeNotifications(t *testing.T) {
	var mu sync.Mutex
	var got []StatusChange
	ex := newTestExecutor(t, Options{Notify: func(_ context.Context, c StatusChange) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	}})
	d := runDef(t, ex, `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}`, `{"k":1}`)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Status != StatusRunning || got[1].Status != StatusFailed {
		t.Fatalf("notifications %+v", got)
	}
	c := got[1]
	if c.ExecutionArn != d.ExecutionArn || c.StateMachineArn != d.StateMachineArn || c.Input != `{"k":1}` ||
		c.StopDate == nil || c.Error == nil || *c.Error != "E" || c.Cause == nil || *c.Cause != "C" || c.Output != nil {
		t.Errorf("final notification %+v", c)
	}
	ev, _ := json.Marshal(c.Event("us-east-1", "000000000000", testEpoch))
	for _, want := range []string{`"detail-type":"Step Functions Execution Status Change"`, `"source":"aws.states"`, `"resources":["` + d.ExecutionArn + `"]`, `"detail":{`} {
		if !strings.Contains(string(ev), want) {
			t.Errorf("EventBridge event lacks %s: %s", want, ev)
		}
	}
	raw, _ := json.Marshal(c)
	for _, field := range []string{"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "input", "inputDetails", "output", "outputDetails", "error", "cause"} {
		if !strings.Contains(string(raw), `"`+field+`"`) {
			t.Errorf("EventBridge detail lacks %s: %s", field, raw)
		}
	}
}

func TestParallelFailureStopsSiblings(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	var ran atomic.Bool
	ex := newTestExecutor(t, Options{Clock: clock, ExpressHistory: true, Handlers: map[string]Handler{
		"after": handler(func(map[string]any) (any, error) { ran.Store(true); return nil, nil }),
	}})
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
	  {"StartAt":"Slow","States":{"Slow":{"Type":"Wait","Seconds":3600,"Next":"After"},"After":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:after","End":true}}},
	  {"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"BranchError","Cause":"branch 2 failed"}}}]}}}`
	arn := start(t, ex, "p", def, `{}`)
	d := wait(t, ex, arn) // ends without the clock moving: the failure stopped the waiting branch
	assertFailed(t, d, "BranchError")
	if d.Cause != "branch 2 failed" {
		t.Errorf("cause %q", d.Cause)
	}
	clock.Advance(2 * time.Hour)
	time.Sleep(10 * time.Millisecond)
	if ran.Load() {
		t.Error("the sibling branch went on after the failure")
	}
}

func TestMapMaxConcurrency(t *testing.T) {
	var cur, peak atomic.Int32
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"work": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			cur.Add(-1)
			return in, nil
		},
	}})
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":3,"ItemsPath":"$.items",
	  "ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
	  "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:work","End":true}}},"End":true}}}`
	d := runDef(t, ex, def, `{"k":"x","items":["a","b","c","d","e","f","g","h","i","j"]}`)
	if d.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", d.Status, d.Error, d.Cause)
	}
	if !strings.HasPrefix(d.Output, `[{"i":0,"k":"x","v":"a"},{"i":1,"k":"x","v":"b"}`) {
		t.Errorf("results out of order or ItemSelector wrong: %s", d.Output)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d with MaxConcurrency 3", p)
	}
}

func TestMapToleratedFailures(t *testing.T) {
	proc := `"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericGreaterThan":5,"Next":"Bad"}],"Default":"Ok"},
	  "Bad":{"Type":"Fail","Error":"TooBig"},"Ok":{"Type":"Pass","End":true}}}`
	tests := []struct {
		tolerance string
		input     string
		wantErr   string
	}{
		{`"ToleratedFailureCount":1`, `[1,2,9]`, ""},
		{`"ToleratedFailureCount":1`, `[1,9,9]`, ErrExceedToleratedFailureThreshold},
		{`"ToleratedFailurePercentage":50`, `[1,9,2,9]`, ""},
		{`"ToleratedFailurePercentage":50`, `[1,9,9,9]`, ErrExceedToleratedFailureThreshold},
		{``, `[1,9]`, "TooBig"},
	}
	for _, tt := range tests {
		t.Run(tt.tolerance+tt.input, func(t *testing.T) {
			ex := newTestExecutor(t, Options{})
			extra := ""
			if tt.tolerance != "" {
				extra = tt.tolerance + ","
			}
			d := runDef(t, ex, `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,`+extra+proc+`,"End":true}}}`, tt.input)
			if tt.wantErr == "" {
				if d.Status != StatusSucceeded {
					t.Fatalf("%s %s", d.Status, d.Error)
				}
				return
			}
			assertFailed(t, d, tt.wantErr)
		})
	}
}

func TestDataLimitExceeded(t *testing.T) {
	big := strings.Repeat("x", PayloadLimit)
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"big": handler(func(map[string]any) (any, error) { return big, nil }),
	}})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:big",
	  "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`
	d := runDef(t, ex, def, `{}`)
	assertFailed(t, d, ErrDataLimitExceeded) // States.ALL does not catch it
}

func TestInvalidDefinitions(t *testing.T) {
	tests := []struct{ def, want string }{
		{`not json`, "not valid JSON"},
		{`{"States":{}}`, "StartAt"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, `state "A": exactly one of Next and End`},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, `"B", which is not a state`},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Succeed"}}}`, `state "B": no transition reaches this state`},
		{`{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`, `Type must be one of`},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`, `InputPath`},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, `reference path`},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`, `unknown function States.Nope`},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.ArrayLength()"},"End":true}}}`, `takes 1 arguments`},
		{`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","Foo":1,"Next":"A"}]}}}`, `unknown comparator`},
		{`{"StartAt":"A","States":{"A":{"Type":"Wait","End":true}}}`, `exactly one of Seconds`},
		{`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEquals":"a","IsPresent":true,"Next":"A"}]}}}`, `more than one comparator: IsPresent, StringEquals`},
		{`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["States.ALL","X"]}],"End":true}}}`, `States.ALL must appear alone`},
		{`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"A"},{"ErrorEquals":["X"],"Next":"A"}],"End":true}}}`, `must be the last`},
		{`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEquals":"a","Next":"A"}],"ResultPath":"$.x"}}}`, `cannot have ResultPath`},
		{`{"StartAt":"A","QueryLanguage":"JSONata","States":{"A":{"Type":"Pass","InputPath":"$.a","End":true}}}`, `a JSONata state cannot have InputPath`},
		{`{"StartAt":"A","QueryLanguage":"JSONata","States":{"A":{"Type":"Pass","Output":"{% $states.input.( %}","End":true}}}`, `does not compile`},
		{`{"StartAt":"A","States":{"A":{"Type":"Map","ItemReader":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}}}`, `not supported`},
	}
	ex := newTestExecutor(t, Options{})
	for _, tt := range tests {
		_, err := ex.CreateStateMachine(context.Background(), "bad", []byte(tt.def), Standard)
		var de *DefinitionError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\n  error %v, want a DefinitionError mentioning %q", tt.def, err, tt.want)
		}
	}
	if _, err := ex.DescribeExecution(context.Background(), "arn:nope"); !errors.Is(err, ErrExecutionDoesNotExist) {
		t.Errorf("describe unknown: %v", err)
	}
	arn, _ := ex.CreateStateMachine(context.Background(), "ok", []byte(pass(`"Result":1`)), Standard)
	ex.Close()
	if _, err := ex.StartExecution(context.Background(), StartExecutionInput{StateMachineArn: arn}); !errors.Is(err, ErrClosed) {
		t.Errorf("start after Close: %v", err)
	}
}
