package asl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Path is an optional JSONPath field such as InputPath or ResultPath. ASL
// gives an absent path and an explicit null different meanings (absent
// ResultPath keeps only the result, null discards it), so Path has three
// states: the zero value is absent, [Null] is an explicit null and [P] is a
// path expression.
type Path struct {
	set  bool
	null bool
	expr string
}

// P returns the path expression expr, e.g. P("$.steps.build"). It is checked
// when the state machine is built.
func P(expr string) Path { return Path{set: true, expr: expr} }

// Null returns an explicit JSON null path ("ResultPath": null discards the
// state's result; "InputPath": null gives the state {} as input).
func Null() Path { return Path{set: true, null: true} }

// IsZero reports whether the path is absent; encoding/json's omitzero uses it.
func (p Path) IsZero() bool { return !p.set }

// IsNull reports whether the path is an explicit null.
func (p Path) IsNull() bool { return p.set && p.null }

// Expr returns the path expression ("" when absent or null).
func (p Path) Expr() string { return p.expr }

// String renders the path as it appears in the JSON: absent, null or the expression.
func (p Path) String() string {
	switch {
	case !p.set:
		return "<absent>"
	case p.null:
		return "null"
	}
	return p.expr
}

// MarshalJSON writes null or the quoted expression.
func (p Path) MarshalJSON() ([]byte, error) {
	if p.null || !p.set {
		return []byte("null"), nil
	}
	return json.Marshal(p.expr)
}

// UnmarshalJSON reads null or a string.
func (p *Path) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = Null()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("path must be a string or null: %w", err)
	}
	*p = P(s)
	return nil
}

// pathKind says which grammar a path field accepts.
type pathKind int

const (
	// referencePath: $ followed by .name, ['name'] and [index] only (ResultPath,
	// Choice Variable, the *Path comparators). Context paths ($$) allowed when ctx.
	referencePath pathKind = iota
	// jsonPath: the JSONPath subset Step Functions accepts (wildcards, slices,
	// unions, filters, deep scan).
	jsonPath
)

// checkPath reports what is wrong with a path expression, or nil.
func checkPath(expr string, kind pathKind, allowContext bool) error {
	if expr == "" {
		return fmt.Errorf("empty path")
	}
	if !strings.HasPrefix(expr, "$") {
		return fmt.Errorf("path %q must start with $", expr)
	}
	rest := expr[1:]
	if strings.HasPrefix(rest, "$") {
		if !allowContext {
			return fmt.Errorf("path %q: context object paths ($$) are not allowed here", expr)
		}
		rest = rest[1:]
	} else if n := identPrefix(rest); n > 0 {
		// $name… reads a workflow variable (Assign), where context paths may be read.
		if !allowContext {
			return fmt.Errorf("path %q: variable references are not allowed here", expr)
		}
		if err := checkVariableName(rest[:n]); err != nil {
			return fmt.Errorf("path %q: %w", expr, err)
		}
		rest = rest[n:]
	}
	for rest != "" {
		var err error
		rest, err = pathSegment(rest, kind)
		if err != nil {
			return fmt.Errorf("path %q: %w", expr, err)
		}
	}
	return nil
}

// pathSegment consumes one segment and returns the remainder.
func pathSegment(s string, kind pathKind) (string, error) {
	switch s[0] {
	case '.':
		s = s[1:]
		if strings.HasPrefix(s, ".") {
			if kind == referencePath {
				return "", fmt.Errorf("deep scan (..) is not allowed in a reference path")
			}
			s = s[1:]
		}
		if strings.HasPrefix(s, "*") {
			if kind == referencePath {
				return "", fmt.Errorf("wildcard is not allowed in a reference path")
			}
			return s[1:], nil
		}
		n := 0
		for n < len(s) && !strings.ContainsRune(".[]()'\" \t\n$?,:*", rune(s[n])) {
			n++
		}
		if n == 0 {
			return "", fmt.Errorf("empty field name")
		}
		return s[n:], nil
	case '[':
		end, err := closingBracket(s)
		if err != nil {
			return "", err
		}
		if err := bracketSegment(s[1:end], kind); err != nil {
			return "", err
		}
		return s[end+1:], nil
	}
	return "", fmt.Errorf("unexpected %q", s[0])
}

// closingBracket finds the ] that closes the [ at s[0], skipping quoted text
// and nested brackets (filters).
func closingBracket(s string) (int, error) {
	depth := 0
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed [")
}

func bracketSegment(in string, kind pathKind) error {
	if in == "" {
		return fmt.Errorf("empty []")
	}
	if isQuoted(in) {
		return nil
	}
	if isInt(in) {
		return nil
	}
	if kind == referencePath {
		return fmt.Errorf("[%s] is not allowed in a reference path (only .name, ['name'] and [index])", in)
	}
	switch {
	case in == "*":
		return nil
	case strings.HasPrefix(in, "?(") && strings.HasSuffix(in, ")"):
		if len(in) == 3 {
			return fmt.Errorf("empty filter")
		}
		return nil
	case strings.Contains(in, ":"):
		parts := strings.Split(in, ":")
		if len(parts) > 3 {
			return fmt.Errorf("bad slice [%s]", in)
		}
		for _, p := range parts {
			if p != "" && !isInt(p) {
				return fmt.Errorf("bad slice [%s]", in)
			}
		}
		return nil
	case strings.Contains(in, ","):
		for _, p := range strings.Split(in, ",") {
			p = strings.TrimSpace(p)
			if !isInt(p) && !isQuoted(p) {
				return fmt.Errorf("bad union [%s]", in)
			}
		}
		return nil
	}
	return fmt.Errorf("bad subscript [%s]", in)
}

func isQuoted(s string) bool {
	return len(s) >= 2 && (s[0] == '\'' && s[len(s)-1] == '\'' || s[0] == '"' && s[len(s)-1] == '"')
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// isIntrinsic reports whether name is one of the States.* functions of the
// JSONPath query language.
func isIntrinsic(name string) bool {
	switch name {
	case "Format", "StringToJson", "JsonToString", "Array", "ArrayPartition", "ArrayContains",
		"ArrayRange", "ArrayGetItem", "ArrayLength", "ArrayUnique", "Base64Encode", "Base64Decode",
		"Hash", "JsonMerge", "MathRandom", "MathAdd", "StringSplit", "UUID":
		return true
	}
	return false
}

// maxIntrinsicDepth is how deeply Step Functions lets intrinsic calls nest.
const maxIntrinsicDepth = 10

// checkIntrinsic validates a States.* call used as a ".$" value.
func checkIntrinsic(expr string) error {
	p := &intrinsicParser{s: expr}
	if err := p.call(1); err != nil {
		return fmt.Errorf("intrinsic %q: %w", expr, err)
	}
	p.space()
	if p.i != len(p.s) {
		return fmt.Errorf("intrinsic %q: unexpected %q after the call", expr, p.s[p.i:])
	}
	return nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *intrinsicParser) call(depth int) error {
	if depth > maxIntrinsicDepth {
		return fmt.Errorf("nested deeper than %d calls", maxIntrinsicDepth)
	}
	if !strings.HasPrefix(p.s[p.i:], "States.") {
		return fmt.Errorf("expected States.<Function>")
	}
	p.i += len("States.")
	start := p.i
	for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	name := p.s[start:p.i]
	if !isIntrinsic(name) {
		return fmt.Errorf("unknown function States.%s", name)
	}
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return fmt.Errorf("function States.%s: expected (", name)
	}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
		return nil
	}
	for {
		p.space()
		if err := p.arg(depth); err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.s) {
			return fmt.Errorf("function States.%s: missing )", name)
		}
		if p.s[p.i] == ')' {
			p.i++
			return nil
		}
		if p.s[p.i] != ',' {
			return fmt.Errorf("function States.%s: expected , or ) at %q", name, p.s[p.i:])
		}
		p.i++
	}
}

func (p *intrinsicParser) arg(depth int) error {
	if p.i >= len(p.s) {
		return fmt.Errorf("missing argument")
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		for j := 1; j < len(rest); j++ {
			if rest[j] == '\\' {
				j++
				continue
			}
			if rest[j] == '\'' {
				p.i += j + 1
				return nil
			}
		}
		return fmt.Errorf("unterminated string")
	case strings.HasPrefix(rest, "States."):
		return p.call(depth + 1)
	case rest[0] == '$':
		end := argEnd(rest)
		if err := checkPath(strings.TrimSpace(rest[:end]), jsonPath, true); err != nil {
			return err
		}
		p.i += end
		return nil
	}
	end := argEnd(rest)
	lit := strings.TrimSpace(rest[:end])
	if lit == "true" || lit == "false" || lit == "null" {
		p.i += end
		return nil
	}
	if _, err := strconv.ParseFloat(lit, 64); err != nil {
		return fmt.Errorf("bad argument %q", lit)
	}
	p.i += end
	return nil
}

// argEnd finds the , or ) that ends an unquoted argument, skipping brackets.
func argEnd(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(':
			depth++
		case ']':
			depth--
		case ')':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return len(s)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
