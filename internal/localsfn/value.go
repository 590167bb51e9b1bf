package localsfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Values inside the executor are what encoding/json decodes into with
// UseNumber: map[string]any, []any, string, json.Number, bool and nil.
// Values are never mutated once built; ResultPath copies the maps it changes,
// so branches and iterations can share their input safely.

// decodeJSON decodes one JSON document, keeping numbers exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON document")
	}
	return v, nil
}

// encodeJSON encodes a value compactly without escaping <, > and &, as AWS does.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values come from decoding JSON or from our own builders; they always encode.
		return []byte("null")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// jsonType names a value's JSON type the way AWS's messages do.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64, int:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// toFloat returns a number's value.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// toInt returns a number's value when it is an integer.
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(f), true
	case int:
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// num builds a JSON number value from an integer.
func num(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }

// numf builds a JSON number value from a float, as an integer when it is one.
func numf(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return num(int64(f))
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// jsonEqual compares two values as JSON documents (numbers by value).
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number, float64, int:
		fx, _ := toFloat(a)
		fy, ok := toFloat(b)
		return ok && fx == fy
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// jsonSize returns the length of v's compact JSON encoding without building
// it, so the 256 KB payload limit costs no allocation per transition.
func jsonSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		if x {
			return 4
		}
		return 5
	case json.Number:
		return len(x)
	case float64, int:
		return len(numf(mustFloat(x)))
	case string:
		return stringSize(x)
	case []any:
		n := 2
		for i, e := range x {
			if i > 0 {
				n++
			}
			n += jsonSize(e)
		}
		return n
	case map[string]any:
		n := 2
		first := true
		for k, e := range x {
			if !first {
				n++
			}
			first = false
			n += stringSize(k) + 1 + jsonSize(e)
		}
		return n
	}
	return len(encodeJSON(v))
}

func mustFloat(v any) float64 { f, _ := toFloat(v); return f }

func stringSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6 // written as \ufffd, \u2028, \u2029
		default:
			n += size
		}
		i += size
	}
	return n
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func jsonNumber(s string) json.Number { return json.Number(s) }
