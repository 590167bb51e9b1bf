package localsfn

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestFidelityToAWS pins behaviour AWS documents (or recorded) that the
// public recordings do not cover: States.MathAdd rounds non-integers to the
// nearest integer (half up, as Java's Math.round), States.Format formats
// objects and arrays instead of failing, JSONata's $range of one number is
// that number (the singleton-sequence rule), and the causes for *Path fields
// that do not hold a valid integer.
func TestFidelityToAWS(t *testing.T) {
	const (
		mathAdd = `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.MathAdd($.a, $.b)"},"End":true}}}`
		format  = `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.Format('x{}y', $.a)"},"End":true}}}`
		rangeJ  = `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"one":"{% $range(3, 3) %}","wrapped":"{% [$range(3, 3)] %}","two":"{% $range(1, 2) %}"},"End":true}}}`
		wait    = `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`
		maxConc = `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.v","MaxConcurrencyPath":"$.c","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
		tolerat = `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.v","ToleratedFailureCountPath":"$.c","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
		items   = `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.v %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
		prefix  = "An error occurred while executing the state '%s' (entered at the event id #2). "
	)
	cases := []struct {
		name, def, input string
		output           string // SUCCEEDED with this output, or
		cause            string // FAILED with this cause (after the prefix)
	}{
		{"MathAdd rounds a half up", mathAdd, `{"a":1.5,"b":1}`, `{"r":3}`, ""},
		{"MathAdd rounds a negative half up", mathAdd, `{"a":-1.5,"b":0}`, `{"r":-1}`, ""},
		{"MathAdd rounds each argument", mathAdd, `{"a":2.4,"b":0.6}`, `{"r":3}`, ""},
		{"MathAdd of integers", mathAdd, `{"a":111,"b":-1}`, `{"r":110}`, ""},
		{"Format of an object", format, `{"a":{"k":1,"s":"t","n":null}}`, `{"r":"x{k=1, n=null, s=t}y"}`, ""},
		{"Format of an array", format, `{"a":[1,"two",true,[],{}]}`, `{"r":"x[1, two, true, [], {}]y"}`, ""},
		{"range of one number", rangeJ, `{}`, `{"one":3,"wrapped":[3],"two":[1,2]}`, ""},
		{"SecondsPath to a string", wait, `{"s":"abc"}`, "", "The SecondsPath parameter cannot be parsed as a long value: $.s == abc"},
		{"SecondsPath to a fraction", wait, `{"s":1.5}`, "", "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"},
		{"MaxConcurrencyPath to a word", maxConc, `{"v":[1],"c":"NoNumber"}`, "", `The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: $.c`},
		{"MaxConcurrencyPath to an object", maxConc, `{"v":[1],"c":{"a":1}}`, "", `The MaxConcurrencyPath field refers to value "{"a":1}" which is not a valid integer: $.c`},
		{"MaxConcurrencyPath to null", maxConc, `{"v":[1],"c":null}`, "", `The MaxConcurrencyPath field refers to value "null" which is not a valid integer: $.c`},
		{"MaxConcurrencyPath to a digit string", maxConc, `{"v":[1],"c":"2"}`, `[1]`, ""},
		{"MaxConcurrencyPath negative", maxConc, `{"v":[1],"c":-1}`, "", "Expected non-negative integer for MaxConcurrency, got '-1' instead."},
		{"ToleratedFailureCountPath to a fraction", tolerat, `{"v":[1],"c":1.5}`, "", `The ToleratedFailureCountPath field refers to value "1.5" which is not a valid integer: $.c`},
		{"ToleratedFailureCountPath to a word", tolerat, `{"v":[1],"c":"abc"}`, "", `The ToleratedFailureCountPath field refers to value "abc" which is not a valid integer: $.c`},
		{"ToleratedFailureCountPath to a digit string", tolerat, `{"v":[1],"c":"1"}`, `[1]`, ""},
		{"Items of a string", items, `{"v":"a\"b"}`, "", `The JSONata expression '$states.input.v' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string' for value: "a"b"`},
		{"Items of an object", items, `{"v":{"a":1}}`, "", `The JSONata expression '$states.input.v' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {"a":1}`},
		{"Items of nothing", items, `{}`, "", `The JSONata expression '$states.input.v' specified for the field 'Items' returned nothing (undefined).`},
	}
	ctx := context.Background()
	ex, err := New(ctx, Options{Clock: NewAutoClock(time.Date(2024, 3, 22, 21, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ex.Run(ctx, "fidelity", []byte(c.def), Standard, c.input)
			if err != nil {
				t.Fatal(err)
			}
			if c.cause == "" {
				got, _ := decodeJSON([]byte(d.Output))
				want, _ := decodeJSON([]byte(c.output))
				if d.Status != StatusSucceeded || !jsonEqual(got, want) {
					t.Fatalf("%s %s (%s: %s), want SUCCEEDED %s", d.Status, d.Output, d.Error, d.Cause, c.output)
				}
				return
			}
			state := "M"
			if c.def == wait {
				state = "W"
			}
			want := fmt.Sprintf(prefix, state) + c.cause
			if d.Status != StatusFailed || d.Cause != want {
				t.Fatalf("%s %s\n got cause %s\nwant cause %s", d.Status, d.Output, d.Cause, want)
			}
		})
	}
}
