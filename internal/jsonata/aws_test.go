package jsonata

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// awsDocsPage documents the functions Step Functions adds to JSONata.
const awsDocsPage = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html"

func evalAWS(t *testing.T, expr string, vars map[string]any) (any, error) {
	t.Helper()
	e, err := Compile(expr, AWSFunctions())
	if err != nil {
		return nil, err
	}
	return e.Eval(nil, vars)
}

func TestAWSFunctions(t *testing.T) {
	cases := []struct {
		expr string
		want any
	}{
		{"$partition([1,2,3,4,5,6,7,8,9], 3)", []any{[]any{1.0, 2.0, 3.0}, []any{4.0, 5.0, 6.0}, []any{7.0, 8.0, 9.0}}},
		{"$partition([1,2,3,4], 3)", []any{[]any{1.0, 2.0, 3.0}, []any{4.0}}},
		{"$partition([], 2)", []any{}},
		{"$range(0, 10, 2)", []any{0.0, 2.0, 4.0, 6.0, 8.0, 10.0}},
		{"$range(10, 0, -5)", []any{10.0, 5.0, 0.0}},
		{"$range(0, 9, 3)", []any{0.0, 3.0, 6.0, 9.0}},
		{"$range(1, 0, 1)", []any{}},
		{"$range(3, 3)", 3.0}, // a sequence of one is its item (JSONata's singleton rule)
		{"$hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"},
		{"$hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"},
		{"$hash('', 'SHA-256')", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{`$parse('{"key": "value", "n": [1, 2]}')`, map[string]any{"key": "value", "n": []any{1.0, 2.0}}},
		{`$parse('"text"')`, "text"},
		{`$parse('-0')`, 0.0},
		{`$random(42) = $random(42)`, true},
		{`$random(7) >= 0 and $random(7) < 1`, true},
		{`$random() < 1`, true},
		{`$uuid() != $uuid()`, true},
		{`$partition($states.input.items, 1)`, []any{[]any{"a"}, []any{"b"}}},
	}
	vars := map[string]any{"states": map[string]any{"input": map[string]any{"items": []any{"a", "b"}}}}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			got, err := evalAWS(t, c.expr, vars)
			if err != nil {
				t.Fatalf("%s: %v", awsDocsPage, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: got %#v, want %#v", awsDocsPage, got, c.want)
			}
		})
	}
}

func TestAWSUUIDIsVersion4(t *testing.T) {
	got, err := evalAWS(t, "$uuid()", nil)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if s, _ := got.(string); !re.MatchString(s) {
		t.Errorf("$uuid() = %v, want a version 4 UUID", got)
	}
}

func TestAWSFunctionArgumentErrors(t *testing.T) {
	cases := []struct {
		expr, wantInMessage string
	}{
		{"$partition('abc', 2)", "partition"},
		{"$partition([1,2], 0)", "positive integer"},
		{"$partition([1,2], 1.5)", "positive integer"},
		{"$range(0, 1.5, 1)", "integers"},
		{"$range(0, 10, 0)", "non-zero"},
		{"$range(0, 5000, 1)", "more than 1000"},
		{"$hash('x', 'SHA-3')", "unsupported algorithm"},
		{"$hash(5, 'MD5')", "hash"},
		{"$parse('{')", "not valid JSON"},
		{"$parse('1 2')", "after the JSON value"},
		{"$random('x')", "random"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			got, err := evalAWS(t, c.expr, nil)
			var jerr *Error
			if !errors.As(err, &jerr) {
				t.Fatalf("got %v, %v; want an *Error", got, err)
			}
			if !strings.Contains(jerr.Error(), c.wantInMessage) {
				t.Errorf("error %q does not mention %q", jerr.Error(), c.wantInMessage)
			}
		})
	}
}

// TestAWSRefusesEval checks that $eval fails when compiled with AWS's
// functions, wherever it appears, and stays available without them.
func TestAWSRefusesEval(t *testing.T) {
	for _, expr := range []string{"$eval('1')", "$map(['1'], $eval)", "($f := $eval; 1)", "[1].($eval('2'))"} {
		_, err := Compile(expr, AWSFunctions())
		var jerr *Error
		if !errors.As(err, &jerr) || !strings.Contains(jerr.Message, "$eval") {
			t.Errorf("Compile(%q, AWSFunctions()) = %v, want a refusal naming $eval", expr, err)
		}
	}
	e, err := Compile("$eval('1 + 1')")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Eval(nil, nil); err != nil || got != 2.0 {
		t.Errorf("standard $eval: got %v, %v; want 2", got, err)
	}
}

// TestAWSRandomWithoutSeedStaysStandard checks that $random() without AWS's
// functions is JSONata's own, taking no argument.
func TestAWSRandomWithoutSeedStaysStandard(t *testing.T) {
	e, err := Compile("$random(1)")
	if err != nil {
		t.Fatal(err)
	}
	var jerr *Error
	if _, err := e.Eval(nil, nil); !errors.As(err, &jerr) || jerr.Code != "T0410" {
		t.Errorf("standard $random(1): got %v, want T0410", err)
	}
}
