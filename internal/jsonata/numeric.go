package jsonata

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

func num1(f func(float64) float64) func(*evaluator, []any, any, int) (any, error) {
	return func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		n, ok := asNumber(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		return f(n), nil
	}
}

// toNumber is $number's cast.
func toNumber(v any, pos int) (any, error) {
	switch x := v.(type) {
	case undefinedValue:
		return x, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		f, ok := parseJSNumber(x)
		if !ok {
			return nil, newError("D3030", pos, "number", x)
		}
		return f, nil
	}
	if f, ok := asNumber(v); ok {
		return f, nil
	}
	return nil, newError("D3030", pos, "number", plain(v))
}

// parseJSNumber accepts JSON number syntax plus 0x, 0o and 0b integers,
// as $number does in JSONata 2.0.
func parseJSNumber(s string) (float64, bool) {
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			return float64(n), err == nil
		}
	}
	if !isJSONNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0)
}

func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - st
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// roundHalfEven rounds to the given number of decimal places, with ties
// going to the even digit, as $round does.
func roundHalfEven(v float64, places int) float64 {
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	// shift by decimal exponent to avoid binary rounding error
	shifted, _ := strconv.ParseFloat(mant+"e"+strconv.Itoa(e+places), 64)
	r := math.RoundToEven(shifted)
	if math.Abs(shifted-math.Trunc(shifted)) != 0.5 {
		r = math.Round(shifted)
	}
	out, _ := strconv.ParseFloat(strconv.FormatFloat(r, 'f', -1, 64)+"e"+strconv.Itoa(-places), 64)
	if out == 0 {
		return 0
	}
	return out
}

func addNumericFunctions(add adder) {
	add("number", "(nsb)-", func(_ *evaluator, a []any, _ any, pos int) (any, error) { return toNumber(a[0], pos) })
	add("abs", "n-", num1(math.Abs))
	add("floor", "n-", num1(math.Floor))
	add("ceil", "n-", num1(math.Ceil))
	add("round", "n-n?", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		n, ok := asNumber(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		p, _ := asNumber(a[1])
		return roundHalfEven(n, int(p)), nil
	})
	add("power", "n-n", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		b, ok := asNumber(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		e, _ := asNumber(a[1])
		r := math.Pow(b, e)
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, newError("D3061", pos, "power", b, "exp", e)
		}
		return r, nil
	})
	add("sqrt", "n-", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		n, ok := asNumber(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		if n < 0 {
			return nil, newError("D3060", pos, "sqrt", n)
		}
		return math.Sqrt(n), nil
	})
	add("random", "", func(*evaluator, []any, any, int) (any, error) { return rand.Float64(), nil })
	add("formatBase", "n-n?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		n, ok := asNumber(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		radix := 10.0
		if r, ok := asNumber(a[1]); ok {
			radix = r
		}
		if radix < 2 || radix > 36 {
			return nil, newError("D3100", pos, "formatBase", radix)
		}
		return strconv.FormatInt(int64(roundHalfEven(n, 0)), int(radix)), nil
	})
	add("formatNumber", "n-so?", fnFormatNumber)
	add("formatInteger", "n-s", fnFormatInteger)
	add("parseInteger", "s-s", fnParseInteger)
	add("sum", "a<n>", aggregate(func(ns []float64) any {
		t := 0.0
		for _, n := range ns {
			t += n
		}
		return t
	}, true))
	add("max", "a<n>", aggregate(func(ns []float64) any { return extreme(ns, 1) }, false))
	add("min", "a<n>", aggregate(func(ns []float64) any { return extreme(ns, -1) }, false))
	add("average", "a<n>", aggregate(func(ns []float64) any {
		t := 0.0
		for _, n := range ns {
			t += n
		}
		return t / float64(len(ns))
	}, false))
}

func extreme(ns []float64, sign float64) any {
	m := ns[0]
	for _, n := range ns[1:] {
		if n*sign > m*sign {
			m = n
		}
	}
	return m
}

// aggregate wraps $sum/$max/$min/$average: undefined in, undefined out; an
// empty array gives 0 for $sum and undefined for the others.
func aggregate(f func([]float64) any, emptyIsZero bool) func(*evaluator, []any, any, int) (any, error) {
	return func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		if len(items) == 0 {
			if emptyIsZero {
				return 0.0, nil
			}
			return undefinedValue{}, nil
		}
		ns := make([]float64, len(items))
		for i, it := range items {
			ns[i], _ = asNumber(it)
		}
		return f(ns), nil
	}
}
