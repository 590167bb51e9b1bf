package localsfn

import (
	"fmt"
	"slices"
	"strings"
)

func parseTask(st *State, m map[string]any) error {
	st.Resource, _ = m["Resource"].(string)
	if st.Resource == "" {
		return fmt.Errorf("Resource is required")
	}
	var err error
	if st.TimeoutSeconds, _, err = optInt(m, "TimeoutSeconds", 1); err != nil {
		return err
	}
	if st.HeartbeatSeconds, _, err = optInt(m, "HeartbeatSeconds", 1); err != nil {
		return err
	}
	if st.TimeoutSeconds > 0 && st.HeartbeatSeconds >= st.TimeoutSeconds {
		return fmt.Errorf("HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	if st.timeoutPath, err = optPath(m, "TimeoutSecondsPath"); err != nil {
		return err
	}
	st.heartbeatPath, err = optPath(m, "HeartbeatSecondsPath")
	return err
}

func parseChoice(st *State, m map[string]any) error {
	st.Default, _ = m["Default"].(string)
	list, ok := m["Choices"].([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("Choices must be a non-empty array")
	}
	for i, e := range list {
		rm, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("Choices[%d] must be an object", i)
		}
		next, _ := rm["Next"].(string)
		if next == "" {
			return fmt.Errorf("Choices[%d] needs Next", i)
		}
		rule := choiceRule{next: next}
		var err error
		if st.jsonata {
			cond, ok := rm["Condition"]
			if !ok {
				return fmt.Errorf("Choices[%d] needs Condition", i)
			}
			t, err := compileJTemplate(cond, "Condition")
			if err != nil {
				return fmt.Errorf("Choices[%d]: %w", i, err)
			}
			rule.cond = jsonataCondition{t}
			if o, ok := rm["Output"]; ok {
				if rule.output, err = compileJTemplate(o, "Output"); err != nil {
					return fmt.Errorf("Choices[%d]: %w", i, err)
				}
			}
		} else if rule.cond, err = compileCondition(rm); err != nil {
			return fmt.Errorf("Choices[%d]: %w", i, err)
		}
		if a, ok := rm["Assign"]; ok {
			if rule.assign, err = compileAssign(a, st.jsonata); err != nil {
				return fmt.Errorf("Choices[%d]: %w", i, err)
			}
		}
		st.choices = append(st.choices, rule)
	}
	return nil
}

func parseWait(st *State, m map[string]any) error {
	n := 0
	if v, ok := m["Seconds"]; ok {
		s, ok := toInt(v)
		if !ok || s < 0 {
			return fmt.Errorf("Seconds must be a non-negative integer")
		}
		st.seconds = &s
		n++
	}
	if v, ok := m["Timestamp"]; ok {
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return fmt.Errorf("Timestamp must be an RFC 3339 timestamp, got %s", encodeJSON(v))
		}
		st.timestamp = &t
		n++
	}
	var err error
	if st.secondsPath, err = optPath(m, "SecondsPath"); err != nil {
		return err
	}
	if st.timestampPath, err = optPath(m, "TimestampPath"); err != nil {
		return err
	}
	if st.secondsPath != nil {
		n++
	}
	if st.timestampPath != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("exactly one of Seconds, Timestamp, SecondsPath and TimestampPath is required")
	}
	return nil
}

func parseFail(st *State, m map[string]any) error {
	for _, f := range []struct {
		key  string
		lit  *string
		has  *bool
		expr *dynString
	}{{"Error", &st.errorName, &st.hasError, &st.errorPath}, {"Cause", &st.cause, &st.hasCause, &st.causePath}} {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		if s, isStr := v.(string); isStr && st.jsonata {
			if _, isExpr := jsonataExpr(s); isExpr {
				t, err := compileJTemplate(s, f.key)
				if err != nil {
					return err
				}
				*f.expr = dynString{field: f.key, expr: t}
				continue
			}
		}
		*f.lit, *f.has = fmt.Sprint(v), true
	}
	for _, f := range []struct {
		key string
		dst *dynString
		has bool
	}{{"ErrorPath", &st.errorPath, st.hasError}, {"CausePath", &st.causePath, st.hasCause}} {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		if f.has {
			return fmt.Errorf("%s and %s cannot both be set", f.key, strings.TrimSuffix(f.key, "Path"))
		}
		s, _ := v.(string)
		f.dst.field = f.key
		var err error
		if isIntrinsic(s) {
			f.dst.call, err = parseIntrinsic(s)
		} else {
			f.dst.p, err = parsePath(s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
	}
	return nil
}

func parseParallel(st *State, m map[string]any, ql string) error {
	list, ok := m["Branches"].([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("Branches must be a non-empty array")
	}
	for i, b := range list {
		bm, ok := b.(map[string]any)
		if !ok {
			return fmt.Errorf("Branches[%d] must be an object", i)
		}
		mc, err := parseMachine(bm, ql)
		if err != nil {
			return fmt.Errorf("Branches[%d]: %w", i, err)
		}
		st.Branches = append(st.Branches, mc)
	}
	return nil
}

func parseMap(st *State, m map[string]any, ql string) error {
	proc, ok := m["ItemProcessor"].(map[string]any)
	if !ok {
		proc, ok = m["Iterator"].(map[string]any)
	}
	if !ok {
		return fmt.Errorf("ItemProcessor is required")
	}
	if _, ok := m["ItemReader"]; ok {
		return fmt.Errorf("ItemReader: %w", ErrUnsupported)
	}
	if cfg, ok := proc["ProcessorConfig"].(map[string]any); ok {
		st.distributed = cfg["Mode"] == "DISTRIBUTED"
	}
	st.label, _ = m["Label"].(string)
	var err error
	if st.Processor, err = parseMachine(proc, ql); err != nil {
		return fmt.Errorf("ItemProcessor: %w", err)
	}
	if st.MaxConcurrency, _, err = optInt(m, "MaxConcurrency", 0); err != nil {
		return err
	}
	if st.maxConcurrencyPath, err = optPath(m, "MaxConcurrencyPath"); err != nil {
		return err
	}
	st.toleratedCount, st.toleratedPercent = -1, -1
	if n, has, err := optInt(m, "ToleratedFailureCount", 0); err != nil {
		return err
	} else if has {
		st.toleratedCount, st.hasTolerance = n, true
	}
	if v, ok := m["ToleratedFailurePercentage"]; ok {
		f, ok := toFloat(v)
		if !ok || f < 0 || f > 100 {
			return fmt.Errorf("ToleratedFailurePercentage must be a number from 0 to 100")
		}
		st.toleratedPercent, st.hasTolerance = f, true
	}
	if st.toleratedCountPath, err = optPath(m, "ToleratedFailureCountPath"); err != nil {
		return err
	}
	if st.toleratedPercentPath, err = optPath(m, "ToleratedFailurePercentagePath"); err != nil {
		return err
	}
	if st.toleratedCountPath != nil || st.toleratedPercentPath != nil {
		st.hasTolerance = true
	}
	return nil
}

func errorEquals(m map[string]any, what string, i int) ([]string, error) {
	list, ok := m["ErrorEquals"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s[%d].ErrorEquals must be a non-empty array", what, i)
	}
	var out []string
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d].ErrorEquals must hold strings", what, i)
		}
		out = append(out, s)
	}
	if slices.Contains(out, ErrAll) && len(out) != 1 {
		return nil, fmt.Errorf("%s[%d]: States.ALL must appear alone in ErrorEquals", what, i)
	}
	return out, nil
}

func parseRetry(v any) ([]Retrier, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("Retry must be an array")
	}
	var out []Retrier
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Retry[%d] must be an object", i)
		}
		eq, err := errorEquals(m, "Retry", i)
		if err != nil {
			return nil, err
		}
		if slices.Contains(eq, ErrAll) && i != len(list)-1 {
			return nil, fmt.Errorf("Retry[%d]: a States.ALL retrier must be the last one", i)
		}
		r := Retrier{ErrorEquals: eq, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
		if x, ok := m["IntervalSeconds"]; ok {
			n, ok := toInt(x)
			if !ok || n < 1 {
				return nil, fmt.Errorf("Retry[%d].IntervalSeconds must be a positive integer", i)
			}
			r.IntervalSeconds = float64(n)
		}
		if x, ok := m["MaxAttempts"]; ok {
			n, ok := toInt(x)
			if !ok || n < 0 {
				return nil, fmt.Errorf("Retry[%d].MaxAttempts must be a non-negative integer", i)
			}
			r.MaxAttempts = n
		}
		if x, ok := m["BackoffRate"]; ok {
			f, ok := toFloat(x)
			if !ok || f < 1 {
				return nil, fmt.Errorf("Retry[%d].BackoffRate must be a number ≥ 1.0", i)
			}
			r.BackoffRate = f
		}
		if x, ok := m["MaxDelaySeconds"]; ok {
			n, ok := toInt(x)
			if !ok || n < 1 {
				return nil, fmt.Errorf("Retry[%d].MaxDelaySeconds must be a positive integer", i)
			}
			r.MaxDelaySeconds = float64(n)
		}
		if x, ok := m["JitterStrategy"]; ok {
			switch x {
			case "FULL":
				r.JitterFull = true
			case "NONE":
			default:
				return nil, fmt.Errorf("Retry[%d].JitterStrategy must be FULL or NONE", i)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func parseCatch(v any, jsonataState bool) ([]Catcher, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("Catch must be an array")
	}
	var out []Catcher
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Catch[%d] must be an object", i)
		}
		eq, err := errorEquals(m, "Catch", i)
		if err != nil {
			return nil, err
		}
		if slices.Contains(eq, ErrAll) && i != len(list)-1 {
			return nil, fmt.Errorf("Catch[%d]: a States.ALL catcher must be the last one", i)
		}
		c := Catcher{ErrorEquals: eq}
		c.Next, _ = m["Next"].(string)
		if c.Next == "" {
			return nil, fmt.Errorf("Catch[%d] needs Next", i)
		}
		if jsonataState {
			if _, ok := m["ResultPath"]; ok {
				return nil, fmt.Errorf("Catch[%d]: a JSONata state's catcher cannot have ResultPath (use Output)", i)
			}
			if o, ok := m["Output"]; ok {
				if c.output, err = compileJTemplate(o, "Output"); err != nil {
					return nil, fmt.Errorf("Catch[%d]: %w", i, err)
				}
			}
		} else if c.resultPath, err = compileResultPath(m); err != nil {
			return nil, fmt.Errorf("Catch[%d]: %w", i, err)
		}
		if a, ok := m["Assign"]; ok {
			if c.assign, err = compileAssign(a, jsonataState); err != nil {
				return nil, fmt.Errorf("Catch[%d]: %w", i, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func compileAssign(v any, jsonataState bool) (assigner, error) {
	if jsonataState {
		return compileJSONataAssign(v)
	}
	return compilePathAssign(v)
}

// parseJSONataWait reads a JSONata Wait state: Seconds and Timestamp may be
// literals or "{% %}" expressions.
func parseJSONataWait(st *State, m map[string]any) error {
	n := 0
	for _, key := range []string{"Seconds", "Timestamp"} {
		v, ok := m[key]
		if !ok {
			continue
		}
		n++
		if s, isStr := v.(string); isStr {
			if _, isExpr := jsonataExpr(s); isExpr {
				t, err := compileJTemplate(s, key)
				if err != nil {
					return err
				}
				if key == "Seconds" {
					st.secondsExpr = t
				} else {
					st.timestampExpr = t
				}
				continue
			}
		}
		if err := parseWait(st, map[string]any{key: v}); err != nil {
			return err
		}
	}
	if n != 1 {
		return fmt.Errorf("exactly one of Seconds and Timestamp is required")
	}
	return nil
}
