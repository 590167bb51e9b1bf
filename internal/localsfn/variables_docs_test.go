package localsfn

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Scope rules, limits, $states, AWS's JSONata functions and $eval, from
// the AWS pages on variables (docVariables) and on JSONata
// (docJSONata and docJSONataFunctions). TestDocsVariablesAndJSONata covers
// evaluation order, JSONPath $name references and Map scoping.

const docJSONataFunctions = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html#jsonata-functions-provided-by-sfn"

// TestDocsVariableScopes: branches and iterations read outer variables;
// each keeps its own assignments; none may assign an outer variable.
func TestDocsVariableScopes(t *testing.T) {
	runDocCases(t, []docCase{
		{"Parallel branches read outer variables, keep their own, and may reuse a name", docVariables,
			`{"QueryLanguage":"JSONata","StartAt":"A","States":{
			  "A":{"Type":"Pass","Assign":{"base":100},"Next":"P"},
			  "P":{"Type":"Parallel","Branches":[
			    {"StartAt":"L","States":{"L":{"Type":"Pass","Assign":{"local":1},"Next":"L2"},"L2":{"Type":"Pass","Output":"{% $base + $local %}","End":true}}},
			    {"StartAt":"R","States":{"R":{"Type":"Pass","Assign":{"local":2},"Next":"R2"},"R2":{"Type":"Pass","Output":"{% $base + $local %}","End":true}}}],
			   "Next":"After"},
			  "After":{"Type":"Pass","Output":{"branches":"{% $states.input %}","local":"{% $exists($local) %}","base":"{% $base %}"},"End":true}}}`,
			`{}`, `{"branches":[101,102],"local":false,"base":100}`},
		{"JSONPath: Parameters, ResultSelector and Assign of one state see the variables as they were", docVariables,
			`{"StartAt":"A","States":{
			  "A":{"Type":"Pass","Assign":{"x":1},"Next":"B"},
			  "B":{"Type":"Pass","Parameters":{"seen.$":"$x"},"Assign":{"x":2,"old.$":"$x","fromResult.$":"$.seen"},"Next":"C"},
			  "C":{"Type":"Choice","Choices":[{"Variable":"$x","NumericEquals":2,"Next":"D"}],"Default":"Wrong"},
			  "D":{"Type":"Pass","Parameters":{"x.$":"$x","old.$":"$old","fromResult.$":"$fromResult","sum.$":"States.MathAdd($x, $old)"},"End":true},
			  "Wrong":{"Type":"Fail","Error":"Wrong"}}}`,
			`{}`, `{"x":2,"old":1,"fromResult":1,"sum":3}`},
		{"JSONPath branches read outer variables with $name", docVariables,
			`{"StartAt":"A","States":{
			  "A":{"Type":"Pass","Assign":{"greeting":"hi"},"Next":"P"},
			  "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Parameters":{"g.$":"$greeting"},"End":true}}}],"End":true}}}`,
			`{}`, `[{"g":"hi"}]`},
	})

	refused := []struct{ name, def, variable string }{
		{"Map iteration assigns an outer variable (JSONata)", `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		  "A":{"Type":"Pass","Assign":{"count":0},"Next":"M"},
		  "M":{"Type":"Map","Items":[1,2],"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"count":"{% $count + 1 %}"},"End":true}}},"End":true}}}`, "count"},
		{"Parallel branch assigns an outer variable (JSONPath)", `{"StartAt":"A","States":{
		  "A":{"Type":"Pass","Assign":{"x":1},"Next":"P"},
		  "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"x.$":"$.v"},"End":true}}}],"End":true}}}`, "x"},
		{"nested Map assigns a variable of the outer iteration in a Catch", `{"QueryLanguage":"JSONata","StartAt":"M","States":{
		  "M":{"Type":"Map","Items":[1],"ItemProcessor":{"StartAt":"S","States":{
		    "S":{"Type":"Pass","Assign":{"seen":true},"Next":"N"},
		    "N":{"Type":"Map","Items":[1],"ItemProcessor":{"StartAt":"T","States":{
		      "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"seen":false},"Next":"E"}],"End":true},
		      "E":{"Type":"Succeed"}}},"End":true}}},"End":true}}}`, "seen"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			var de *DefinitionError
			if !errors.As(err, &de) || !strings.Contains(de.Msg, fmt.Sprintf("cannot assign variable %q", tc.variable)) {
				t.Errorf("want a DefinitionError refusing to assign %q, got %v (%s)", tc.variable, err, docVariables)
			}
		})
	}
}

// TestDocsVariableLimits: 256 KiB a variable (and per Assign field), 10 MiB
// an execution; exceeding one fails the state with States.DataLimitExceeded.
func TestDocsVariableLimits(t *testing.T) {
	pad := func(n int) string { return fmt.Sprintf("{%% $pad('', %d, 'x') %%}", n) } // a string of n bytes: n+2 in JSON
	chain := func(n int, name func(i int) string) string {
		var b strings.Builder
		b.WriteString(`{"QueryLanguage":"JSONata","StartAt":"S0","States":{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			next := fmt.Sprintf(`"Next":"S%d"`, i+1)
			if i == n-1 {
				next = `"End":true`
			}
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Assign":{%q:%q},"Output":{},%s}`, i, name(i), pad(250*1024), next)
		}
		b.WriteString(`}}`)
		return b.String()
	}
	tests := []struct {
		name, def string
		wantErr   string // "" for success
		cause     string
	}{
		{"a variable of exactly 256 KiB", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"big":"` + pad(VariableLimit-2) + `"},"Output":{},"End":true}}}`, "", ""},
		{"a variable one byte over 256 KiB", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"big":"` + pad(VariableLimit-1) + `"},"End":true}}}`, ErrDataLimitExceeded, "variable 'big'"},
		{"one Assign field over 256 KiB in total", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"a":"` + pad(150*1024) + `","b":"` + pad(150*1024) + `"},"End":true}}}`, ErrDataLimitExceeded, "one Assign field"},
		{"41 variables of 250 KiB exceed 10 MiB", chain(41, func(i int) string { return fmt.Sprintf("v%d", i) }), ErrDataLimitExceeded, "10 MiB"},
		{"replacing one variable 41 times stays under 10 MiB", chain(41, func(int) string { return "v" }), "", ""},
		{"finished Map iterations release their variables", `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% [1..50] %}","MaxConcurrency":1,
		  "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"chunk":"` + pad(250*1024) + `"},"Output":{},"End":true}}},"Output":{},"End":true}}}`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := newTestExecutor(t, Options{})
			d := runDef(t, ex, tc.def, `{}`)
			if tc.wantErr == "" {
				if d.Status != StatusSucceeded {
					t.Fatalf("status %s %s: %s", d.Status, d.Error, d.Cause)
				}
				return
			}
			assertFailed(t, d, tc.wantErr)
			if !strings.Contains(d.Cause, tc.cause) {
				t.Errorf("cause %q does not mention %q (%s)", d.Cause, tc.cause, docVariables)
			}
		})
	}
}

// TestDocsStatesVariable: $states.input, .result, .errorOutput and
// .context in JSONata states.
func TestDocsStatesVariable(t *testing.T) {
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"echo": handler(func(in map[string]any) (any, error) { return in, nil }),
		"boom": handler(func(map[string]any) (any, error) { return nil, &TaskError{Name: "Boom", Cause: "bad input"} }),
	}})
	runDocCasesWith(t, ex, []docCase{{"$states in Arguments, Output and Catch", docJSONata,
		`{"QueryLanguage":"JSONata","StartAt":"Call","States":{
		  "Call":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo","Arguments":{"n":"{% $states.input.n %}"},
		          "Output":{"in":"{% $states.input %}","result":"{% $states.result %}","state":"{% $states.context.State.Name %}",
		                    "execInput":"{% $states.context.Execution.Input %}"},"Next":"Fail"},
		  "Fail":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:boom",
		          "Catch":[{"ErrorEquals":["States.ALL"],"Output":{"before":"{% $states.input %}","error":"{% $states.errorOutput %}"},"Next":"Done"}],"End":true},
		  "Done":{"Type":"Succeed"}}}`,
		`{"n":3}`,
		`{"before":{"in":{"n":3},"result":{"n":3},"state":"Call","execInput":{"n":3}},"error":{"Error":"Boom","Cause":"bad input"}}`}})
}

// runDocCasesWith is runDocCases on a given executor (with handlers).
func runDocCasesWith(t *testing.T, ex *Executor, cases []docCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertOutput(t, runDef(t, ex, c.def, c.input), c.want)
			if t.Failed() {
				t.Logf("documented at %s", c.page)
			}
		})
	}
}

// TestDocsAWSJSONataFunctions: the functions Step Functions adds to
// JSONata, and $eval refused when the definition is created.
func TestDocsAWSJSONataFunctions(t *testing.T) {
	sum := sha256.Sum256([]byte("input data"))
	runDocCases(t, []docCase{
		{"$partition, $range, $hash, $parse", docJSONataFunctions,
			`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{
			  "partition":"{% $partition([1,2,3,4,5], 2) %}","range":"{% $range(0, 10, 2) %}",
			  "hash":"{% $hash('input data', 'SHA-256') %}","parse":"{% $parse($states.input.text) %}"},"End":true}}}`,
			`{"text":"{\"a\":[1,true]}"}`,
			`{"partition":[[1,2],[3,4],[5]],"range":[0,2,4,6,8,10],"hash":"` + hex.EncodeToString(sum[:]) + `","parse":{"a":[1,true]}}`},
	})
	ex := newTestExecutor(t, Options{})
	d := runDef(t, ex, `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{"r":"{% $random() %}","u":"{% $uuid() %}"},"End":true}}}`, `{}`)
	if d.Status != StatusSucceeded {
		t.Fatalf("status %s %s: %s", d.Status, d.Error, d.Cause)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(d.Output), &out); err != nil {
		t.Fatalf("output %s: %v", d.Output, err)
	}
	if r, ok := out["r"].(float64); !ok || r < 0 || r >= 1 {
		t.Errorf("$random() = %v, want a number in [0, 1)", out["r"])
	}
	if u, _ := out["u"].(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Errorf("$uuid() = %q, want a version 4 UUID", u)
	}

	_, err := Parse([]byte(`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $eval('1 + 1') %}","End":true}}}`))
	var de *DefinitionError
	if !errors.As(err, &de) || !strings.Contains(de.Msg, "$eval") {
		t.Errorf("$eval: want a DefinitionError naming $eval, got %v (%s)", err, docJSONataFunctions)
	}
}

// TestNestedStatesUseTheMachineLanguage: a state without QueryLanguage
// uses the top-level one, also inside a Map or Parallel that sets its own
// (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_stepfunctions.MapJsonataProps.html:
// "If the state does not contain a queryLanguage field, then it will use
// the query language specified in the top-level queryLanguage field").
func TestNestedStatesUseTheMachineLanguage(t *testing.T) {
	runDocCases(t, []docCase{
		{"JSONata Map in a JSONPath machine runs JSONPath item states", docJSONata,
			`{"StartAt":"M","States":{"M":{"Type":"Map","QueryLanguage":"JSONata","Items":"{% [1,2] %}",
			  "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"v.$":"$"},"End":true}}},"End":true}}}`,
			`{}`, `[{"v":1},{"v":2}]`},
	})
	_, err := Parse([]byte(`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}`))
	var de *DefinitionError
	if !errors.As(err, &de) || !strings.Contains(de.Msg, "JSONPath state cannot be part of a JSONata state machine") {
		t.Errorf("JSONPath state in a JSONata machine: got %v", err)
	}
}

// TestVariableNamesRefused: names AWS refuses when the machine is created
// (docVariables): not an identifier, over 80 characters, or "states".
func TestVariableNamesRefused(t *testing.T) {
	for _, name := range []string{"1x", "a-b", "a b", strings.Repeat("v", 81), "states"} {
		def := fmt.Sprintf(`{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{%q:1},"End":true}}}`, name)
		_, err := Parse([]byte(def))
		var de *DefinitionError
		if !errors.As(err, &de) || !strings.Contains(de.Msg, "variable name") {
			t.Errorf("%q: want a DefinitionError about the variable name, got %v", name, err)
		}
	}
	ok := fmt.Sprintf(`{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{%q:1,"_x":2,"größe":3},"End":true}}}`, strings.Repeat("v", 80))
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("valid names refused: %v", err)
	}
}
