package localsfn

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sbalswa/ai3-mvp/internal/jsonata"
)

func (c *intrinsic) apply(args []any) (any, error) {
	switch c.name {
	case "States.Format":
		return formatIntrinsic(c.args[0], args)
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, argType(0, "string", args[0])
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("the argument is not valid JSON: %w", err)
		}
		return v, nil
	case "States.JsonToString":
		return string(encodeJSON(args[0])), nil
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayPartition":
		a, ok := args[0].([]any)
		if !ok {
			return nil, argType(0, "array", args[0])
		}
		n, ok := toInt(args[1])
		if !ok || n <= 0 {
			return nil, fmt.Errorf("the chunk size must be a positive integer, got %s", encodeJSON(args[1]))
		}
		out := []any{}
		for i := 0; i < len(a); i += int(n) {
			out = append(out, append([]any{}, a[i:min(i+int(n), len(a))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, ok := args[0].([]any)
		if !ok {
			return nil, argType(0, "array", args[0])
		}
		for _, e := range a {
			if jsonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var n [3]int64
		for i := range n {
			v, ok := toInt(args[i])
			if !ok {
				return nil, argType(i, "integer", args[i])
			}
			n[i] = v
		}
		if n[2] == 0 {
			return nil, fmt.Errorf("the step must not be 0")
		}
		out := []any{}
		for v := n[0]; (n[2] > 0 && v <= n[1]) || (n[2] < 0 && v >= n[1]); v += n[2] {
			if len(out) == maxArrayRange {
				return nil, fmt.Errorf("the range has more than %d items", maxArrayRange)
			}
			out = append(out, num(v))
		}
		return out, nil
	case "States.ArrayGetItem":
		a, ok := args[0].([]any)
		if !ok {
			return nil, argType(0, "array", args[0])
		}
		i, ok := toInt(args[1])
		if !ok || i < 0 {
			return nil, fmt.Errorf("the index must be a non-negative integer, got %s", encodeJSON(args[1]))
		}
		if int(i) >= len(a) {
			return nil, fmt.Errorf("index %d is out of bounds for an array of %d items", i, len(a))
		}
		return a[i], nil
	case "States.ArrayLength":
		a, ok := args[0].([]any)
		if !ok {
			return nil, argType(0, "array", args[0])
		}
		return num(int64(len(a))), nil
	case "States.ArrayUnique":
		a, ok := args[0].([]any)
		if !ok {
			return nil, argType(0, "array", args[0])
		}
		out := []any{}
	next:
		for _, e := range a {
			for _, seen := range out {
				if jsonEqual(seen, e) {
					continue next
				}
			}
			out = append(out, e)
		}
		return out, nil
	case "States.Base64Encode":
		s, err := limitedString(args[0])
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := limitedString(args[0])
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("the argument is not valid base64: %w", err)
		}
		return string(b), nil
	case "States.Hash":
		s, err := limitedString(args[0])
		if err != nil {
			return nil, err
		}
		alg, _ := args[1].(string)
		digest, ok := jsonata.HashHex(alg, s)
		if !ok {
			return nil, fmt.Errorf("the hash algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, got %s", encodeJSON(args[1]))
		}
		return digest, nil
	case "States.JsonMerge":
		a, ok := args[0].(map[string]any)
		if !ok {
			return nil, argType(0, "object", args[0])
		}
		b, ok := args[1].(map[string]any)
		if !ok {
			return nil, argType(1, "object", args[1])
		}
		if deep, ok := args[2].(bool); !ok || deep {
			return nil, fmt.Errorf("only a shallow merge is supported: the third argument must be false")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		lo, ok1 := toInt(args[0])
		hi, ok2 := toInt(args[1])
		if !ok1 || !ok2 || hi <= lo {
			return nil, fmt.Errorf("the range must be two integers with start < end, got %s and %s", encodeJSON(args[0]), encodeJSON(args[1]))
		}
		r := rand.Int64N
		if len(args) == 3 {
			seed, ok := toInt(args[2])
			if !ok {
				return nil, argType(2, "integer", args[2])
			}
			r = rand.New(rand.NewPCG(uint64(seed), uint64(seed))).Int64N
		}
		return num(lo + r(hi-lo)), nil
	case "States.MathAdd":
		// AWS: a non-integer argument is rounded to the nearest integer
		// (halves up, as Java's Math.round) before the sum.
		a, ok1 := roundedInt(args[0])
		b, ok2 := roundedInt(args[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("both arguments must be numbers, got %s and %s", encodeJSON(args[0]), encodeJSON(args[1]))
		}
		return num(a + b), nil
	case "States.StringSplit":
		s, ok := args[0].(string)
		if !ok {
			return nil, argType(0, "string", args[0])
		}
		d, ok := args[1].(string)
		if !ok {
			return nil, argType(1, "string", args[1])
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.UUID":
		return newUUID(), nil
	}
	return nil, fmt.Errorf("unknown function")
}

func argType(i int, want string, got any) error {
	return fmt.Errorf("argument %d must be a %s, got a %s", i+1, want, jsonType(got))
}

func limitedString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", argType(0, "string", v)
	}
	if utf8.RuneCountInString(s) > maxEncodeChars {
		return "", fmt.Errorf("the input has more than %d characters", maxEncodeChars)
	}
	return s, nil
}

// formatIntrinsic fills the {} placeholders of the template (the first
// argument) with the other arguments; \{ and \} in a literal template are
// literal braces.
func formatIntrinsic(tmpl intrinsicArg, args []any) (any, error) {
	var raw string
	if tmpl.isStr {
		raw = tmpl.raw
	} else {
		s, ok := args[0].(string)
		if !ok {
			return nil, argType(0, "string", args[0])
		}
		raw = s
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && tmpl.isStr:
			i++
			b.WriteByte(raw[i])
		case c == '{' && i+1 < len(raw) && raw[i+1] == '}':
			if next >= len(args) {
				return nil, fmt.Errorf("the template has more {} placeholders than arguments")
			}
			formatValue(&b, args[next])
			next++
			i++
		default:
			b.WriteByte(c)
		}
	}
	if next != len(args) {
		return nil, fmt.Errorf("the template has %d {} placeholders but %d arguments were given", next-1, len(args)-1)
	}
	return b.String(), nil
}

// roundedInt returns a number rounded to the nearest integer, halves up.
func roundedInt(v any) (int64, bool) {
	if n, ok := toInt(v); ok {
		return n, true
	}
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(math.Floor(f + 0.5)), true
}

// formatValue writes v as States.Format shows an argument: a string as it
// is, an array as [a, b], an object as {key=value, …} (keys sorted: the
// executor does not keep the input's key order), strings inside them bare,
// and other values as JSON — AWS formats collections this way rather than
// failing.
func formatValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case []any:
		b.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			formatValue(b, item)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k + "=")
			formatValue(b, x[k])
		}
		b.WriteByte('}')
	default:
		b.Write(encodeJSON(v))
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	for i := range 2 {
		v := rand.Uint64()
		for j := range 8 {
			b[i*8+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
