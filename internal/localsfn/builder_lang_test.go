package localsfn

import (
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/asl"
)

// TestBuiltJSONataMachineRuns: a machine written with asl's typed builder
// in JSONata (Arguments, Assign, Output, a Cond rule with Assign, a Map
// over an Items expression, a Wait with a Seconds expression, a catcher
// with Output and Assign) builds, validates, and runs here as written.
func TestBuiltJSONataMachineRuns(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:000000000000:function:"
	double := asl.NewTask("Double", fn+"double").
		Arguments(map[string]any{"n": asl.Expr("$states.input.n")}).
		Assign(map[string]any{"doubled": asl.Expr("$states.result.n")}).
		Output(asl.Expr("$states.result"))
	fanout := asl.NewMap("Each", asl.Path{}).
		Items(asl.Expr("[1..$states.input.n]")).
		ItemProcessor(asl.NewPass("Square").Output(asl.Expr("$states.input * $states.input"))).
		Output(asl.Expr("{'squares': $states.result, 'doubled': $doubled}"))
	pause := asl.NewWait("Pause", asl.WaitSecondsExpr(asl.Expr("0")))
	recovered := asl.NewPass("Recovered")
	risky := asl.NewTask("Risky", fn+"fails").
		CatchTo([]string{"States.ALL"}, asl.Catch{
			Output: asl.Expr("$merge([$states.input, {'error': $states.errorOutput.Error}])"),
			Assign: map[string]any{"failed": true},
		}, recovered)
	pick := asl.NewChoice("Big?").
		WhenRule(asl.Rule{Condition: asl.Cond(asl.Expr("$sum($states.input.squares) > 10")), Assign: map[string]any{"size": "big"}},
			asl.NewSucceed("Done").Output(asl.Expr("$merge([$states.input, {'size': $size, 'failed': $failed}])"))).
		Otherwise(asl.NewFail("Small", "TooSmall", asl.Expr("'sum ' & $string($sum($states.input.squares))")))
	recovered.Next(pick)
	chain := asl.Sequence(double, fanout, pause, risky)
	m, err := asl.NewStateMachine(asl.Standard, chain).QueryLanguage(asl.JSONata).Build()
	if err != nil {
		t.Fatal(err)
	}
	def, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"double": handler(func(in map[string]any) (any, error) { return map[string]any{"n": in["n"].(float64) * 2}, nil }),
		"fails":  handler(func(map[string]any) (any, error) { return nil, &TaskError{Name: "Flaky", Cause: "try later"} }),
	}})
	tests := []struct {
		input, want, failure string
	}{
		{`{"n":2}`, `{"squares":[1,4,9,16],"doubled":4,"error":"Flaky","size":"big","failed":true}`, ""},
		{`{"n":1}`, "", "TooSmall"},
	}
	for _, tc := range tests {
		d := runDef(t, ex, string(def), tc.input)
		if tc.failure != "" {
			assertFailed(t, d, tc.failure)
			if d.Cause != "sum 5" {
				t.Errorf("cause %q, want %q", d.Cause, "sum 5")
			}
			continue
		}
		assertOutput(t, d, tc.want)
	}
}
