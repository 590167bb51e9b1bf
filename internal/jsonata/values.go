package jsonata

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// undefinedValue is JSONata's "undefined": no value at all, distinct from a
// JSON null (Go nil).
type undefinedValue struct{}

func isUndefined(v any) bool {
	_, ok := v.(undefinedValue)
	return ok
}

// sequence is JSONata's result sequence: the flattened results of a path.
// It collapses to its single item, or to undefined when empty, unless
// keepSingleton is set by the [] operator.
type sequence struct {
	items         []any
	one           [1]any // backing store for a one-item sequence
	keepSingleton bool
	outerWrapper  bool // wraps an array given as the whole input
	tupleStream   bool // items are *tuple values
}

// tuple is one item of a tuple stream: the context value '@' plus the
// variables bound by focus (@), index (#) and parent (%) along the path.
type tuple struct {
	context  any
	bindings map[string]any
}

// singleton makes a one-item sequence with a single allocation.
func singleton(v any) *sequence {
	s := &sequence{}
	s.one[0] = v
	s.items = s.one[:]
	return s
}

// collapse applies the singleton rule to a sequence result.
func collapse(v any, keepArray bool) any {
	s, ok := v.(*sequence)
	if !ok || s.tupleStream {
		return v
	}
	if keepArray {
		s.keepSingleton = true
	}
	switch len(s.items) {
	case 0:
		return undefinedValue{}
	case 1:
		if s.keepSingleton {
			return s
		}
		return s.items[0]
	}
	return v
}

// arrayItems returns the items of an array or sequence.
func arrayItems(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case *sequence:
		return a.items, true
	}
	return nil, false
}

// plain converts internal values (sequences, json.Number, integers) to the
// encoding/json shapes callers expect, copying only what must change.
func plain(v any) any {
	switch x := v.(type) {
	case *sequence:
		out := make([]any, len(x.items))
		for i, it := range x.items {
			out[i] = plain(it)
		}
		return out
	case []any:
		for i, it := range x {
			if needsPlain(it) {
				out := make([]any, len(x))
				copy(out, x[:i])
				for j := i; j < len(x); j++ {
					out[j] = plain(x[j])
				}
				return out
			}
		}
		return x
	case map[string]any:
		for k, it := range x {
			if needsPlain(it) {
				out := make(map[string]any, len(x))
				for k2, v2 := range x {
					out[k2] = v2
				}
				out[k] = plain(it)
				for k2, v2 := range x {
					if needsPlain(v2) {
						out[k2] = plain(v2)
					}
				}
				return out
			}
		}
		return x
	}
	return normNumber(v)
}

func needsPlain(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.Signbit(x) && x == 0 || math.IsInf(x, 0) || math.IsNaN(x)
	case *sequence, json.Number, int, int64, int32, float32, uint, uint64:
		return true
	case []any:
		for _, it := range x {
			if needsPlain(it) {
				return true
			}
		}
	case map[string]any:
		for _, it := range x {
			if needsPlain(it) {
				return true
			}
		}
	}
	return false
}

// normNumber turns the numeric types a caller may pass into float64.
func normNumber(v any) any {
	switch n := v.(type) {
	case float64:
		if n == 0 {
			return 0.0 // JSON has no negative zero
		}
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return nil // JSON has no Infinity or NaN
		}
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return v
		}
		return f
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case uint:
		return float64(n)
	case uint64:
		return float64(n)
	case float32:
		return float64(n)
	}
	return v
}

func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number, int, int64, int32, uint, uint64, float32:
		f, ok := normNumber(n).(float64)
		return f, ok
	}
	return 0, false
}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *partial, *regexValue:
		return true
	}
	return false
}

// typeName is JSONata's $type for a value.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any, *sequence:
		return "array"
	case undefinedValue:
		return "undefined"
	}
	if isFunction(v) {
		return "function"
	}
	if _, ok := asNumber(v); ok {
		return "number"
	}
	return "object"
}

// truthy is JSONata's boolean cast ($boolean).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil, undefinedValue:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any, *sequence:
		items, _ := arrayItems(x)
		if len(items) == 1 {
			return truthy(items[0])
		}
		for _, it := range items {
			if truthy(it) {
				return true
			}
		}
		return false
	}
	if isFunction(v) {
		return false
	}
	if f, ok := asNumber(v); ok {
		return f != 0
	}
	return false
}

// deepEqual compares two values the way JSONata's = operator does.
func deepEqual(a, b any) bool {
	if fa, ok := asNumber(a); ok {
		fb, ok := asNumber(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case undefinedValue:
		return false
	}
	if xa, ok := arrayItems(a); ok {
		ya, ok := arrayItems(b)
		if !ok || len(xa) != len(ya) {
			return false
		}
		for i := range xa {
			if !deepEqual(xa[i], ya[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// formatNumber renders a number as JavaScript's Number.prototype.toString
// does, which is what JSONata's string conversions produce.
func formatNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 0) {
		if f > 0 {
			return "Infinity"
		}
		return "-Infinity"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+06 / e-07; JavaScript writes e+6 / e-7
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// precision15 rounds a number to 15 significant digits, as JSONata 2.0's
// string conversion does (later releases keep integers whole).
func precision15(f float64) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	return p
}

// stringify renders a value as JSON text with JSONata's conventions:
// numbers to 15 significant digits, functions as "", undefined dropped.
// Object keys come out sorted, since Go maps keep no insertion order.
func stringify(v any, pretty bool) (string, error) {
	var b strings.Builder
	if err := writeJSON(&b, v, pretty, ""); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeJSON(b *strings.Builder, v any, pretty bool, indent string) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case undefinedValue:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		b.WriteString(quoteJSON(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, val := range x {
			if !isUndefined(val) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		b.WriteByte('{')
		inner := indent + "  "
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if pretty {
				b.WriteString("\n" + inner)
			}
			b.WriteString(quoteJSON(k))
			b.WriteByte(':')
			if pretty {
				b.WriteByte(' ')
			}
			if err := writeJSON(b, x[k], pretty, inner); err != nil {
				return err
			}
		}
		if pretty && len(keys) > 0 {
			b.WriteString("\n" + indent)
		}
		b.WriteByte('}')
	default:
		if items, ok := arrayItems(v); ok {
			b.WriteByte('[')
			inner := indent + "  "
			for i, it := range items {
				if i > 0 {
					b.WriteByte(',')
				}
				if pretty {
					b.WriteString("\n" + inner)
				}
				if isUndefined(it) {
					b.WriteString("null")
					continue
				}
				if err := writeJSON(b, it, pretty, inner); err != nil {
					return err
				}
			}
			if pretty && len(items) > 0 {
				b.WriteString("\n" + indent)
			}
			b.WriteByte(']')
			return nil
		}
		if isFunction(v) {
			b.WriteString(`""`)
			return nil
		}
		f, ok := asNumber(v)
		if !ok {
			enc, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b.Write(enc)
			return nil
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			b.WriteString("null")
			return nil
		}
		b.WriteString(formatNumber(precision15(f)))
	}
	return nil
}
