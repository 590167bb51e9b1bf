package jsonata

import (
	"encoding/base64"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// castString is $string's conversion of a non-string value.
func castString(v any, pos int) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	}
	if isFunction(v) {
		return "", nil
	}
	if f, ok := asNumber(v); ok {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return "", newError("D3001", pos, "string", f)
		}
		return formatNumber(precision15(f)), nil
	}
	return stringify(v, false)
}

func str(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

func runesOf(s string) []rune { return []rune(s) }

func addStringFunctions(add adder) {
	add("string", "x-b?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		if isUndefined(a[0]) {
			return undefinedValue{}, nil
		}
		if b, ok := a[1].(bool); ok && b {
			if s, ok := a[0].(string); ok {
				return s, nil
			}
			return stringify(a[0], true)
		}
		return castString(a[0], pos)
	})
	add("length", "s-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		return float64(utf8.RuneCountInString(s)), nil
	})
	add("substring", "s-nn?", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		r := runesOf(s)
		start, _ := asNumber(a[1])
		st := int(start)
		if st < 0 {
			st = max(len(r)+st, 0)
		}
		if st > len(r) {
			return "", nil
		}
		end := len(r)
		if n, ok := asNumber(a[2]); ok {
			if n <= 0 {
				return "", nil
			}
			end = min(st+int(n), len(r))
		}
		return string(r[st:end]), nil
	})
	add("substringBefore", "s-s", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		chars, _ := str(a[1])
		if i := strings.Index(s, chars); i >= 0 {
			return s[:i], nil
		}
		return s, nil
	})
	add("substringAfter", "s-s", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		chars, _ := str(a[1])
		if i := strings.Index(s, chars); i >= 0 {
			return s[i+len(chars):], nil
		}
		return s, nil
	})
	add("uppercase", "s-", mapString(upper))
	add("lowercase", "s-", mapString(strings.ToLower))
	add("trim", "s-", mapString(func(s string) string {
		return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
		}), " ")
	}))
	add("pad", "s-ns?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		w, _ := asNumber(a[1])
		padChar, ok := str(a[2])
		if !ok || padChar == "" {
			padChar = " "
		}
		if math.Abs(w) > maxString {
			return nil, stringTooLong(pos, "pad")
		}
		width := int(math.Abs(w))
		n := width - utf8.RuneCountInString(s)
		if n <= 0 {
			return s, nil
		}
		pad := []rune(strings.Repeat(padChar, n))[:n]
		if w < 0 {
			return string(pad) + s, nil
		}
		return s + string(pad), nil
	})
	add("contains", "s-(sf)", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		switch p := a[1].(type) {
		case string:
			return strings.Contains(s, p), nil
		case *regexValue:
			return p.re.MatchString(s), nil
		}
		return nil, jsError(pos, "Cannot read properties of undefined (reading 'apply')")
	})
	add("split", "s-(sf)n?", fnSplit)
	add("join", "a<s>s?", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		sep, _ := str(a[1])
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i], _ = str(it)
		}
		return strings.Join(parts, sep), nil
	})
	add("match", "s-f<s:o>n?", fnMatch)
	add("replace", "s-(sf)(sf)n?", fnReplace)
	add("base64encode", "s-", mapString(func(s string) string { return base64.StdEncoding.EncodeToString(latin1Bytes(s)) }))
	add("base64decode", "s-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
				return nil, &Error{Code: "D3137", Message: "base64decode: " + err.Error()}
			}
		}
		return fromLatin1(b), nil
	})
	add("encodeUrlComponent", "s-", mapString(encodeURIComponent))
	add("encodeUrl", "s-", mapString(encodeURI))
	add("decodeUrlComponent", "s-", decodeURL("decodeUrlComponent"))
	add("decodeUrl", "s-", decodeURL("decodeUrl"))
}

// upper is JavaScript's toUpperCase: Go's ToUpper plus the one-to-many
// mappings (ß → SS, ligatures) that Unicode's SpecialCasing defines.
func upper(s string) string {
	s = strings.ToUpper(s)
	if isASCII(s) {
		return s
	}
	return strings.NewReplacer("ß", "SS", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST", "ŉ", "ʼN").Replace(s)
}

// latin1Bytes keeps the low byte of each UTF-16 code unit, which is what
// jsonata-js's $base64encode encodes (Node's 'binary' encoding).
func latin1Bytes(s string) []byte {
	units := utf16Units(s)
	out := make([]byte, len(units))
	for i, u := range units {
		out[i] = byte(u)
	}
	return out
}

// fromLatin1 turns each byte into the character with that code, as
// jsonata-js's $base64decode does.
func fromLatin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func mapString(f func(string) string) func(*evaluator, []any, any, int) (any, error) {
	return func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		return f(s), nil
	}
}

func encodeWith(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)>>4, 16)) + strings.ToUpper(strconv.FormatInt(int64(c)&15, 16)))
	}
	return b.String()
}

func encodeURIComponent(s string) string { return encodeWith(s, "-_.!~*'()") }
func encodeURI(s string) string          { return encodeWith(s, "-_.!~*'();/?:@&=+$,#") }

func decodeURL(name string) func(*evaluator, []any, any, int) (any, error) {
	return func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		out, err := url.PathUnescape(s)
		if err != nil {
			return nil, newError("D3140", pos, name, s, "functionName", name, "message", "Malformed URL passed to $"+name+"(): "+jsonText(s))
		}
		return out, nil
	}
}
