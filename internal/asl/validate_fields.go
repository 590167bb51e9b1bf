package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func (v *validator) retryCatch(at where, retry []Retrier, catch []Catcher) {
	errs := func(p where, list []string, last bool) {
		if len(list) == 0 {
			v.add(p, "ErrorEquals must not be empty")
		}
		for _, e := range list {
			if e == "States.ALL" && (len(list) > 1 || !last) {
				v.add(p, "States.ALL must appear alone and in the last entry")
			}
		}
	}
	for i, r := range retry {
		p := at.sub(fmt.Sprintf(".Retry[%d]", i))
		errs(p, r.ErrorEquals, i == len(retry)-1)
		if r.IntervalSeconds < 0 {
			v.add(p, "IntervalSeconds must be positive")
		}
		if r.MaxAttempts != nil && *r.MaxAttempts < 0 {
			v.add(p, "MaxAttempts must not be negative")
		}
		if r.BackoffRate != 0 && r.BackoffRate < 1 {
			v.add(p, "BackoffRate must be at least 1.0")
		}
		if r.MaxDelaySeconds < 0 {
			v.add(p, "MaxDelaySeconds must be positive")
		}
		if r.JitterStrategy != "" && r.JitterStrategy != "FULL" && r.JitterStrategy != "NONE" {
			v.add(p, "JitterStrategy must be FULL or NONE, not %q", r.JitterStrategy)
		}
	}
	for i, c := range catch {
		p := at.sub(fmt.Sprintf(".Catch[%d]", i))
		errs(p, c.ErrorEquals, i == len(catch)-1)
		if c.Next == "" {
			v.add(p, "missing Next")
		}
		v.optPath(p, "ResultPath", c.ResultPath, referencePath, false)
	}
}

func (v *validator) condition(at where, c Condition) {
	nested := 0
	if c.And != nil {
		nested++
		if len(c.And) == 0 {
			v.add(at, "And needs at least one rule")
		}
		for i, s := range c.And {
			v.condition(at.sub(fmt.Sprintf(".And[%d]", i)), s)
		}
	}
	if c.Or != nil {
		nested++
		if len(c.Or) == 0 {
			v.add(at, "Or needs at least one rule")
		}
		for i, s := range c.Or {
			v.condition(at.sub(fmt.Sprintf(".Or[%d]", i)), s)
		}
	}
	if c.Not != nil {
		nested++
		v.condition(at.sub(".Not"), *c.Not)
	}
	if c.Op == "" {
		if nested != 1 {
			v.add(at, "a rule needs exactly one comparator, And, Or or Not")
		}
		return
	}
	if nested > 0 {
		v.add(at, "a rule cannot combine %s with And/Or/Not", c.Op)
	}
	kind, ok := comparatorOperand(c.Op)
	if !ok {
		v.add(at, "unknown comparator %q", c.Op)
		return
	}
	if c.Variable == "" {
		v.add(at, "%s needs a Variable", c.Op)
	} else if err := checkPath(c.Variable, referencePath, true); err != nil {
		v.add(at, "Variable: %v", err)
	}
	switch kind {
	case opString:
		if _, ok := c.Value.(string); !ok {
			v.add(at, "%s needs a string, not %s", c.Op, jsonKind(c.Value))
		}
	case opNumber:
		if _, ok := c.Value.(float64); !ok {
			v.add(at, "%s needs a number, not %s", c.Op, jsonKind(c.Value))
		}
	case opBool:
		if _, ok := c.Value.(bool); !ok {
			v.add(at, "%s needs a boolean, not %s", c.Op, jsonKind(c.Value))
		}
	case opTimestamp:
		s, ok := c.Value.(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			v.add(at, "%s needs an RFC 3339 timestamp, not %v", c.Op, c.Value)
		}
	case opPath:
		s, ok := c.Value.(string)
		if !ok {
			v.add(at, "%s needs a path string, not %s", c.Op, jsonKind(c.Value))
		} else if err := checkPath(s, referencePath, true); err != nil {
			v.add(at, "%s: %v", c.Op, err)
		}
	}
}

func jsonKind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", x)
}

func (v *validator) optPath(at where, field string, p Path, kind pathKind, ctx bool) {
	if p.IsZero() || p.IsNull() {
		return
	}
	if err := checkPath(p.Expr(), kind, ctx); err != nil {
		v.add(at, "%s: %v", field, err)
	}
}

func (v *validator) refPath(at where, field, p string) {
	if p == "" {
		return
	}
	if err := checkPath(p, referencePath, true); err != nil {
		v.add(at, "%s: %v", field, err)
	}
}

func (v *validator) pathOrIntrinsic(at where, field, p string) {
	if p == "" {
		return
	}
	var err error
	if strings.HasPrefix(p, "States.") {
		err = checkIntrinsic(p)
	} else {
		err = checkPath(p, referencePath, true)
	}
	if err != nil {
		v.add(at, "%s: %v", field, err)
	}
}

// template checks a payload template (Parameters, ResultSelector,
// ItemSelector): every "key.$" must hold a path or an intrinsic function.
// Field paths are built only for nested values and for problems: most keys
// are plain leaves, and this runs for every state of every compile.
func (v *validator) template(at where, t any) {
	switch x := t.(type) {
	case map[string]any:
		for k, val := range x {
			if !strings.HasSuffix(k, ".$") {
				switch val.(type) {
				case map[string]any, []any:
					v.template(at.sub("."+k), val)
				case nil, string, float64, bool, int, json.Number:
				default:
					v.template(at.sub("."+k), val)
				}
				continue
			}
			s, ok := val.(string)
			switch {
			case !ok:
				v.add(at.sub("."+k), "a .$ field must hold a path or intrinsic function string, not %s", jsonKind(val))
			case strings.HasPrefix(s, "States."):
				if err := checkIntrinsic(s); err != nil {
					v.add(at.sub("."+k), "%v", err)
				}
			default:
				if err := checkPath(s, jsonPath, true); err != nil {
					v.add(at.sub("."+k), "%v", err)
				}
			}
		}
	case []any:
		for i, val := range x {
			v.template(at.sub(fmt.Sprintf("[%d]", i)), val)
		}
	case nil, string, float64, bool, int, json.Number:
	default:
		// Builder users may pass typed Go values; check them in their JSON form.
		b, err := json.Marshal(x)
		if err != nil {
			v.add(at, "cannot encode: %v", err)
			return
		}
		var generic any
		if err := json.Unmarshal(b, &generic); err == nil {
			v.template(at, generic)
		}
	}
}

func mentionsTaskToken(t any) bool { return mentions(t, "$$.Task.Token") }

// mentions reports whether the JSON encoding of t contains s.
func mentions(t any, s string) bool {
	b, err := json.Marshal(t)
	return err == nil && strings.Contains(string(b), s)
}
