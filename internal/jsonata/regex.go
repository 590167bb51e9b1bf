package jsonata

// Regular expressions: JSONata regex literals (JavaScript syntax) run on
// Go's RE2, and the string functions that take them.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsGroupsOnly reports whether every "(?" construct in a pattern is one
// JavaScript also has: (?:...) or a named group (?<name>...). RE2 would
// accept inline flags such as (?i) that JavaScript rejects.
func jsGroupsOnly(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] == '\\' {
			i++
			continue
		}
		if p[i] != '(' || p[i+1] != '?' {
			continue
		}
		switch c := p[i+2]; {
		case c == ':':
		case c == '<' && i+3 < len(p) && p[i+3] != '=' && p[i+3] != '!':
		default:
			return false
		}
	}
	return true
}

func translateUnicodeEscapes(p string) string {
	if !strings.Contains(p, `\u`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' && i+6 <= len(p) {
				if _, ok := hex4(p, i+2); ok {
					b.WriteString(`\x{` + p[i+2:i+6] + `}`)
					i += 5
					continue
				}
			}
			b.WriteString(p[i : i+2])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// compileRegex translates a JSONata (JavaScript) regex literal to Go's RE2.
// Constructs RE2 lacks (look-around, back-references) fail here, at compile
// time, rather than matching differently at run time.
func compileRegex(pattern, flags string) (*regexp.Regexp, error) {
	prefix := ""
	if strings.Contains(flags, "i") {
		prefix += "i"
	}
	if strings.Contains(flags, "m") {
		prefix += "m"
	}
	// JavaScript's \d, \w, ^, $ and . without flags behave like RE2's;
	// its \uXXXX escape is RE2's \x{XXXX}.
	pattern = translateUnicodeEscapes(pattern)
	if !jsGroupsOnly(pattern) {
		return nil, fmt.Errorf("group syntax that JavaScript regular expressions lack: %s", pattern)
	}
	if prefix != "" {
		pattern = "(?" + prefix + ")" + pattern
	}
	return regexp.Compile(pattern)
}

func fnSplit(_ *evaluator, a []any, _ any, pos int) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	limit := -1
	if n, ok := asNumber(a[2]); ok {
		if n < 0 {
			return nil, newError("D3020", pos, "split", n)
		}
		limit = int(n)
	}
	var parts []string
	switch sep := a[1].(type) {
	case string:
		if sep == "" {
			for _, r := range s {
				parts = append(parts, string(r))
			}
		} else {
			parts = strings.Split(s, sep)
		}
	case *regexValue:
		for _, loc := range sep.re.FindAllStringIndex(s, -1) {
			if loc[0] == loc[1] {
				return nil, newError("D1004", pos, "split", nil)
			}
		}
		parts = sep.re.Split(s, -1)
	default:
		return nil, newError("T0410", pos, "split", a[1], "index", 2)
	}
	if limit >= 0 && limit < len(parts) {
		parts = parts[:limit]
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// regexMatchObject is the object a regex yields for its first match at or
// after offset: match, start, end, groups.
func regexMatchObject(re *regexp.Regexp, s string, offset int) any {
	loc := re.FindStringSubmatchIndex(s[offset:])
	if loc == nil {
		return undefinedValue{}
	}
	groups := make([]any, 0, len(loc)/2-1)
	for g := 2; g < len(loc); g += 2 {
		if loc[g] < 0 {
			groups = append(groups, nil)
		} else {
			groups = append(groups, s[offset+loc[g]:offset+loc[g+1]])
		}
	}
	start := utf8.RuneCountInString(s[:offset+loc[0]])
	nextAt := offset + loc[1]
	if loc[1] == loc[0] {
		nextAt++
	}
	return map[string]any{
		"match":  s[offset+loc[0] : offset+loc[1]],
		"start":  float64(start),
		"end":    float64(start + utf8.RuneCountInString(s[offset+loc[0]:offset+loc[1]])),
		"groups": groups,
		"next": &builtin{name: "next", impl: func(_ *evaluator, _ []any, _ any, pos int) (any, error) {
			if nextAt >= len(s) {
				return undefinedValue{}, nil
			}
			m := regexMatchObject(re, s, nextAt)
			if mo, ok := m.(map[string]any); ok && mo["match"] == "" {
				return nil, newError("D1004", pos, "", nil)
			}
			return m, nil
		}},
	}
}

func fnMatch(_ *evaluator, a []any, _ any, pos int) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	re, ok := a[1].(*regexValue)
	if !ok {
		return nil, newError("T0410", pos, "match", a[1], "index", 2)
	}
	limit := -1
	if n, ok := asNumber(a[2]); ok {
		if n < 0 {
			return nil, newError("D3040", pos, "match", n)
		}
		limit = int(n)
	}
	all := re.re.FindAllStringSubmatchIndex(s, limit)
	out := &sequence{}
	for _, loc := range all {
		if loc[0] == loc[1] {
			return nil, newError("D1004", pos, "match", nil)
		}
		groups := make([]any, 0, len(loc)/2-1)
		for g := 2; g < len(loc); g += 2 {
			if loc[g] < 0 {
				groups = append(groups, nil)
			} else {
				groups = append(groups, s[loc[g]:loc[g+1]])
			}
		}
		out.items = append(out.items, map[string]any{
			"match":  s[loc[0]:loc[1]],
			"index":  float64(utf8.RuneCountInString(s[:loc[0]])),
			"groups": groups,
		})
	}
	return out, nil
}

func fnReplace(ev *evaluator, a []any, ctx any, pos int) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	limit := -1
	if !isUndefined(a[3]) {
		n, _ := asNumber(a[3])
		if n < 0 {
			return nil, newError("D3011", pos, "replace", n)
		}
		limit = int(n)
	}
	switch p := a[1].(type) {
	case string:
		if p == "" {
			return nil, newError("D3010", pos, "replace", p)
		}
		repl, isStr := a[2].(string)
		if !isStr {
			return replaceWith(ev, regexp.MustCompile(regexp.QuoteMeta(p)), s, limit, a[2], ctx, pos)
		}
		return strings.Replace(s, p, repl, limit), nil
	case *regexValue:
		return replaceWith(ev, p.re, s, limit, a[2], ctx, pos)
	}
	return nil, newError("T0410", pos, "replace", a[1], "index", 2)
}

func replaceWith(ev *evaluator, re *regexp.Regexp, s string, limit int, repl any, ctx any, pos int) (any, error) {
	var b strings.Builder
	last := 0
	count := 0
	for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		if limit >= 0 && count >= limit {
			break
		}
		if loc[0] == loc[1] {
			return nil, newError("D1004", pos, "replace", nil)
		}
		groups := make([]string, 0, len(loc)/2-1)
		for g := 2; g < len(loc); g += 2 {
			if loc[g] < 0 {
				groups = append(groups, "")
			} else {
				groups = append(groups, s[loc[g]:loc[g+1]])
			}
		}
		b.WriteString(s[last:loc[0]])
		match := s[loc[0]:loc[1]]
		switch r := repl.(type) {
		case string:
			b.WriteString(expandReplacement(r, match, groups))
		case undefinedValue:
			// jsonata-js writes a missing replacement as the text
			// "undefined"
			b.WriteString("undefined")
		default:
			gs := make([]any, len(groups))
			for i, g := range groups {
				gs[i] = g
			}
			obj := map[string]any{"match": match, "index": float64(utf8.RuneCountInString(s[:loc[0]])), "groups": gs}
			res, err := ev.apply(repl, []any{obj}, ctx, pos, "replace")
			if err != nil {
				return nil, err
			}
			rs, ok := res.(string)
			if !ok {
				return nil, newError("D3012", pos, "replace", plain(res))
			}
			b.WriteString(rs)
		}
		last = loc[1]
		count++
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// expandReplacement substitutes $0 (the match), $1..$n (groups) and $$ in
// a $replace replacement string. A group number uses as many digits as the
// group count allows, falling back to fewer when it is too large.
func expandReplacement(repl, match string, groups []string) string {
	var b strings.Builder
	i := 0
	for i < len(repl) {
		c := repl[i]
		if c != '$' || i+1 >= len(repl) {
			b.WriteByte(c)
			i++
			continue
		}
		next := repl[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '0':
			b.WriteString(match)
			i += 2
		case next >= '1' && next <= '9':
			maxDigits := 1
			if len(groups) > 0 {
				maxDigits = len(strconv.Itoa(len(groups)))
			}
			j := i + 1
			for j < len(repl) && j < i+1+maxDigits && repl[j] >= '0' && repl[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(repl[i+1 : j])
			if maxDigits > 1 && n > len(groups) && j-i-1 > 1 {
				j--
				n, _ = strconv.Atoi(repl[i+1 : j])
			}
			if n >= 1 && n <= len(groups) {
				b.WriteString(groups[n-1])
			}
			i = j
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String()
}
