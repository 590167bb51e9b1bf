package localsfn

import (
	"strings"
	"testing"
)

// TestErrorNames raises each error name the executor reports and checks the
// name, the cause and whether Catch may handle it. States.Timeout and
// States.HeartbeatTimeout need a moving clock: see TestTaskTimeout,
// TestMachineTimeout and TestHeartbeat. States.Permissions,
// States.ItemReaderFailed, States.ResultWriterFailed and
// States.QueryEvaluationError belong to features the embedded executor
// refuses at parse time (IAM, ItemReader/ResultWriter, JSONata).
func TestErrorNames(t *testing.T) {
	big := strings.Repeat("x", PayloadLimit)
	handlers := map[string]Handler{
		"fails": handler(func(map[string]any) (any, error) { return nil, &TaskError{Name: "App.Error", Cause: "app cause"} }),
		"big":   handler(func(map[string]any) (any, error) { return big, nil }),
	}
	// catchAll wraps a state so that a States.ALL catcher would turn any
	// catchable error into success: the error must still fail the execution
	// when it is not catchable.
	catchAll := func(state string) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"S","States":{"S":` + state + `}}],
		  "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","Result":"caught","End":true}}}`
	}
	tests := []struct {
		name      string
		def       string
		input     string
		wantErr   string // "" when the execution must succeed through a catcher
		wantCause string // substring
	}{
		{"States.Runtime: a Parameters path finds nothing", catchAll(`{"Type":"Pass","Parameters":{"x.$":"$.missing"},"End":true}`), `{}`,
			ErrRuntime, "An error occurred while executing the state 'S' (entered at the event id #4). The JSONPath '$.missing' specified for the field 'x.$' could not be found in the input '{}'"},
		{"States.Runtime: InputPath finds nothing", catchAll(`{"Type":"Pass","InputPath":"$.a.b","End":true}`), `{"a":{}}`,
			ErrRuntime, "Invalid path '$.a.b' : No results for path: $['a']['b']"},
		{"States.Runtime: an intrinsic function fails", catchAll(`{"Type":"Pass","Parameters":{"x.$":"States.ArrayGetItem($.a, 5)"},"End":true}`), `{"a":[1]}`,
			ErrRuntime, "index 5 is out of bounds"},
		{"States.Runtime: Map items are not an array", catchAll(`{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}`), `{"a":1}`,
			ErrRuntime, "Map state input must be an array"},
		{"States.ResultPathMatchFailure: ResultPath into a string", `{"StartAt":"S","States":{"S":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`, `{"a":"text"}`,
			ErrResultPathMatchFailure, "Unable to apply ResultPath '$.a.b'"},
		{"States.NoChoiceMatched", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`, `{"v":2}`,
			ErrNoChoiceMatched, "No Matches!"},
		{"States.NoChoiceMatched is catchable", catchAll(`{"Type":"Choice","Choices":[{"Variable":"$.v","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}`), `{"v":2}`,
			"", ""},
		{"States.ExceedToleratedFailureThreshold", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":0,
		  "ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"X"}}},"End":true}}}`, `[1]`,
			ErrExceedToleratedFailureThreshold, "tolerated failure threshold was exceeded"},
		{"States.DataLimitExceeded is not caught by States.ALL", catchAll(`{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:big","End":true}`), `{}`,
			ErrDataLimitExceeded, "exceeding the maximum number of bytes"},
		{"States.TaskFailed catches a handler error", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:fails",
		  "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Ok"}],"End":true},"Ok":{"Type":"Succeed"}}}`, `{}`,
			"", ""},
		{"a handler's own error name", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:fails","End":true}}}`, `{}`,
			"App.Error", "app cause"},
		{"Lambda.ResourceNotFoundException", catchAll(`{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:none","End":true}`), `{}`,
			"", ""},
		{"a Parallel branch's error is reported as is, not as States.BranchFailed", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,
		  "Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Inner","Cause":"inner cause"}}}]}}}`, `{}`,
			"Inner", "inner cause"},
		{"States.Runtime: SecondsPath is not an integer", `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":"ten"}`,
			ErrRuntime, `The SecondsPath parameter cannot be parsed as a long value: $.s == ten`},
		{"States.Runtime: TimestampPath is not a timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}`, `{"t":"tomorrow"}`,
			ErrRuntime, `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == "tomorrow"`},
		{"States.Runtime: a Choice variable is missing", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericEquals":1,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`, `{}`,
			ErrRuntime, "Invalid path '$.v': The choice state's condition path references an invalid value."},
		{"Fail with ErrorPath and CausePath", `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('because {}', $.c)"}}}`, `{"e":"Dyn","c":"reasons"}`,
			"Dyn", "because reasons"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := newTestExecutor(t, Options{Handlers: handlers})
			d := runDef(t, ex, tt.def, tt.input)
			if tt.wantErr == "" {
				if d.Status != StatusSucceeded {
					t.Fatalf("want the error caught, got %s %s: %s", d.Status, d.Error, d.Cause)
				}
				return
			}
			assertFailed(t, d, tt.wantErr)
			if !strings.Contains(d.Cause, tt.wantCause) {
				t.Errorf("cause %q\nwant it to contain %q", d.Cause, tt.wantCause)
			}
		})
	}
}
