package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Condition is a Choice rule's test: a comparator applied to Variable, or an
// And/Or/Not combination. Build one with the typed constructors
// (StringEquals, NumericGreaterThanPath, IsPresent, And, ...).
type Condition struct {
	Variable string
	// Op is the comparator's name, e.g. "StringEquals"; "" for And/Or/Not.
	Op string
	// Value is a string (strings, timestamps, and every *Path comparator's
	// path), a float64 or a bool.
	Value any
	And   []Condition
	Or    []Condition
	Not   *Condition
	// Expr is a JSONata state's rule: a "{% … %}" expression (or a JSON
	// boolean written as a string) emitted as the rule's Condition field.
	Expr string
}

// ChoiceRule is a top-level entry of a Choice state: a condition and where to go.
type ChoiceRule struct {
	Condition
	Next    string
	Comment string
	// Assign sets variables when this rule matches; Output (JSONata
	// states) replaces the state's output.
	Assign map[string]any
	Output any
}

// operand says what a comparator's value must be.
type operand int

const (
	opString operand = iota
	opNumber
	opBool
	opTimestamp
	opPath
)

// comparatorOperand returns the operand kind of a comparator name, and false
// for an unknown name. The 39 comparators of the JSONPath query language.
func comparatorOperand(op string) (operand, bool) {
	switch op {
	case "StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals",
		"StringGreaterThanEquals", "StringMatches":
		return opString, true
	case "NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals",
		"NumericGreaterThanEquals":
		return opNumber, true
	case "BooleanEquals", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp":
		return opBool, true
	case "TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals",
		"TimestampGreaterThanEquals":
		return opTimestamp, true
	case "StringEqualsPath", "StringLessThanPath", "StringGreaterThanPath", "StringLessThanEqualsPath",
		"StringGreaterThanEqualsPath", "NumericEqualsPath", "NumericLessThanPath",
		"NumericGreaterThanPath", "NumericLessThanEqualsPath", "NumericGreaterThanEqualsPath",
		"BooleanEqualsPath", "TimestampEqualsPath", "TimestampLessThanPath",
		"TimestampGreaterThanPath", "TimestampLessThanEqualsPath", "TimestampGreaterThanEqualsPath":
		return opPath, true
	}
	return 0, false
}

// Comparators returns the names of all 39 comparators, in a fixed order.
func Comparators() []string {
	var out []string
	for _, base := range []string{"String", "Numeric", "Timestamp"} {
		for _, rel := range []string{"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"} {
			out = append(out, base+rel, base+rel+"Path")
		}
	}
	return append(out, "StringMatches", "BooleanEquals", "BooleanEqualsPath",
		"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
}

func cmp(variable, op string, v any) Condition {
	return Condition{Variable: variable, Op: op, Value: v}
}

// StringEquals tests variable == value.
func StringEquals(variable, value string) Condition { return cmp(variable, "StringEquals", value) }

// StringLessThan tests variable < value.
func StringLessThan(variable, value string) Condition { return cmp(variable, "StringLessThan", value) }

// StringGreaterThan tests variable > value.
func StringGreaterThan(variable, value string) Condition {
	return cmp(variable, "StringGreaterThan", value)
}

// StringLessThanEquals tests variable <= value.
func StringLessThanEquals(variable, value string) Condition {
	return cmp(variable, "StringLessThanEquals", value)
}

// StringGreaterThanEquals tests variable >= value.
func StringGreaterThanEquals(variable, value string) Condition {
	return cmp(variable, "StringGreaterThanEquals", value)
}

// StringMatches tests variable against a pattern where * matches any run of
// characters (escape * and \ with \).
func StringMatches(variable, pattern string) Condition {
	return cmp(variable, "StringMatches", pattern)
}

// NumericEquals tests variable == value.
func NumericEquals(variable string, value float64) Condition {
	return cmp(variable, "NumericEquals", value)
}

// NumericLessThan tests variable < value.
func NumericLessThan(variable string, value float64) Condition {
	return cmp(variable, "NumericLessThan", value)
}

// NumericGreaterThan tests variable > value.
func NumericGreaterThan(variable string, value float64) Condition {
	return cmp(variable, "NumericGreaterThan", value)
}

// NumericLessThanEquals tests variable <= value.
func NumericLessThanEquals(variable string, value float64) Condition {
	return cmp(variable, "NumericLessThanEquals", value)
}

// NumericGreaterThanEquals tests variable >= value.
func NumericGreaterThanEquals(variable string, value float64) Condition {
	return cmp(variable, "NumericGreaterThanEquals", value)
}

// BooleanEquals tests variable == value.
func BooleanEquals(variable string, value bool) Condition {
	return cmp(variable, "BooleanEquals", value)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TimestampEquals tests variable == t.
func TimestampEquals(variable string, t time.Time) Condition {
	return cmp(variable, "TimestampEquals", ts(t))
}

// TimestampLessThan tests variable < t.
func TimestampLessThan(variable string, t time.Time) Condition {
	return cmp(variable, "TimestampLessThan", ts(t))
}

// TimestampGreaterThan tests variable > t.
func TimestampGreaterThan(variable string, t time.Time) Condition {
	return cmp(variable, "TimestampGreaterThan", ts(t))
}

// TimestampLessThanEquals tests variable <= t.
func TimestampLessThanEquals(variable string, t time.Time) Condition {
	return cmp(variable, "TimestampLessThanEquals", ts(t))
}

// TimestampGreaterThanEquals tests variable >= t.
func TimestampGreaterThanEquals(variable string, t time.Time) Condition {
	return cmp(variable, "TimestampGreaterThanEquals", ts(t))
}

// ComparePath compares variable with the value at path using one of the 16
// *Path comparators, e.g. ComparePath("$.a", "NumericLessThanPath", "$.b").
// The comparator name is checked when the machine is built.
func ComparePath(variable, comparator, path string) Condition { return cmp(variable, comparator, path) }

// StringEqualsPath tests variable == the string at path.
func StringEqualsPath(variable, path string) Condition {
	return cmp(variable, "StringEqualsPath", path)
}

// StringLessThanPath tests variable < the string at path.
func StringLessThanPath(variable, path string) Condition {
	return cmp(variable, "StringLessThanPath", path)
}

// StringGreaterThanPath tests variable > the string at path.
func StringGreaterThanPath(variable, path string) Condition {
	return cmp(variable, "StringGreaterThanPath", path)
}

// StringLessThanEqualsPath tests variable <= the string at path.
func StringLessThanEqualsPath(variable, path string) Condition {
	return cmp(variable, "StringLessThanEqualsPath", path)
}

// StringGreaterThanEqualsPath tests variable >= the string at path.
func StringGreaterThanEqualsPath(variable, path string) Condition {
	return cmp(variable, "StringGreaterThanEqualsPath", path)
}

// NumericEqualsPath tests variable == the number at path.
func NumericEqualsPath(variable, path string) Condition {
	return cmp(variable, "NumericEqualsPath", path)
}

// NumericLessThanPath tests variable < the number at path.
func NumericLessThanPath(variable, path string) Condition {
	return cmp(variable, "NumericLessThanPath", path)
}

// NumericGreaterThanPath tests variable > the number at path.
func NumericGreaterThanPath(variable, path string) Condition {
	return cmp(variable, "NumericGreaterThanPath", path)
}

// NumericLessThanEqualsPath tests variable <= the number at path.
func NumericLessThanEqualsPath(variable, path string) Condition {
	return cmp(variable, "NumericLessThanEqualsPath", path)
}

// NumericGreaterThanEqualsPath tests variable >= the number at path.
func NumericGreaterThanEqualsPath(variable, path string) Condition {
	return cmp(variable, "NumericGreaterThanEqualsPath", path)
}

// TimestampEqualsPath tests variable == the timestamp at path.
func TimestampEqualsPath(variable, path string) Condition {
	return cmp(variable, "TimestampEqualsPath", path)
}

// TimestampLessThanPath tests variable < the timestamp at path.
func TimestampLessThanPath(variable, path string) Condition {
	return cmp(variable, "TimestampLessThanPath", path)
}

// TimestampGreaterThanPath tests variable > the timestamp at path.
func TimestampGreaterThanPath(variable, path string) Condition {
	return cmp(variable, "TimestampGreaterThanPath", path)
}

// TimestampLessThanEqualsPath tests variable <= the timestamp at path.
func TimestampLessThanEqualsPath(variable, path string) Condition {
	return cmp(variable, "TimestampLessThanEqualsPath", path)
}

// TimestampGreaterThanEqualsPath tests variable >= the timestamp at path.
func TimestampGreaterThanEqualsPath(variable, path string) Condition {
	return cmp(variable, "TimestampGreaterThanEqualsPath", path)
}

// BooleanEqualsPath tests variable == the boolean at path.
func BooleanEqualsPath(variable, path string) Condition {
	return cmp(variable, "BooleanEqualsPath", path)
}

// IsNull tests whether variable is (want=true) or is not null.
func IsNull(variable string, want bool) Condition { return cmp(variable, "IsNull", want) }

// IsPresent tests whether variable exists (want=true) or not.
func IsPresent(variable string, want bool) Condition { return cmp(variable, "IsPresent", want) }

// IsNumeric tests whether variable is a number.
func IsNumeric(variable string, want bool) Condition { return cmp(variable, "IsNumeric", want) }

// IsString tests whether variable is a string.
func IsString(variable string, want bool) Condition { return cmp(variable, "IsString", want) }

// IsBoolean tests whether variable is a boolean.
func IsBoolean(variable string, want bool) Condition { return cmp(variable, "IsBoolean", want) }

// IsTimestamp tests whether variable is an RFC 3339 timestamp string.
func IsTimestamp(variable string, want bool) Condition { return cmp(variable, "IsTimestamp", want) }

// And is true when every condition is.
func And(cs ...Condition) Condition { return Condition{And: cs} }

// Or is true when any condition is.
func Or(cs ...Condition) Condition { return Condition{Or: cs} }

// Not negates c.
func Not(c Condition) Condition { return Condition{Not: &c} }

// Cond is a JSONata state's Choice rule: holds when the "{% … %}"
// expression evaluates to true, e.g. Cond("{% $states.input.n > 1 %}").
func Cond(expr string) Condition { return Condition{Expr: expr} }

// MarshalJSON writes the condition's fields in a fixed order.
func (c Condition) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if err := c.writeFields(&b); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (c Condition) writeFields(b *bytes.Buffer) error {
	first := true
	field := func(k string, v any) error {
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("choice field %s: %w", k, err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(b, "%q:", k)
		b.Write(enc)
		return nil
	}
	if c.Expr != "" {
		if err := field("Condition", c.Expr); err != nil {
			return err
		}
	}
	if c.Variable != "" {
		if err := field("Variable", c.Variable); err != nil {
			return err
		}
	}
	if c.Op != "" {
		if err := field(c.Op, c.Value); err != nil {
			return err
		}
	}
	if c.And != nil {
		if err := field("And", c.And); err != nil {
			return err
		}
	}
	if c.Or != nil {
		if err := field("Or", c.Or); err != nil {
			return err
		}
	}
	if c.Not != nil {
		if err := field("Not", c.Not); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON writes the rule: the condition's fields, then Next and Comment.
func (r ChoiceRule) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if err := r.Condition.writeFields(&b); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		k   string
		v   any
		set bool
	}{{"Assign", r.Assign, len(r.Assign) > 0}, {"Output", r.Output, r.Output != nil}} {
		if !f.set {
			continue
		}
		enc, err := json.Marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("choice rule %s: %w", f.k, err)
		}
		b.WriteString(`,"` + f.k + `":`)
		b.Write(enc)
	}
	next, _ := json.Marshal(r.Next)
	b.WriteString(`,"Next":`)
	b.Write(next)
	if r.Comment != "" {
		c, _ := json.Marshal(r.Comment)
		b.WriteString(`,"Comment":`)
		b.Write(c)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeCondition reads a condition object, reporting every problem under at.
func decodeCondition(raw json.RawMessage, at string, top bool, probs *problems) (Condition, string, string) {
	r := decodeRule(raw, at, top, probs)
	return r.Condition, r.Next, r.Comment
}

// decodeRule reads a choice rule (top) or a nested condition.
func decodeRule(raw json.RawMessage, at string, top bool, probs *problems) ChoiceRule {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		probs.add(at, "choice rule must be an object: %v", err)
		return ChoiceRule{}
	}
	var c Condition
	var next, comment string
	var rule ChoiceRule
	for k, v := range fields {
		switch k {
		case "Condition", "Assign", "Output":
			if !top {
				probs.add(at, "%s is only allowed in a top-level choice rule", k)
				continue
			}
			var err error
			switch k {
			case "Condition":
				var b bool
				if err = json.Unmarshal(v, &c.Expr); err != nil && json.Unmarshal(v, &b) == nil {
					c.Expr, err = strconv.FormatBool(b), nil
				}
			case "Assign":
				err = json.Unmarshal(v, &rule.Assign)
			default:
				err = json.Unmarshal(v, &rule.Output)
			}
			if err != nil {
				probs.add(at, "%s: %v", k, err)
			}
		case "Variable":
			if err := json.Unmarshal(v, &c.Variable); err != nil {
				probs.add(at, "Variable must be a string")
			}
		case "Next":
			if !top {
				probs.add(at, "Next is only allowed in a top-level choice rule")
			}
			if err := json.Unmarshal(v, &next); err != nil {
				probs.add(at, "Next must be a string")
			}
		case "Comment":
			_ = json.Unmarshal(v, &comment)
		case "And", "Or":
			var subs []json.RawMessage
			if err := json.Unmarshal(v, &subs); err != nil {
				probs.add(at, "%s must be an array of rules", k)
				continue
			}
			list := []Condition{}
			for i, s := range subs {
				sc, _, _ := decodeCondition(s, fmt.Sprintf("%s.%s[%d]", at, k, i), false, probs)
				list = append(list, sc)
			}
			if k == "And" {
				c.And = list
			} else {
				c.Or = list
			}
		case "Not":
			sc, _, _ := decodeCondition(v, at+".Not", false, probs)
			c.Not = &sc
		default:
			kind, ok := comparatorOperand(k)
			if !ok {
				probs.add(at, "unknown field %q in choice rule", k)
				continue
			}
			if c.Op != "" {
				probs.add(at, "choice rule has two comparators (%s and %s)", c.Op, k)
				continue
			}
			c.Op = k
			var val any
			if err := json.Unmarshal(v, &val); err != nil {
				probs.add(at, "%s: %v", k, err)
				continue
			}
			c.Value = val
			_ = kind
		}
	}
	rule.Condition, rule.Next, rule.Comment = c, next, comment
	return rule
}
