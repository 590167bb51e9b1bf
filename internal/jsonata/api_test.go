package jsonata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestCompileErrorsCarryCodeAndPosition(t *testing.T) {
	cases := []struct {
		expr string
		code string
		pos  int
	}{
		{"Account.Order[0", "S0203", 15},
		{"'unterminated", "S0101", 13},
		{"1 +", "S0207", 3},
		{"$x := ", "S0207", 6},
		{")", "S0211", 1},
		{"1 2", "S0201", 3},
		{"a ?? b", "S0201", 4},
		{"a ?: b", "S0201", 4},
		{"`name", "S0105", 5},
		{"/* open", "S0106", 0},
		{"$match('x', /(?=x)/)", "S0303", 19},
		{"//", "S0301", 1},
		{"'\\q'", "S0103", 2},
		{"%.a", "S0217", 0},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			_, err := Compile(c.expr)
			var jerr *Error
			if !errors.As(err, &jerr) {
				t.Fatalf("Compile(%q) = %v, want *Error", c.expr, err)
			}
			if jerr.Code != c.code || jerr.Position != c.pos {
				t.Errorf("got %s at %d (%v), want %s at %d", jerr.Code, jerr.Position, jerr, c.code, c.pos)
			}
			if !strings.Contains(jerr.Error(), c.code) {
				t.Errorf("Error() = %q does not name the code", jerr.Error())
			}
		})
	}
}

func TestUndefinedIsDistinctFromNull(t *testing.T) {
	in := map[string]any{"a": nil}
	for expr, wantUndefined := range map[string]bool{"a": false, "b": true, "$nothing": true, "null": false} {
		e, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Eval(in, nil)
		if wantUndefined != errors.Is(err, ErrUndefined) {
			t.Errorf("%s: got %v, %v; undefined=%v", expr, got, err, wantUndefined)
		}
		if !wantUndefined && (err != nil || got != nil) {
			t.Errorf("%s: got %v, %v; want null", expr, got, err)
		}
	}
}

// TestEvalDoesNotModifyInputOrVariables runs expressions that build, copy
// and transform values, and checks the caller's input and variables are
// untouched.
func TestEvalDoesNotModifyInputOrVariables(t *testing.T) {
	in, _ := loadFixture(t, "invoice")
	before := canonical(in)
	vars := map[string]any{"states": map[string]any{"input": in}, "n": 1.0}
	varsBefore := canonical(vars)
	exprs := []string{
		"$ ~> |Account.Order.Product|{'Price': 0}, ['SKU']|",
		"$states.input ~> |Account|{'Account Name': 'x'}|",
		"$merge([Account, {'extra': 1}])",
		"($n := 5; $x := Account.Order; $x[0].OrderID)",
		"Account.Order.Product^(>Price)",
		"$sort(Account.Order, function($a, $b) { $a.OrderID < $b.OrderID })",
		"$reverse(Account.Order)",
		"$append(Account.Order, 1)",
		"Account.Order#$i.Product{SKU: $i}",
	}
	for _, expr := range exprs {
		e, err := Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if _, err := e.Eval(in, vars); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if !reflect.DeepEqual(canonical(in), before) {
			t.Fatalf("%s modified the input", expr)
		}
		if !reflect.DeepEqual(canonical(vars), varsBefore) {
			t.Fatalf("%s modified the variables", expr)
		}
	}
}

// TestConcurrentEval shares one compiled expression between goroutines;
// run with -race.
func TestConcurrentEval(t *testing.T) {
	e, err := Compile("$sum($states.input.items.(price * qty)) & ':' & $count($states.input.items[price > $min])")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				items := []any{
					map[string]any{"price": float64(g), "qty": 2.0},
					map[string]any{"price": float64(i), "qty": 1.0},
				}
				vars := map[string]any{"states": map[string]any{"input": map[string]any{"items": items}}, "min": -1.0}
				got, err := e.Eval(nil, vars)
				want := fmt.Sprintf("%s:2", formatNumber(float64(2*g+i)))
				if err != nil || got != want {
					errs <- fmt.Errorf("goroutine %d iteration %d: got %v, %v; want %s", g, i, got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNumbersFromCallers(t *testing.T) {
	var in any
	dec := json.NewDecoder(strings.NewReader(`{"a": 1.5, "b": [1, 2, 3], "big": 12345678901234567890}`))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		t.Fatal(err)
	}
	cases := map[string]any{
		"a * 2":              3.0,
		"$sum(b)":            6.0,
		"b[1]":               2.0,
		"a":                  1.5,
		"$n + 1":             42.0,
		"$i + $j":            3.0,
		"b":                  []any{1.0, 2.0, 3.0},
		"big > 1e19":         true,
		"{'x': b}":           map[string]any{"x": []any{1.0, 2.0, 3.0}},
		"$type(a)":           "number",
		"$string($n)":        "41",
		"a = $number('1.5')": true,
	}
	vars := map[string]any{"n": 41, "i": int64(1), "j": json.Number("2")}
	for expr, want := range cases {
		e, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Eval(in, vars)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, %v; want %#v", expr, got, err, want)
		}
	}
}

func TestWithFunction(t *testing.T) {
	double := WithFunction("double", "<n:n>", func(args []any) (any, error) {
		return args[0].(float64) * 2, nil
	})
	fail := WithFunction("fail", "", func([]any) (any, error) { return nil, errors.New("boom") })
	none := WithFunction("none", "<x?:x>", func([]any) (any, error) { return Undefined{}, nil })
	e, err := Compile("$double(21) & ',' & $string($exists($none()))", Extensions(double, none))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Eval(nil, nil); err != nil || got != "42,false" {
		t.Errorf("got %v, %v; want 42,false", got, err)
	}
	e, err = Compile("$double('x')", double)
	if err != nil {
		t.Fatal(err)
	}
	var jerr *Error
	if _, err := e.Eval(nil, nil); !errors.As(err, &jerr) || jerr.Code != "T0410" {
		t.Errorf("signature violation: got %v, want T0410", err)
	}
	e, err = Compile("$fail()", fail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Eval(nil, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("extension error: got %v, want boom", err)
	}
	if _, err := Compile("1", WithFunction("bad", "<q>", nil)); err == nil {
		t.Error("a bad signature compiled")
	}
}

// TestRunawayExpressionsFail checks that expressions that would recurse
// forever or allocate without bound fail with an error instead.
func TestRunawayExpressionsFail(t *testing.T) {
	cases := map[string]string{
		"($f := function($n) { $f($n + 1) }; $f(0))": "U1002",
		"[1..100000000]":                                 "D2014",
		"($f := function() { $f() }; $f())":              "U1002",
		"($f := function($n) { 1 + $f($n + 1) }; $f(0))": "U1001",
		"($f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $f('x', 40))": "U1003",
		"$pad('x', 1e12)": "U1003",
	}
	for expr, code := range cases {
		e, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		var jerr *Error
		if _, err := e.Eval(nil, nil); !errors.As(err, &jerr) || jerr.Code != code {
			t.Errorf("%s: got %v, want %s", expr, err, code)
		}
	}
}

// TestTailCallsRunInConstantStack checks that a tail-recursive loop far
// deeper than the call-depth limit completes, as it does in jsonata-js.
func TestTailCallsRunInConstantStack(t *testing.T) {
	cases := map[string]any{
		"($f := function($n, $acc) { $n = 0 ? $acc : $f($n - 1, $acc + 1) }; $f(100000, 0))":                                              100000.0,
		"($even := function($n) { $n = 0 ? true : $odd($n - 1) }; $odd := function($n) { $n = 0 ? false : $even($n - 1) }; $even(50001))": false,
		"($f := function($n) { ($m := $n - 1; $m < 0 ? 'done' : $f($m)) }; $f(20000))":                                                    "done",
		"($f := function($n) { $n = 0 ? $uppercase('x') : $f($n - 1) }; $f(10000))":                                                       "X",
	}
	for expr, want := range cases {
		e, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.Eval(nil, nil); err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", expr, got, err, want)
		}
	}
}

func TestEvalContextCancels(t *testing.T) {
	e, err := Compile("($f := function($n) { $f($n + 1) }; $f(0))")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.EvalContext(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestDeepRecursionWithinLimit checks that legitimate recursion deeper
// than a few hundred calls still works.
func TestDeepRecursionWithinLimit(t *testing.T) {
	e, err := Compile("($sum := function($n) { $n = 0 ? 0 : $n + $sum($n - 1) }; $sum(5000))")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Eval(nil, nil); err != nil || got != 12502500.0 {
		t.Errorf("got %v, %v; want 125250", got, err)
	}
}

func TestVariables(t *testing.T) {
	cases := map[string][]string{
		"$states.input.a":                                  {"states"},
		"$x + $y.z":                                        {"x", "y"},
		"($a := 1; $a + $b)":                               {"b"},
		"function($p) { $p + $q }(1)":                      {"q"},
		"items@$i#$n.{'v': $i, 'n': $n, 'o': $outer}":      {"outer"},
		"$uppercase($name) & $string($count($list))":       {"list", "name"},
		"$ . $$ . a":                                       nil,
		"$map($xs, function($v) { $v * $factor }) ~> $sum": {"factor", "xs"},
	}
	for expr, want := range cases {
		e, err := Compile(expr, AWSFunctions())
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Variables(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Variables() = %q, want %q", expr, got, want)
		}
	}
}
