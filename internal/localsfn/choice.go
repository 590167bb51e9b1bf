package localsfn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// condition is one compiled Choice rule condition.
type condition interface {
	// match evaluates the condition; a path that finds nothing is an error
	// (except for IsPresent), as in AWS.
	match(input any, r roots) (bool, error)
}

type condAnd []condition
type condOr []condition
type condNot struct{ c condition }

// condCompare is Variable + one comparator.
type condCompare struct {
	variable *path
	op       string // comparator name without the Path suffix
	value    any    // literal operand
	valPath  *path  // operand from a path (…Path comparators)
	pattern  string // StringMatches
}

var comparators = map[string]bool{
	"StringEquals": true, "StringLessThan": true, "StringGreaterThan": true,
	"StringLessThanEquals": true, "StringGreaterThanEquals": true, "StringMatches": true,
	"NumericEquals": true, "NumericLessThan": true, "NumericGreaterThan": true,
	"NumericLessThanEquals": true, "NumericGreaterThanEquals": true,
	"BooleanEquals":   true,
	"TimestampEquals": true, "TimestampLessThan": true, "TimestampGreaterThan": true,
	"TimestampLessThanEquals": true, "TimestampGreaterThanEquals": true,
	"IsNull": true, "IsPresent": true, "IsNumeric": true, "IsString": true,
	"IsBoolean": true, "IsTimestamp": true,
}

// compileCondition compiles a Choice rule (or nested rule) object.
func compileCondition(m map[string]any) (condition, error) {
	if v, ok := m["And"]; ok {
		return compileList(v, "And", func(c []condition) condition { return condAnd(c) })
	}
	if v, ok := m["Or"]; ok {
		return compileList(v, "Or", func(c []condition) condition { return condOr(c) })
	}
	if v, ok := m["Not"]; ok {
		sub, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Not must be an object")
		}
		c, err := compileCondition(sub)
		return condNot{c}, err
	}
	vs, ok := m["Variable"].(string)
	if !ok {
		return nil, fmt.Errorf("a Choice rule needs Variable (or And, Or, Not)")
	}
	vp, err := parsePath(vs)
	if err != nil {
		return nil, fmt.Errorf("Variable: %w", err)
	}
	var ops []string
	for k := range m {
		if k != "Variable" && k != "Next" && k != "Comment" && k != "Assign" && k != "Output" {
			ops = append(ops, k)
		}
	}
	if len(ops) > 1 {
		slices.Sort(ops)
		return nil, fmt.Errorf("a Choice rule with Variable %q has more than one comparator: %s", vs, strings.Join(ops, ", "))
	}
	for k, v := range m {
		if k == "Variable" || k == "Next" || k == "Comment" || k == "Assign" || k == "Output" {
			continue
		}
		name, isPath := strings.CutSuffix(k, "Path")
		if !comparators[name] || (isPath && strings.HasPrefix(name, "Is")) {
			if comparators[k] {
				name, isPath = k, false
			} else {
				return nil, fmt.Errorf("unknown comparator %q", k)
			}
		}
		c := &condCompare{variable: vp, op: name}
		if isPath {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s must be a path string", k)
			}
			if c.valPath, err = parsePath(s); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			return c, nil
		}
		if err := checkOperand(name, v); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		c.value = v
		if name == "StringMatches" {
			c.pattern = v.(string)
		}
		return c, nil
	}
	return nil, fmt.Errorf("a Choice rule with Variable %q needs a comparator", vs)
}

func checkOperand(op string, v any) error {
	switch {
	case strings.HasPrefix(op, "Is"), op == "BooleanEquals":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be a boolean")
		}
	case strings.HasPrefix(op, "String"):
		if _, ok := v.(string); !ok {
			return fmt.Errorf("must be a string")
		}
	case strings.HasPrefix(op, "Numeric"):
		if _, ok := toFloat(v); !ok {
			return fmt.Errorf("must be a number")
		}
	case strings.HasPrefix(op, "Timestamp"):
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a timestamp string")
		}
		if _, ok := parseTimestamp(s); !ok {
			return fmt.Errorf("%q is not an RFC 3339 timestamp", s)
		}
	}
	return nil
}

func compileList(v any, name string, build func([]condition) condition) (condition, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s must be a non-empty array of rules", name)
	}
	var cs []condition
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s must hold rule objects", name)
		}
		c, err := compileCondition(m)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return build(cs), nil
}

func (c condAnd) match(in any, cx roots) (bool, error) {
	for _, s := range c {
		ok, err := s.match(in, cx)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (c condOr) match(in any, cx roots) (bool, error) {
	for _, s := range c {
		ok, err := s.match(in, cx)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (c condNot) match(in any, cx roots) (bool, error) {
	ok, err := c.c.match(in, cx)
	return !ok && err == nil, err
}

func (c *condCompare) match(in any, cx roots) (bool, error) {
	v, found := c.variable.resolve(in, cx)
	if c.op == "IsPresent" {
		return found == c.value.(bool), nil
	}
	if !found {
		return false, fmt.Errorf("Invalid path '%s': The choice state's condition path references an invalid value.", c.variable.text)
	}
	want := c.value
	if c.valPath != nil {
		w, ok := c.valPath.resolve(in, cx)
		if !ok {
			return false, fmt.Errorf("Invalid path '%s': The choice state's condition path references an invalid value.", c.valPath.text)
		}
		want = w
	}
	switch c.op {
	case "IsNull":
		return (v == nil) == want.(bool), nil
	case "IsNumeric":
		_, isNum := v.(json.Number)
		return isNum == want.(bool), nil
	case "IsString":
		_, isStr := v.(string)
		return isStr == want.(bool), nil
	case "IsBoolean":
		_, isBool := v.(bool)
		return isBool == want.(bool), nil
	case "IsTimestamp":
		s, isStr := v.(string)
		_, isTS := parseTimestamp(s)
		return (isStr && isTS) == want.(bool), nil
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b, nil
	case "StringMatches":
		s, ok := v.(string)
		return ok && wildcardMatch(c.pattern, s), nil
	}
	switch {
	case strings.HasPrefix(c.op, "String"):
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOp(strings.TrimPrefix(c.op, "String"), strings.Compare(a, b)), nil
	case strings.HasPrefix(c.op, "Numeric"):
		if _, ok := v.(json.Number); !ok {
			return false, nil
		}
		a, ok1 := toFloat(v)
		b, ok2 := toFloat(want)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOp(strings.TrimPrefix(c.op, "Numeric"), cmpFloat(a, b)), nil
	case strings.HasPrefix(c.op, "Timestamp"):
		as, ok1 := v.(string)
		bs, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOp(strings.TrimPrefix(c.op, "Timestamp"), a.Compare(b)), nil
	}
	return false, fmt.Errorf("unknown comparator %s", c.op)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareOp(op string, cmp int) bool {
	switch op {
	case "Equals":
		return cmp == 0
	case "LessThan":
		return cmp < 0
	case "GreaterThan":
		return cmp > 0
	case "LessThanEquals":
		return cmp <= 0
	case "GreaterThanEquals":
		return cmp >= 0
	}
	return false
}

// parseTimestamp accepts RFC 3339 timestamps as Step Functions does.
func parseTimestamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// wildcardMatch implements StringMatches: * matches any run of characters,
// \* a literal star and \\ a literal backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		ch   byte
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, tok{ch: pattern[i]})
		case pattern[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{ch: pattern[i]})
		}
	}
	// Iterative matching with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].ch == s[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			ti, si = starT+1, starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
