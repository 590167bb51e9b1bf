package localsfn

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// jsonValue generates JSON values as the executor holds them.
func jsonValue(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kind := rapid.IntRange(0, 5).Draw(t, "kind")
		if depth <= 0 && kind >= 4 {
			kind = 3
		}
		switch kind {
		case 0:
			return nil
		case 1:
			return rapid.Bool().Draw(t, "bool")
		case 2:
			return num(rapid.Int64Range(-1e6, 1e6).Draw(t, "int"))
		case 3:
			special := rapid.SampledFrom([]string{"", "\"", "\\", "\n", "\b", "\f", "\x01", "\x7f", "<&>", "\u2028", "\u2029", "é", "\xff", "🆗"})
			return rapid.String().Draw(t, "string") + special.Draw(t, "special")
		case 4:
			return rapid.SliceOfN(jsonValue(depth-1), 0, 4).Draw(t, "array")
		}
		return rapid.MapOfN(rapid.StringMatching(`[a-z]{1,3}`), jsonValue(depth-1), 0, 4).Draw(t, "object")
	})
}

// TestPropertyResultPathSet: setting a value at any reference path and
// reading the path back yields the value, and the input is never changed.
func TestPropertyResultPathSet(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.MapOfN(rapid.StringMatching(`[a-z]{1,2}`), jsonValue(2), 0, 4).Draw(t, "input")
		keys := rapid.SliceOfN(rapid.StringMatching(`[a-z]{1,2}`), 1, 3).Draw(t, "keys")
		path := "$"
		for _, k := range keys {
			path += "." + k
		}
		p, err := parseReferencePath(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		before := string(encodeJSON(in))
		value := jsonValue(1).Draw(t, "value")
		out, err := p.set(in, value)
		if err != nil {
			return // a scalar on the way: ResultPathMatchFailure, checked elsewhere
		}
		got, ok := p.get(out)
		if !ok || !jsonEqual(got, value) {
			t.Fatalf("set %s then get: %v %v, want %v", path, got, ok, value)
		}
		if string(encodeJSON(in)) != before {
			t.Fatalf("the input changed: %s -> %s", before, encodeJSON(in))
		}
	})
}

// TestPropertyJSONSize: the size the 256 KB limit counts equals the length
// of the encoded document.
func TestPropertyJSONSize(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := jsonValue(3).Draw(t, "value")
		if got, want := jsonSize(v), len(encodeJSON(v)); got != want {
			t.Fatalf("jsonSize(%s) = %d, want %d", fmt.Sprint(v), got, want)
		}
	})
}
