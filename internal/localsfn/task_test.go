package localsfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type quotaError struct{ msg string }

func (e *quotaError) Error() string { return e.msg }

func invokeDef(fn string, extra string) string {
	return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	  "Parameters":{"FunctionName":"` + fn + `","Payload.$":"$"}` + extra + `,"End":true}}}`
}

func TestLambdaInvokeResultShape(t *testing.T) {
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"echo": handler(func(in map[string]any) (any, error) { return map[string]any{"got": in["x"]}, nil }),
	}})
	d := runDef(t, ex, invokeDef("arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST", ""), `{"x":1}`)
	if d.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", d.Status, d.Error, d.Cause)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(d.Output), &out); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"} {
		if _, ok := out[k]; !ok {
			t.Errorf("lambda:invoke result lacks %s: %s", k, d.Output)
		}
	}
	if fmt.Sprint(out["Payload"]) != "map[got:1]" || fmt.Sprint(out["StatusCode"]) != "200" {
		t.Errorf("result %s", d.Output)
	}
	// The usual ResultSelector picks the payload.
	d = runDef(t, ex, invokeDef("echo", `,"ResultSelector":{"r.$":"$.Payload.got"}`), `{"x":2}`)
	assertOutput(t, d, `{"r":2}`)
}

func TestDirectLambdaResource(t *testing.T) {
	ex := newTestExecutor(t, Options{ExpressHistory: true, Handlers: map[string]Handler{
		"double": handler(func(in map[string]any) (any, error) { return in["n"].(float64) * 2, nil }),
	}})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:double","ResultPath":"$.r","End":true}}}`
	d := runDef(t, ex, def, `{"n":21}`)
	assertOutput(t, d, `{"n":21,"r":42}`)
	h, _ := ex.GetExecutionHistory(context.Background(), d.ExecutionArn)
	if !hasEvent(h, "LambdaFunctionSucceeded") {
		t.Errorf("a direct Lambda resource reports LambdaFunction* events, got %v", eventTypes(h))
	}
}

func TestHandlerErrorNames(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantError string
		wantCause string
	}{
		{"errors.New is errorString as Lambda's Go runtime names it", errors.New("boom"), "errorString", `{"errorMessage":"boom","errorType":"errorString"}`},
		{"a typed error is named after its type", &quotaError{"over quota"}, "quotaError", `{"errorMessage":"over quota","errorType":"quotaError"}`},
		{"TaskError chooses both", &TaskError{Name: "Custom.Name", Cause: "because"}, "Custom.Name", "because"},
		{"a wrapped TaskError still chooses", fmt.Errorf("ctx: %w", &TaskError{Name: "Inner", Cause: "c"}), "Inner", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
				"f": func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, tt.err },
			}})
			d := runDef(t, ex, invokeDef("f", ""), `{}`)
			assertFailed(t, d, tt.wantError)
			if d.Cause != tt.wantCause {
				t.Errorf("cause %q, want %q", d.Cause, tt.wantCause)
			}
		})
	}
}

func TestUnknownFunctionFailsLikeAWS(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	for _, tt := range []struct{ def, want string }{
		{invokeDef("missing", ""), "arn:aws:lambda:us-east-1:000000000000:function:missing"},
		{`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:missing","End":true}}}`,
			"arn:aws:lambda:us-east-1:000000000000:function:missing"},
		// a full ARN is named as given, with its own account and region
		{`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:eu-west-1:123456789012:function:missing","End":true}}}`,
			"arn:aws:lambda:eu-west-1:123456789012:function:missing"},
	} {
		d := runDef(t, ex, tt.def, `{}`)
		assertFailed(t, d, ErrLambdaNotFound)
		if !strings.Contains(d.Cause, "Function not found: "+tt.want+" (") {
			t.Errorf("cause %q, want the function named %s", d.Cause, tt.want)
		}
	}
}

func TestPanickingHandler(t *testing.T) {
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"p": func(context.Context, json.RawMessage) (json.RawMessage, error) { panic("kaput") },
	}})
	d := runDef(t, ex, invokeDef("p", ""), `{}`)
	assertFailed(t, d, ErrLambdaUnknown)
}

// retryTimes runs a handler that always fails with errName under the given
// Retry block and returns the fake-clock times of each attempt.
func retryTimes(t *testing.T, retry, errName string) ([]time.Duration, *ExecutionDescription) {
	t.Helper()
	clock := NewAutoClock(testEpoch)
	var mu sync.Mutex
	var times []time.Duration
	ex := newTestExecutor(t, Options{Clock: clock, Handlers: map[string]Handler{
		"f": func(context.Context, json.RawMessage) (json.RawMessage, error) {
			mu.Lock()
			times = append(times, clock.Now().Sub(testEpoch))
			mu.Unlock()
			return nil, &TaskError{Name: errName, Cause: "x"}
		},
	}})
	d := runDef(t, ex, invokeDef("f", `,"Retry":`+retry), `{}`)
	return times, d
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name  string
		retry string
		err   string
		want  []time.Duration // attempt times
	}{
		{"defaults: 3 retries after 1, 2, 4 s", `[{"ErrorEquals":["E"]}]`, "E", []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second}},
		{"MaxAttempts 0 never retries", `[{"ErrorEquals":["E"],"MaxAttempts":0}]`, "E", []time.Duration{0}},
		{"docs: IntervalSeconds 3, BackoffRate 1.5", `[{"ErrorEquals":["E"],"IntervalSeconds":3,"MaxAttempts":2,"BackoffRate":1.5}]`, "E", []time.Duration{0, 3 * time.Second, 7500 * time.Millisecond}},
		{"MaxDelaySeconds caps the backoff", `[{"ErrorEquals":["E"],"IntervalSeconds":2,"MaxAttempts":4,"BackoffRate":3,"MaxDelaySeconds":7}]`, "E", []time.Duration{0, 2 * time.Second, 8 * time.Second, 15 * time.Second, 22 * time.Second}},
		{"only the first matching retrier counts", `[{"ErrorEquals":["E"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"MaxAttempts":5}]`, "E", []time.Duration{0, time.Second}},
		{"States.ALL retries a task error", `[{"ErrorEquals":["States.ALL"],"MaxAttempts":1}]`, "Other", []time.Duration{0, time.Second}},
		{"States.TaskFailed retries a task error", `[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":1}]`, "Other", []time.Duration{0, time.Second}},
		{"a non-matching retrier does not retry", `[{"ErrorEquals":["X"]}]`, "E", []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			times, d := retryTimes(t, tt.retry, tt.err)
			assertFailed(t, d, tt.err)
			if fmt.Sprint(times) != fmt.Sprint(tt.want) {
				t.Errorf("attempts at %v, want %v", times, tt.want)
			}
		})
	}
}

func TestRetryJitterFull(t *testing.T) {
	times, _ := retryTimes(t, `[{"ErrorEquals":["E"],"IntervalSeconds":10,"MaxAttempts":3,"BackoffRate":2,"JitterStrategy":"FULL"}]`, "E")
	if len(times) != 4 {
		t.Fatalf("attempts %v", times)
	}
	caps := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	same := true
	for i := 1; i < len(times); i++ {
		gap := times[i] - times[i-1]
		if gap < 0 || gap > caps[i-1] {
			t.Errorf("retry %d waited %v, want within [0, %v]", i, gap, caps[i-1])
		}
		if gap != caps[i-1] {
			same = false
		}
	}
	if same {
		t.Errorf("FULL jitter waited exactly the un-jittered delays %v", times)
	}
}

func TestRetryThenSucceed(t *testing.T) {
	var calls atomic.Int32
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"flaky": func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			if calls.Add(1) < 3 {
				return nil, &TaskError{Name: "Transient", Cause: "try again"}
			}
			return json.RawMessage(`"ok"`), nil
		},
	}})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:flaky",
	  "Parameters":{"retry.$":"$$.State.RetryCount"},"Retry":[{"ErrorEquals":["Transient"]}],"End":true}}}`
	d := runDef(t, ex, def, `{}`)
	assertOutput(t, d, `"ok"`)
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3", calls.Load())
	}
}

func TestTaskTimeout(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	released := make(chan struct{})
	ex := newTestExecutor(t, Options{Clock: clock, Handlers: map[string]Handler{
		"slow": func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			<-ctx.Done() // the executor cancels the invocation when the task times out
			close(released)
			return nil, ctx.Err()
		},
	}})
	arn := start(t, ex, "timeout", `{"StartAt":"T","States":{
	  "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow"},"TimeoutSeconds":30,
	       "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Never"}],"End":true},
	  "Never":{"Type":"Pass","End":true}}}`, `{}`)
	clock.BlockUntil(1)
	clock.Advance(29 * time.Second)
	if d, _ := ex.DescribeExecution(context.Background(), arn); d.Status != StatusRunning {
		t.Fatalf("ended before its timeout: %s", d.Status)
	}
	clock.Advance(time.Second)
	d := wait(t, ex, arn)
	assertFailed(t, d, ErrTimeout) // States.TaskFailed does not catch States.Timeout
	<-released
}

func TestWaitForTaskToken(t *testing.T) {
	tokens := make(chan string, 1)
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"ask": handler(func(in map[string]any) (any, error) { tokens <- in["token"].(string); return "ignored", nil }),
	}})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"ask","Payload":{"token.$":"$$.Task.Token"}},"ResultPath":"$.answer","End":true}}}`
	ctx := context.Background()

	arn := start(t, ex, "ok", def, `{"q":1}`)
	tok := <-tokens
	if err := ex.SendTaskSuccess(ctx, tok, json.RawMessage(`{"approved":true}`)); err != nil {
		t.Fatal(err)
	}
	assertOutput(t, wait(t, ex, arn), `{"q":1,"answer":{"approved":true}}`)
	if err := ex.SendTaskSuccess(ctx, tok, json.RawMessage(`{}`)); !errors.Is(err, ErrTaskDoesNotExist) {
		t.Errorf("a used token must be refused with TaskDoesNotExist, got %v", err)
	}

	arn = start(t, ex, "no", def, `{}`)
	tok = <-tokens
	if err := ex.SendTaskSuccess(ctx, tok, json.RawMessage(`{not json`)); !errors.Is(err, ErrInvalidOutput) {
		t.Errorf("invalid output must be refused, got %v", err)
	}
	if err := ex.SendTaskFailure(ctx, tok, "Rejected", "no way"); err != nil {
		t.Fatal(err)
	}
	d := wait(t, ex, arn)
	assertFailed(t, d, "Rejected")
	if d.Cause != "no way" {
		t.Errorf("cause %q", d.Cause)
	}
	if err := ex.SendTaskSuccess(ctx, "nonsense", json.RawMessage(`"`+strings.Repeat("x", PayloadLimit)+`"`)); !errors.Is(err, ErrInvalidOutput) {
		t.Errorf("an output over 256 KB must be refused with InvalidOutput, got %v", err)
	}
	if err := ex.SendTaskHeartbeat(ctx, "nonsense"); !errors.Is(err, ErrTaskDoesNotExist) {
		t.Errorf("unknown token: %v", err)
	}
}

func TestHeartbeat(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	tokens := make(chan string, 1)
	ex := newTestExecutor(t, Options{Clock: clock, Handlers: map[string]Handler{
		"ask": handler(func(in map[string]any) (any, error) { tokens <- in["token"].(string); return nil, nil }),
	}})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"ask","Payload":{"token.$":"$$.Task.Token"}},"HeartbeatSeconds":10,"TimeoutSeconds":100,"End":true}}}`
	arn := start(t, ex, "hb", def, `{}`)
	tok := <-tokens
	ctx := context.Background()
	// heartbeatArmed waits until the heartbeat deadline is 10 s from now.
	heartbeatArmed := func() {
		for {
			if d := clock.Deadlines(); len(d) == 2 && d[0].Equal(clock.Now().Add(10*time.Second)) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	for range 3 { // heartbeats every 8 s keep it alive past 10 s
		heartbeatArmed()
		clock.Advance(8 * time.Second)
		if err := ex.SendTaskHeartbeat(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	heartbeatArmed()
	if d, _ := ex.DescribeExecution(ctx, arn); d.Status != StatusRunning {
		t.Fatalf("heartbeats did not keep the task alive: %s %s", d.Status, d.Error)
	}
	clock.Advance(11 * time.Second)
	assertFailed(t, wait(t, ex, arn), ErrHeartbeatTimeout)
}
