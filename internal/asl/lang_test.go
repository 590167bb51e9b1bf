package asl

import (
	"errors"
	"strings"
	"testing"
)

// jsonataMachine wraps states into a JSONata definition starting at A.
func jsonataMachine(states string) string {
	return `{"QueryLanguage":"JSONata","StartAt":"A","States":{` + states + `}}`
}

const fnARN = `"arn:aws:lambda:us-east-1:1:function:f"`

// TestQueryLanguageRules has one failing definition per rule of the 2024
// language; each must report a problem at the path given whose message
// contains the text given. The rules are AWS's, from
// https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
// (fields per query language, "{% %}" fields) and
// https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
// (variable names).
func TestQueryLanguageRules(t *testing.T) {
	long := strings.Repeat("v", 81)
	tests := []struct {
		rule, def, path, msg string
	}{
		{"unknown machine language", `{"QueryLanguage":"XPath","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, "QueryLanguage", "must be JSONPath or JSONata"},
		{"unknown state language", machine(`"A":{"Type":"Succeed","QueryLanguage":"jsonata"}`), `States["A"]`, "must be JSONPath or JSONata"},
		{"JSONPath state in a JSONata machine", jsonataMachine(`"A":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}`), `States["A"]`, "a JSONata machine cannot hold a JSONPath state"},
		{"JSONPath state inside a JSONata Map", jsonataMachine(`"A":{"Type":"Map","Items":[1],"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}},"End":true}`), `States["A"].ItemProcessor.States["B"]`, "cannot hold a JSONPath state"},
		{"expression that does not parse (Output)", jsonataMachine(`"A":{"Type":"Pass","Output":{"x":"{% $states.input.( %}"},"End":true}`), `States["A"].Output.x`, "does not compile"},
		{"expression that does not parse (Arguments)", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Arguments":"{% 1 + %}","End":true}`), `States["A"].Arguments`, "does not compile"},
		{"expression that does not parse (Assign)", jsonataMachine(`"A":{"Type":"Pass","Assign":{"n":"{% [1,2 %}"},"End":true}`), `States["A"].Assign.n`, "does not compile"},
		{"expression that does not parse (Condition)", jsonataMachine(`"A":{"Type":"Choice","Choices":[{"Condition":"{% $x = %}","Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0].Condition`, "does not compile"},
		{"Condition that is not an expression", jsonataMachine(`"A":{"Type":"Choice","Choices":[{"Condition":"$x = 1","Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0].Condition`, "must be a JSONata expression"},
		{"JSONPath comparator in a JSONata rule", jsonataMachine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0]`, "not Variable, comparators"},
		{"JSONata rule without Condition", jsonataMachine(`"A":{"Type":"Choice","Choices":[{"Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0]`, "needs a Condition"},
		{"$eval refused as AWS refuses it", jsonataMachine(`"A":{"Type":"Pass","Output":"{% $eval('1') %}","End":true}`), `States["A"].Output`, "does not compile"},
		{"expression in Wait Seconds", jsonataMachine(`"A":{"Type":"Wait","Seconds":"{% ) %}","End":true}`), `States["A"].Seconds`, "does not compile"},
		{"expression in Wait Timestamp", jsonataMachine(`"A":{"Type":"Wait","Timestamp":"{% ( %}","End":true}`), `States["A"].Timestamp`, "does not compile"},
		{"expression in TimeoutSeconds", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"TimeoutSeconds":"{% 1 + %}","End":true}`), `States["A"].TimeoutSeconds`, "does not compile"},
		{"HeartbeatSeconds string without {% %}", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"HeartbeatSeconds":"5","End":true}`), `States["A"].HeartbeatSeconds`, "must be a JSONata expression"},
		{"expression in MaxConcurrency", jsonataMachine(`"A":{"Type":"Map","Items":[1],"MaxConcurrency":"{% [ %}","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), `States["A"].MaxConcurrency`, "does not compile"},
		{"expression in ToleratedFailurePercentage", jsonataMachine(`"A":{"Type":"Map","Items":"{% $states.input.l %}","ToleratedFailurePercentage":"{% } %}","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), `States["A"].ToleratedFailurePercentage`, "does not compile"},
		{"expression in Items", jsonataMachine(`"A":{"Type":"Map","Items":"{% [1, %}","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), `States["A"].Items`, "does not compile"},
		{"expression in ItemSelector", jsonataMachine(`"A":{"Type":"Map","Items":[1],"ItemSelector":{"v":"{% $states.context.Map.Item.Value + %}"},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), `States["A"].ItemSelector.v`, "does not compile"},
		{"expression in Fail Error", jsonataMachine(`"A":{"Type":"Fail","Error":"{% 'E' & %}","Cause":"c"}`), `States["A"].Error`, "does not compile"},
		{"expression in Fail Cause", jsonataMachine(`"A":{"Type":"Fail","Error":"E","Cause":"{% ] %}"}`), `States["A"].Cause`, "does not compile"},
		{"expression in a catcher's Output", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Catch":[{"ErrorEquals":["States.ALL"],"Output":"{% ( %}","Next":"B"}],"End":true},"B":{"Type":"Succeed"}`), `States["A"].Catch[0].Output`, "does not compile"},
		{"InputPath in a JSONata state", jsonataMachine(`"A":{"Type":"Pass","InputPath":"$.a","End":true}`), `States["A"]`, "InputPath is a JSONPath field"},
		{"Parameters in a JSONata state", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Parameters":{"a":1},"End":true}`), `States["A"]`, "Parameters is a JSONPath field"},
		{"ResultSelector in a JSONata state", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"ResultSelector":{"a":1},"End":true}`), `States["A"]`, "ResultSelector is a JSONPath field"},
		{"ResultPath in a JSONata state", machine(`"A":{"Type":"Pass","QueryLanguage":"JSONata","ResultPath":"$.r","End":true}`), `States["A"]`, "ResultPath is a JSONPath field"},
		{"OutputPath in a JSONata state", jsonataMachine(`"A":{"Type":"Succeed","OutputPath":"$.a"}`), `States["A"]`, "OutputPath is a JSONPath field"},
		{"ItemsPath in a JSONata state", jsonataMachine(`"A":{"Type":"Map","ItemsPath":"$.l","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), `States["A"]`, "ItemsPath is a JSONPath field"},
		{"catcher ResultPath in a JSONata state", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"B"}],"End":true},"B":{"Type":"Succeed"}`), `States["A"].Catch[0]`, "a JSONata catcher uses Output"},
		{"Arguments in a JSONPath state", machine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Arguments":{"a":1},"End":true}`), `States["A"]`, "Arguments needs QueryLanguage JSONata"},
		{"Output in a JSONPath state", machine(`"A":{"Type":"Pass","Output":{"a":1},"End":true}`), `States["A"]`, "Output needs QueryLanguage JSONata"},
		{"Condition in a JSONPath state", machine(`"A":{"Type":"Choice","Choices":[{"Condition":"{% true %}","Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"]`, "Choices[0].Condition needs QueryLanguage JSONata"},
		{"Seconds expression in a JSONPath state", machine(`"A":{"Type":"Wait","Seconds":"{% 1 %}","End":true}`), `States["A"]`, "Seconds needs QueryLanguage JSONata"},
		{"variable name over 80 characters", machine(`"A":{"Type":"Pass","Assign":{"` + long + `":1},"End":true}`), `States["A"].Assign`, "81 characters, over the limit of 80"},
		{"variable name starting with a digit", jsonataMachine(`"A":{"Type":"Pass","Assign":{"1x":1},"End":true}`), `States["A"].Assign`, "not a valid identifier"},
		{"variable name with a dash (JSONPath .$ key)", machine(`"A":{"Type":"Pass","Assign":{"a-b.$":"$.x"},"End":true}`), `States["A"].Assign`, "not a valid identifier"},
		{"variable named states", jsonataMachine(`"A":{"Type":"Pass","Assign":{"states":1},"End":true}`), `States["A"].Assign`, `"states" is reserved`},
		{"Choice rule Assign name", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Assign":{"a b":1},"Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0].Assign`, "not a valid identifier"},
		{"Catch Assign name", machine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"$x":1},"Next":"B"}],"End":true},"B":{"Type":"Succeed"}`), `States["A"].Catch[0].Assign`, "not a valid identifier"},
		{"JSONPath Assign with a bad path", machine(`"A":{"Type":"Pass","Assign":{"x.$":"$.a[?"},"End":true}`), `States["A"].Assign.x.$`, "unclosed ["},
		{"JSONPath reference to $states", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"$states.input"},"End":true}`), `States["A"].Parameters.x.$`, `"states" is reserved`},
		{"Map iteration assigns an outer variable", jsonataMachine(`"A":{"Type":"Pass","Assign":{"count":0},"Next":"M"},"M":{"Type":"Map","Items":[1],"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"count":"{% $count + 1 %}"},"End":true}}},"End":true}`), `States["M"].ItemProcessor.States["I"]`, `cannot assign variable "count"`},
		{"Parallel branch assigns an outer variable in a Catch", machine(`"A":{"Type":"Pass","Assign":{"x":1},"Next":"P"},"P":{"Type":"Parallel","Branches":[{"StartAt":"T","States":{"T":{"Type":"Task","Resource":` + fnARN + `,"Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"x.$":"$.Error"},"Next":"E"}],"End":true},"E":{"Type":"Succeed"}}}],"End":true}`), `States["P"].Branches[0].States["T"]`, `cannot assign variable "x"`},
		{"waitForTaskToken without the JSONata token", jsonataMachine(`"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Arguments":{"FunctionName":"f"},"End":true}`), `States["A"]`, "$states.context.Task.Token"},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := ParseAndValidate([]byte(tc.def), Standard)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a *ValidationError, got %v", err)
			}
			for _, p := range ve.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q; got:\n%v", tc.path, tc.msg, err)
		})
	}
}

// TestQueryLanguageValid lists definitions the rules must accept: the
// documented forms of each feature.
func TestQueryLanguageValid(t *testing.T) {
	long := strings.Repeat("v", 80)
	tests := []struct{ name, def string }{
		{"JSONata state in a JSONPath machine", machine(`"A":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}`)},
		{"JSONata Map in a JSONPath machine with JSONPath item states", machine(`"A":{"Type":"Map","QueryLanguage":"JSONata","Items":"{% [1,2] %}","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"v.$":"$"},"End":true}}},"End":true}`)},
		{"80-character variable name", machine(`"A":{"Type":"Pass","Assign":{"` + long + `":1},"End":true}`)},
		{"unicode and underscore variable names", jsonataMachine(`"A":{"Type":"Pass","Assign":{"_x":1,"größe":2,"x_1":3},"End":true}`)},
		{"JSONPath variable references", machine(`"A":{"Type":"Pass","Assign":{"x.$":"$.a","y.$":"States.Format('{}', $x)"},"Next":"B"},"B":{"Type":"Pass","Parameters":{"x.$":"$x","first.$":"$y.list[0]"},"Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$x","IsPresent":true,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}`)},
		{"numeric fields as expressions", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"TimeoutSeconds":"{% $states.input.t %}","HeartbeatSeconds":"{% 5 %}","Next":"W"},"W":{"Type":"Wait","Seconds":"{% 1 %}","Next":"M"},"M":{"Type":"Map","Items":"{% [1,2] %}","MaxConcurrency":"{% 2 %}","ToleratedFailureCount":"{% 0 %}","ToleratedFailurePercentage":"{% 10 %}","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`)},
		{"Choice rule with Assign and Output", jsonataMachine(`"A":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n > 1 %}","Assign":{"big":true},"Output":{"n":"{% $states.input.n %}"},"Next":"B"}],"Default":"B"},"B":{"Type":"Succeed"}`)},
		{"sibling branches assign the same new variable", machine(`"A":{"Type":"Parallel","Branches":[{"StartAt":"L","States":{"L":{"Type":"Pass","Assign":{"local":1},"End":true}}},{"StartAt":"R","States":{"R":{"Type":"Pass","Assign":{"local":2},"End":true}}}],"End":true}`)},
		{"AWS functions", jsonataMachine(`"A":{"Type":"Pass","Output":{"p":"{% $partition(['a','b','c'], 2) %}","r":"{% $range(0, 10, 2) %}","h":"{% $hash('x', 'SHA-256') %}","u":"{% $uuid() %}","j":"{% $parse('[1]') %}","n":"{% $random() %}"},"End":true}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseAndValidate([]byte(tc.def), Standard)
			if err != nil {
				t.Fatal(err)
			}
			once, err := m.JSON()
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseAndValidate(once, Standard)
			if err != nil {
				t.Fatalf("re-encoded definition rejected: %v\n%s", err, once)
			}
			if twice, _ := again.JSON(); string(twice) != string(once) {
				t.Errorf("encoding not stable:\n%s\n%s", once, twice)
			}
		})
	}
}

// TestBuildReportsEveryExpressionProblem: Build lists all bad expressions
// and fields at once, each naming its state and field.
func TestBuildReportsEveryExpressionProblem(t *testing.T) {
	a := NewPass("Prepare").Assign(map[string]any{"total": Expr("$sum($states.input.items.price"), "ok": 1})
	b := NewTask("Call", "arn:aws:lambda:us-east-1:1:function:f").
		Arguments(map[string]any{"n": Expr("$states.input.n +")}).
		Parameters(map[string]any{"n": 1}).
		TimeoutExpr("{% ( %}")
	_, err := NewStateMachine(Standard, a.Next(b)).QueryLanguage(JSONata).Build()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	want := []string{
		`States["Prepare"].Assign.total: JSONata expression "$sum($states.input.items.price" does not compile`,
		`States["Call"]: Parameters is a JSONPath field`,
		`States["Call"].Arguments.n: JSONata expression "$states.input.n +" does not compile`,
		`States["Call"].TimeoutSeconds: JSONata expression "(" does not compile`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ve.Problems), len(want), got)
	}
}
