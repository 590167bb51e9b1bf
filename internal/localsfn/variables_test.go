package localsfn

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	docVariables = "https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html"
	docJSONata   = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html"
)

func TestDocsVariablesAndJSONata(t *testing.T) {
	runDocCases(t, []docCase{
		{"Assign and Output of one state see the variables as they were", docVariables,
			`{"QueryLanguage":"JSONata","StartAt":"A","States":{
			  "A":{"Type":"Pass","Assign":{"x":1},"Next":"B"},
			  "B":{"Type":"Pass","Assign":{"x":2,"old":"{% $x %}"},"Output":{"x":"{% $x %}"},"Next":"C"},
			  "C":{"Type":"Pass","Output":{"x":"{% $x %}","old":"{% $old %}","prev":"{% $states.input.x %}"},"End":true}}}`,
			`{}`, `{"x":2,"old":1,"prev":1}`},
		{"JSONPath Assign reads the result with $ and variables with $name", docVariables,
			`{"StartAt":"A","States":{
			  "A":{"Type":"Pass","Result":{"id":7},"ResultPath":"$.r","Assign":{"id.$":"$.id","const":"$.not.a.path"},"Next":"B"},
			  "B":{"Type":"Pass","Parameters":{"id.$":"$id","c.$":"$const","f.$":"States.Format('#{}', $id)"},"End":true}}}`,
			`{}`, `{"id":7,"c":"$.not.a.path","f":"#7"}`},
		{"Map iterations read outer variables and keep their own", docVariables,
			`{"QueryLanguage":"JSONata","StartAt":"A","States":{
			  "A":{"Type":"Pass","Assign":{"base":10},"Next":"M"},
			  "M":{"Type":"Map","Items":"{% [1,2,3] %}","ItemSelector":{"v":"{% $states.context.Map.Item.Value %}","i":"{% $states.context.Map.Item.Index %}"},
			       "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"mine":"{% $states.input.v %}"},"Output":"{% $base + $states.input.v * 10 + $states.input.i %}","End":true}}},
			       "Next":"After"},
			  "After":{"Type":"Pass","Output":{"sums":"{% $states.input %}","leaked":"{% $exists($mine) %}"},"End":true}}}`,
			`{}`, `{"sums":[20,31,42],"leaked":false}`},
		{"JSONata Choice with Condition, rule Output and Assign", docJSONata,
			`{"QueryLanguage":"JSONata","StartAt":"C","States":{
			  "C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n > 5 %}","Assign":{"big":true},"Output":{"n":"{% $states.input.n %}","kind":"big"},"Next":"D"}],
			       "Default":"D","Assign":{"big":false}},
			  "D":{"Type":"Pass","Output":{"in":"{% $states.input %}","big":"{% $big %}"},"End":true}}}`,
			`{"n":9}`, `{"in":{"n":9,"kind":"big"},"big":true}`},
		{"JSONata Wait with a computed number of seconds", docJSONata,
			`{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s * 2 %}","End":true}}}`,
			`{"s":30}`, `{"s":30}`},
	})
}

func TestJSONataTaskArgumentsOutputAndCatch(t *testing.T) {
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"add": handler(func(in map[string]any) (any, error) {
			return map[string]any{"sum": in["a"].(float64) + in["b"].(float64)}, nil
		}),
		"fails": handler(func(map[string]any) (any, error) { return nil, &TaskError{Name: "Nope", Cause: "refused"} }),
	}})
	def := `{"QueryLanguage":"JSONata","StartAt":"Add","States":{
	  "Add":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	         "Arguments":{"FunctionName":"add","Payload":{"a":"{% $states.input.x %}","b":2}},
	         "Output":"{% $states.result.Payload.sum %}","Assign":{"code":"{% $states.result.StatusCode %}"},"Next":"Fail"},
	  "Fail":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:fails",
	          "Catch":[{"ErrorEquals":["Nope"],"Output":{"err":"{% $states.errorOutput.Error %}","was":"{% $states.input %}","code":"{% $code %}"},"Assign":{"why":"{% $states.errorOutput.Cause %}"},"Next":"End"}],"End":true},
	  "End":{"Type":"Pass","Output":{"caught":"{% $states.input %}","why":"{% $why %}"},"End":true}}}`
	d := runDef(t, ex, def, `{"x":40}`)
	assertOutput(t, d, `{"caught":{"err":"Nope","was":42,"code":200},"why":"refused"}`)
}

func TestJSONataErrors(t *testing.T) {
	tests := []struct{ def, input, wantCause string }{
		{`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input.missing %}","End":true}}}`, `{}`,
			"The JSONata expression '$states.input.missing' specified for the field 'Output' returned nothing (undefined)."},
		{`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{"deep":{"v":"{% $nope %}"}},"End":true}}}`, `{}`,
			"specified for the field 'Output/deep/v' returned nothing"},
		{`{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"{% 1 %}","Next":"D"}]},"D":{"Type":"Succeed"}}}`, `{}`,
			"Expected 'boolean', but was 'number'"},
		{`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $number('x') + 1 %}","End":true}}}`, `{}`,
			"threw an error during evaluation"},
	}
	for _, tt := range tests {
		ex := newTestExecutor(t, Options{})
		d := runDef(t, ex, tt.def, tt.input)
		assertFailed(t, d, ErrQueryEvaluationError)
		if !strings.Contains(d.Cause, tt.wantCause) {
			t.Errorf("cause %q\nwant it to contain %q", d.Cause, tt.wantCause)
		}
	}
}

func TestJSONataNumericFields(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.items %}",
	  "MaxConcurrency":"{% 1 %}","ToleratedFailureCount":"{% $states.input.tolerate %}",
	  "ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input > 5 %}","Next":"Bad"}],"Default":"Ok"},
	    "Bad":{"Type":"Fail","Error":"TooBig"},"Ok":{"Type":"Pass","End":true}}},"End":true}}}`
	ex := newTestExecutor(t, Options{})
	if d := runDef(t, ex, def, `{"items":[1,9],"tolerate":1}`); d.Status != StatusSucceeded {
		t.Errorf("one failure tolerated: %s %s", d.Status, d.Error)
	}
	assertFailed(t, runDef(t, ex, def, `{"items":[9,9],"tolerate":1}`), ErrExceedToleratedFailureThreshold)
	assertFailed(t, runDef(t, ex, def, `{"items":[1],"tolerate":"x"}`), ErrQueryEvaluationError)

	clock := NewFakeClock(testEpoch)
	ex = newTestExecutor(t, Options{Clock: clock, Handlers: map[string]Handler{
		"block": func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}})
	arn := start(t, ex, "t", `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:block",
	  "TimeoutSeconds":"{% $states.input.limit %}","End":true}}}`, `{"limit":7}`)
	clock.BlockUntil(1)
	clock.Advance(7 * time.Second)
	assertFailed(t, wait(t, ex, arn), ErrTimeout)
}
