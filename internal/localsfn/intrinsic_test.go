package localsfn

import (
	"strings"
	"testing"
)

// TestIntrinsicArgumentRules checks AWS's argument rules: each call here
// must fail at run time with a message that says what was wrong.
func TestIntrinsicArgumentRules(t *testing.T) {
	input, _ := decodeJSON([]byte(`{"arr":[1,2],"obj":{"a":1},"s":"text","n":3,"long":"` + strings.Repeat("x", maxEncodeChars+1) + `"}`))
	tests := []struct{ call, want string }{
		{"States.ArrayPartition($.arr, 0)", "chunk size must be a positive integer"},
		{"States.ArrayPartition($.s, 1)", "argument 1 must be a array"},
		{"States.ArrayRange(1, 2000, 1)", "more than 1000 items"},
		{"States.ArrayRange(1, 5, 0)", "step must not be 0"},
		{"States.ArrayRange(1, 5, 1.5)", "argument 3 must be a integer"},
		{"States.ArrayGetItem($.arr, 2)", "out of bounds"},
		{"States.ArrayGetItem($.arr, -1)", "non-negative integer"},
		{"States.ArrayLength($.obj)", "must be a array"},
		{"States.Base64Encode($.long)", "more than 10000 characters"},
		{"States.Base64Decode('%%%')", "not valid base64"},
		{"States.Hash($.s, 'SHA-3')", "must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"},
		{"States.Hash($.long, 'MD5')", "more than 10000 characters"},
		{"States.JsonMerge($.obj, $.obj, true)", "only a shallow merge"},
		{"States.JsonMerge($.arr, $.obj, false)", "argument 1 must be a object"},
		{"States.MathRandom(5, 5)", "start < end"},
		{"States.MathAdd($.s, 1)", "must be numbers"},
		{"States.StringSplit($.n, ',')", "argument 1 must be a string"},
		{"States.StringToJson('{bad')", "not valid JSON"},
		{"States.Format('{} {}', $.s)", "more {} placeholders than arguments"},
		{"States.Format('{}', $.s, $.s)", "1 {} placeholders but 2 arguments"},
		{"States.Array($.missing)", "could not be found"},
	}
	for _, tt := range tests {
		c, err := parseIntrinsic(tt.call)
		if err != nil {
			t.Errorf("%s: does not parse: %v", tt.call, err)
			continue
		}
		_, err = c.eval(input, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.call, err, tt.want)
		}
	}
}

func TestIntrinsicParsing(t *testing.T) {
	good := []struct{ call, want string }{
		{`States.Format('a\'b\{\}\\ {}', 'x')`, `"a'b{}\\ x"`},
		{`States.Array(1, -2.5, true, false, null, 'q')`, `[1,-2.5,true,false,null,"q"]`},
		{`States.StringSplit('a,b;c', ',;')`, `["a","b","c"]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.JsonToString(States.StringToJson('{"k":[1,2]}'))`, `"{\"k\":[1,2]}"`},
		{`States.Hash('input data', 'SHA-256')`, `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`},
		{`States.MathRandom(1, 2, 7)`, `1`},
		{`States.UUID()`, ""},
	}
	for _, tt := range good {
		c, err := parseIntrinsic(tt.call)
		if err != nil {
			t.Errorf("%s: %v", tt.call, err)
			continue
		}
		v, err := c.eval(map[string]any{}, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.call, err)
			continue
		}
		if tt.want == "" {
			continue
		}
		want, _ := decodeJSON([]byte(tt.want))
		if !jsonEqual(v, want) {
			t.Errorf("%s = %s, want %s", tt.call, encodeJSON(v), tt.want)
		}
	}
	bad := []string{
		`States.Format`, `States.Format('x'`, `States.Nope(1)`, `States.UUID(1)`, `States.ArrayLength()`,
		`States.Format('unterminated)`, `States.Array(1) extra`, `States.Array(abc)`,
		strings.Repeat("States.Array(", 11) + "1" + strings.Repeat(")", 11),
	}
	for _, s := range bad {
		if _, err := parseIntrinsic(s); err == nil {
			t.Errorf("parseIntrinsic(%q) accepted an invalid call", s)
		}
	}
}

func FuzzParseIntrinsic(f *testing.F) {
	for _, s := range []string{"States.Format('{}', $.a)", "States.Array(1, 'a', $$.x)", "States.JsonMerge($.a, States.StringToJson('{}'), false)"} {
		f.Add(s)
	}
	input, _ := decodeJSON([]byte(`{"a":{"b":"c"}}`))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseIntrinsic(s)
		if err != nil {
			return
		}
		c.eval(input, nil) // must not panic
	})
}
