package jsonata

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// conformanceCase is the part of a recorded AWS execution this test reads.
type conformanceCase struct {
	Name       string         `json:"name"`
	Definition map[string]any `json:"definition"`
	Input      any            `json:"input"`
	Expect     struct {
		Status string `json:"status"`
		Output any    `json:"output"`
		Error  any    `json:"error"`
		Cause  any    `json:"cause"`
	} `json:"expect"`
}

// jsonataExpression returns the expression inside "{% … %}", if s is one.
func jsonataExpression(s string) (string, bool) {
	if strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") && len(s) >= 4 {
		return strings.TrimSpace(s[2 : len(s)-2]), true
	}
	return "", false
}

// collectExpressions finds every {% … %} string in a definition.
func collectExpressions(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		if e, ok := jsonataExpression(x); ok {
			*out = append(*out, e)
		}
	case []any:
		for _, it := range x {
			collectExpressions(it, out)
		}
	case map[string]any:
		for _, it := range x {
			collectExpressions(it, out)
		}
	}
}

// miniRun walks the JSONata states of a recorded case (Pass, Choice, Fail,
// and Map whose processor only passes items through) far enough to derive
// what AWS recorded. It is a test oracle for the expressions, not an
// executor: JSONPath states pass their input through unchanged, which holds
// for the recorded cases it is used on.
type miniRun struct {
	vars map[string]any
}

// outcome is what miniRun derived: an output, or a failure's error and cause.
type outcome struct {
	failed       bool
	output       any
	error, cause any
	evalErr      error // a JSONata error or an unexpected result
}

func (r *miniRun) template(v any, input any) (any, error) {
	switch x := v.(type) {
	case string:
		expr, ok := jsonataExpression(x)
		if !ok {
			return x, nil
		}
		e, err := Compile(expr, AWSFunctions())
		if err != nil {
			return nil, err
		}
		vars := map[string]any{"states": map[string]any{"input": input}}
		for k, val := range r.vars {
			vars[k] = val
		}
		return e.Eval(nil, vars)
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			val, err := r.template(it, input)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			val, err := r.template(it, input)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	}
	return v, nil
}

func (r *miniRun) run(def map[string]any, input any) outcome {
	states := def["States"].(map[string]any)
	name := def["StartAt"].(string)
	for step := 0; step < 20; step++ {
		st := states[name].(map[string]any)
		jsonata := st["QueryLanguage"] == "JSONata" || (st["QueryLanguage"] == nil && def["QueryLanguage"] == "JSONata")
		if !jsonata {
			if st["Type"] != "Pass" {
				return outcome{evalErr: fmt.Errorf("state %s: only JSONPath Pass states are walked", name)}
			}
		} else {
			if assign, ok := st["Assign"].(map[string]any); ok {
				newVars := map[string]any{}
				for k, v := range assign {
					val, err := r.template(v, input)
					if err != nil {
						return outcome{evalErr: err}
					}
					newVars[k] = val
				}
				for k, v := range newVars {
					r.vars[k] = v
				}
			}
			switch st["Type"] {
			case "Pass":
				if out, ok := st["Output"]; ok {
					val, err := r.template(out, input)
					if err != nil {
						return outcome{evalErr: err}
					}
					input = val
				}
			case "Fail":
				var o outcome
				o.failed = true
				var err error
				if o.error, err = r.template(st["Error"], input); err != nil {
					return outcome{evalErr: err}
				}
				if o.cause, err = r.template(st["Cause"], input); err != nil {
					return outcome{evalErr: err}
				}
				return o
			case "Choice":
				next, _ := st["Default"].(string)
				for _, c := range st["Choices"].([]any) {
					choice := c.(map[string]any)
					v, err := r.template(choice["Condition"], input)
					if err != nil {
						return outcome{evalErr: err}
					}
					if b, ok := v.(bool); ok && b {
						next = choice["Next"].(string)
						break
					}
				}
				name = next
				continue
			case "Map":
				var items any = input
				if it, ok := st["Items"]; ok {
					v, err := r.template(it, input)
					if err != nil {
						return outcome{evalErr: err}
					}
					items = v
				}
				if _, ok := items.([]any); !ok {
					return outcome{evalErr: fmt.Errorf("Items returned an unexpected result type. Expected 'array', but was %q", typeName(items))}
				}
				input = items
			}
		}
		if end, _ := st["End"].(bool); end {
			return outcome{output: input}
		}
		name = st["Next"].(string)
	}
	return outcome{evalErr: errors.New("too many steps")}
}

// TestConformanceJSONataCases runs the JSONata expressions of the recorded
// AWS cases: every one must compile (with AWS's functions), and where the
// case's outcome follows from the expressions alone, miniRun must derive
// AWS's recorded output, error or cause.
func TestConformanceJSONataCases(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	derived := 0
	withJSONata := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "{%") {
			continue
		}
		withJSONata++
		var c conformanceCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			var exprs []string
			collectExpressions(c.Definition, &exprs)
			for _, e := range exprs {
				if _, err := Compile(e, AWSFunctions()); err != nil {
					t.Errorf("compile %q: %v", e, err)
				}
			}
			if isJSONPathOnly(c.Definition) {
				// {% %} strings in JSONPath states are literals; AWS's output
				// does not depend on them.
				return
			}
			r := &miniRun{vars: map[string]any{}}
			got := r.run(c.Definition, c.Input)
			derived++
			switch {
			case c.Expect.Status == "SUCCEEDED":
				if got.evalErr != nil || got.failed {
					t.Fatalf("AWS succeeded with %v; we got %+v", c.Expect.Output, got)
				}
				if !reflect.DeepEqual(canonical(got.output), canonical(c.Expect.Output)) {
					t.Errorf("output %v, AWS recorded %v", got.output, c.Expect.Output)
				}
			case c.Expect.Error == "States.QueryEvaluationError":
				if got.evalErr == nil {
					t.Fatalf("AWS failed with %v; we got %+v", c.Expect.Cause, got)
				}
				cause, _ := c.Expect.Cause.(string)
				if strings.Contains(cause, "returned nothing (undefined)") && !errors.Is(got.evalErr, ErrUndefined) {
					t.Errorf("AWS reports undefined; we got %v", got.evalErr)
				}
				if strings.Contains(cause, "Expected 'array'") && !strings.Contains(got.evalErr.Error(), "Expected 'array'") {
					t.Errorf("AWS reports a non-array; we got %v", got.evalErr)
				}
			default:
				if !got.failed {
					t.Fatalf("AWS failed with %v/%v; we got %+v", c.Expect.Error, c.Expect.Cause, got)
				}
				if c.Expect.Error != nil && got.error != c.Expect.Error {
					t.Errorf("error %v, AWS recorded %v", got.error, c.Expect.Error)
				}
				if c.Expect.Cause != nil && got.cause != c.Expect.Cause {
					t.Errorf("cause %v, AWS recorded %v", got.cause, c.Expect.Cause)
				}
			}
		})
	}
	if withJSONata < 20 {
		t.Errorf("found %d cases with JSONata expressions, want the recorded set (23+)", withJSONata)
	}
	t.Logf("%d cases with JSONata expressions, %d outcomes derived", withJSONata, derived)
}

func isJSONPathOnly(def map[string]any) bool {
	if def["QueryLanguage"] == "JSONata" {
		return false
	}
	for _, s := range def["States"].(map[string]any) {
		if s.(map[string]any)["QueryLanguage"] == "JSONata" {
			return false
		}
	}
	return true
}
