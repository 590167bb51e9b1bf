package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// machine wraps states (a JSON object body) into a definition starting at A.
func machine(states string) string {
	return `{"StartAt":"A","States":{` + states + `}}`
}

// TestValidationRules has one failing definition per rule; each must report
// a problem at the given path whose message contains the given text.
func TestValidationRules(t *testing.T) {
	long := strings.Repeat("n", 81)
	tests := []struct {
		rule, typ, def, path, msg string
	}{
		{"unreachable state", "STANDARD", machine(`"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}`), `States["B"]`, "unreachable"},
		{"missing Next", "STANDARD", machine(`"A":{"Type":"Pass"}`), `States["A"]`, "missing Next"},
		{"dangling Next", "STANDARD", machine(`"A":{"Type":"Pass","Next":"Nowhere"}`), `States["A"]`, `transition to "Nowhere"`},
		{"dangling Catch", "STANDARD", machine(`"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Gone"}],"End":true}`), `States["A"]`, `transition to "Gone"`},
		{"no path to a terminal state", "STANDARD", machine(`"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}`), `States["B"]`, "no path to a terminal"},
		{"Next and End", "STANDARD", machine(`"A":{"Type":"Pass","Next":"A","End":true}`), `States["A"]`, "both Next and End"},
		{"duplicate state name in raw JSON", "STANDARD", machine(`"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}`), `States["A"]`, "duplicate state name"},
		{"duplicate state name across branches", "STANDARD", machine(`"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Succeed"}}},{"StartAt":"X","States":{"X":{"Type":"Succeed"}}}]}`), `States["A"].Branches[1].States["X"]`, "duplicate state name"},
		{"duplicate field in raw JSON", "STANDARD", machine(`"A":{"Type":"Wait","Seconds":1,"Seconds":2,"End":true}`), `States["A"]`, `duplicate key "Seconds"`},
		{"name over 80 characters", "STANDARD", `{"StartAt":"` + long + `","States":{"` + long + `":{"Type":"Succeed"}}}`, `States["` + long + `"]`, "81 characters"},
		{"missing StartAt state", "STANDARD", `{"StartAt":"Z","States":{"A":{"Type":"Succeed"}}}`, ``, `StartAt "Z" names no state`},
		{"invalid InputPath", "STANDARD", machine(`"A":{"Type":"Pass","InputPath":"input","End":true}`), `States["A"]`, "must start with $"},
		{"ResultPath not a reference path", "STANDARD", machine(`"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}`), `States["A"]`, "reference path"},
		{"ResultPath into the context", "STANDARD", machine(`"A":{"Type":"Pass","ResultPath":"$$.x","End":true}`), `States["A"]`, "context object"},
		{"invalid Parameters path", "STANDARD", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"$.a[?"},"End":true}`), `States["A"].Parameters.x.$`, "unclosed ["},
		{"unknown intrinsic", "STANDARD", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}`), `States["A"].Parameters.x.$`, "unknown function States.Nope"},
		{"intrinsic nested too deep", "STANDARD", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"` + strings.Repeat("States.Array(", 11) + strings.Repeat(")", 11) + `"},"End":true}`), `States["A"].Parameters.x.$`, "nested deeper"},
		{"Choice without rules", "STANDARD", machine(`"A":{"Type":"Choice","Choices":[],"Default":"B"},"B":{"Type":"Succeed"}`), `States["A"]`, "no rules"},
		{"invalid Choice variable", "STANDARD", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.a[*]","IsNull":true,"Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0]`, "Variable"},
		{"comparator with the wrong type", "STANDARD", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0]`, "needs a number"},
		{"bad timestamp", "STANDARD", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.a","TimestampEquals":"yesterday","Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0]`, "RFC 3339"},
		{"unknown comparator", "STANDARD", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.a","StringContains":"x","Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0]`, `unknown field "StringContains"`},
		{"Next inside a nested rule", "STANDARD", machine(`"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true,"Next":"B"},"Next":"B"}]},"B":{"Type":"Succeed"}`), `States["A"].Choices[0].Not`, "only allowed in a top-level"},
		{"heartbeat not below timeout", "STANDARD", machine(`"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","TimeoutSeconds":10,"HeartbeatSeconds":10,"End":true}`), `States["A"]`, "HeartbeatSeconds (10) must be smaller"},
		{"waitForTaskToken in EXPRESS", "EXPRESS", machine(`"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Payload":{"t.$":"$$.Task.Token"}},"End":true}`), `States["A"]`, "EXPRESS machines cannot use"},
		{".sync in EXPRESS", "EXPRESS", machine(`"A":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"x"},"End":true}`), `States["A"]`, "EXPRESS machines cannot use"},
		{"EXPRESS timeout over 5 minutes", "EXPRESS", `{"StartAt":"A","TimeoutSeconds":301,"States":{"A":{"Type":"Succeed"}}}`, `TimeoutSeconds`, "301 s exceeds"},
		{"EXPRESS wait over 5 minutes", "EXPRESS", machine(`"A":{"Type":"Wait","Seconds":600,"End":true}`), `States["A"]`, "longer than an EXPRESS"},
		{"waitForTaskToken without the token", "STANDARD", machine(`"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}`), `States["A"]`, "$$.Task.Token"},
		{"Resource not an ARN", "STANDARD", machine(`"A":{"Type":"Task","Resource":"my-function","End":true}`), `States["A"]`, "not an ARN"},
		{"Wait with two durations", "STANDARD", machine(`"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}`), `States["A"]`, "exactly one of"},
		{"States.ALL not last", "STANDARD", machine(`"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}`), `States["A"].Retry[0]`, "States.ALL must appear alone"},
		{"BackoffRate below 1", "STANDARD", machine(`"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}`), `States["A"].Retry[0]`, "BackoffRate"},
		{"bad JitterStrategy", "STANDARD", machine(`"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"SOME"}],"End":true}`), `States["A"].Retry[0]`, "JitterStrategy"},
		{"Fail with Error and ErrorPath", "STANDARD", machine(`"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}`), `States["A"]`, "both Error and ErrorPath"},
		{"Map without processor", "STANDARD", machine(`"A":{"Type":"Map","End":true}`), `States["A"]`, "needs an ItemProcessor"},
		{"Map tolerated percentage", "STANDARD", machine(`"A":{"Type":"Map","ToleratedFailurePercentage":120,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"End":true}`), `States["A"]`, "between 0 and 100"},
		{"unknown state type", "STANDARD", machine(`"A":{"Type":"Sleep","End":true}`), `States["A"]`, `unknown state Type "Sleep"`},
		{"unknown field", "STANDARD", machine(`"A":{"Type":"Pass","Nxt":"B","End":true}`), `States["A"]`, `unknown field "Nxt"`},
		{"Parallel without branches", "STANDARD", machine(`"A":{"Type":"Parallel","Branches":[],"End":true}`), `States["A"]`, "no Branches"},
		{"problem inside a branch", "STANDARD", machine(`"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass"}}}]}`), `States["A"].Branches[0].States["X"]`, "missing Next"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := ParseAndValidate([]byte(tt.def), MachineType(tt.typ))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Path == tt.path && strings.Contains(p.Message, tt.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q; got:\n%v", tt.path, tt.msg, err)
		})
	}
}

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	def := machine(`"A":{"Type":"Pass","InputPath":"x","Next":"Gone"},` +
		`"B":{"Type":"Choice","Choices":[]},` +
		`"C":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Payload":{"t.$":"$$.Task.Token"}},"End":true}`)
	_, err := ParseAndValidate([]byte(def), Express)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := []string{"must start with $", `transition to "Gone"`, "no rules", "EXPRESS machines cannot use", "unreachable"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if len(ve.Problems) < len(want) {
		t.Errorf("%d problems, want at least %d", len(ve.Problems), len(want))
	}
}

func TestValidationRejectsOversizedDefinition(t *testing.T) {
	states := []string{}
	for i := range 3000 {
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == 2999 {
			next = `"End":true`
		}
		states = append(states, fmt.Sprintf(`"S%d":{"Type":"Pass","Result":%q,%s}`, i, strings.Repeat("x", 400), next))
	}
	def := `{"StartAt":"S0","States":{` + strings.Join(states, ",") + `}}`
	_, err := ParseAndValidate([]byte(def), Standard)
	if err == nil || !strings.Contains(err.Error(), "over the 1048576-byte limit") {
		t.Fatalf("got %v, want the size limit", err)
	}
}

func TestValidDefinitionRoundTrips(t *testing.T) {
	raw, err := os.ReadFile("testdata/all_states.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseAndValidate(raw, Standard)
	if err != nil {
		t.Fatalf("valid definition rejected: %v", err)
	}
	out, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("round trip changed the definition:\nin:  %s\nout: %s", ja, jb)
	}
	// Deterministic: encoding the re-parsed machine gives the same bytes.
	m2, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := m2.JSON()
	if !bytes.Equal(out, out2) {
		t.Errorf("second encoding differs")
	}
	// Explicit null and absent paths survive.
	inv := m.States.Get("Invoke").(*Task)
	if !inv.ResultPath.IsNull() || inv.InputPath.IsZero() == false {
		t.Errorf("Invoke: ResultPath %v (want null), InputPath %v (want absent)", inv.ResultPath, inv.InputPath)
	}
	if _, err := ParseAndValidate(raw, Express); err == nil || !strings.Contains(err.Error(), "EXPRESS") {
		t.Errorf("as EXPRESS: got %v, want the callback and .sync refused", err)
	}
}

func TestAllComparatorsRoundTrip(t *testing.T) {
	if n := len(Comparators()); n != 39 {
		t.Fatalf("%d comparators, want 39", n)
	}
	var rules []ChoiceRule
	for _, op := range Comparators() {
		kind, ok := comparatorOperand(op)
		if !ok {
			t.Fatalf("comparator %s unknown to the validator", op)
		}
		v := map[operand]any{opString: "x*", opNumber: 1.5, opBool: true, opTimestamp: "2024-01-02T03:04:05Z", opPath: "$.other"}[kind]
		rules = append(rules, ChoiceRule{Condition: Condition{Variable: "$.v", Op: op, Value: v}, Next: "End"})
	}
	m := &StateMachine{StartAt: "C", States: States{
		{Name: "C", State: &Choice{Choices: rules, Default: "End"}},
		{Name: "End", State: &Succeed{}},
	}}
	if err := m.Validate(Standard); err != nil {
		t.Fatal(err)
	}
	out, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseAndValidate(out, Standard)
	if err != nil {
		t.Fatal(err)
	}
	got := back.States.Get("C").(*Choice).Choices
	for i, r := range got {
		if r.Op != rules[i].Op || fmt.Sprint(r.Value) != fmt.Sprint(rules[i].Value) {
			t.Errorf("rule %d: got %s=%v, want %s=%v", i, r.Op, r.Value, rules[i].Op, rules[i].Value)
		}
	}
}

func TestPathGrammar(t *testing.T) {
	tests := []struct {
		expr string
		kind pathKind
		ctx  bool
		ok   bool
	}{
		{"$", referencePath, false, true},
		{"$.a.b[0]['c d']", referencePath, false, true},
		{"$.a[*]", referencePath, false, false},
		{"$..a", referencePath, false, false},
		{"$..a", jsonPath, false, true},
		{"$.a[1:3]", jsonPath, false, true},
		{"$.a[0,1]", jsonPath, false, true},
		{"$.a[?(@.b > 1)]", jsonPath, false, true},
		{"$$.Execution.Id", jsonPath, true, true},
		{"$$.Execution.Id", jsonPath, false, false},
		{"a.b", jsonPath, true, false},
		{"$.", jsonPath, true, false},
		{"$.a[", jsonPath, true, false},
		{"$[x]", jsonPath, true, false},
	}
	for _, tt := range tests {
		err := checkPath(tt.expr, tt.kind, tt.ctx)
		if (err == nil) != tt.ok {
			t.Errorf("checkPath(%q, kind %d, ctx %v) = %v, want ok=%v", tt.expr, tt.kind, tt.ctx, err, tt.ok)
		}
	}
}

// TestTypedConstructorsCoverEveryComparator builds one condition with each
// typed constructor and checks that together they use all 39 comparators.
func TestTypedConstructorsCoverEveryComparator(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	conds := []Condition{
		StringEquals("$.v", "a"), StringLessThan("$.v", "a"), StringGreaterThan("$.v", "a"),
		StringLessThanEquals("$.v", "a"), StringGreaterThanEquals("$.v", "a"), StringMatches("$.v", "a*"),
		NumericEquals("$.v", 1), NumericLessThan("$.v", 1), NumericGreaterThan("$.v", 1),
		NumericLessThanEquals("$.v", 1), NumericGreaterThanEquals("$.v", 1),
		BooleanEquals("$.v", true),
		TimestampEquals("$.v", at), TimestampLessThan("$.v", at), TimestampGreaterThan("$.v", at),
		TimestampLessThanEquals("$.v", at), TimestampGreaterThanEquals("$.v", at),
		StringEqualsPath("$.v", "$.w"), StringLessThanPath("$.v", "$.w"), StringGreaterThanPath("$.v", "$.w"),
		StringLessThanEqualsPath("$.v", "$.w"), StringGreaterThanEqualsPath("$.v", "$.w"),
		NumericEqualsPath("$.v", "$.w"), NumericLessThanPath("$.v", "$.w"), NumericGreaterThanPath("$.v", "$.w"),
		NumericLessThanEqualsPath("$.v", "$.w"), NumericGreaterThanEqualsPath("$.v", "$.w"),
		BooleanEqualsPath("$.v", "$.w"),
		TimestampEqualsPath("$.v", "$.w"), TimestampLessThanPath("$.v", "$.w"), TimestampGreaterThanPath("$.v", "$.w"),
		TimestampLessThanEqualsPath("$.v", "$.w"), TimestampGreaterThanEqualsPath("$.v", "$.w"),
		IsNull("$.v", true), IsPresent("$.v", true), IsNumeric("$.v", true), IsString("$.v", true),
		IsBoolean("$.v", true), IsTimestamp("$.v", true),
	}
	seen := map[string]bool{}
	choice := NewChoice("C").Otherwise(NewSucceed("D"))
	for _, c := range conds {
		seen[c.Op] = true
		choice.When(c, NewSucceed("S"+c.Op))
	}
	for _, op := range Comparators() {
		if !seen[op] {
			t.Errorf("no typed constructor for %s", op)
		}
	}
	if _, err := NewStateMachine(Standard, choice).Build(); err != nil {
		t.Fatal(err)
	}
}
