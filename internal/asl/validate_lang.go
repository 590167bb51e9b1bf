package asl

import (
	"fmt"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/jsonata"
)

// Query languages of a machine or a state (QueryLanguage).
const (
	// JSONPath is the default query language: InputPath, Parameters,
	// ResultSelector, ResultPath and OutputPath shape the data.
	JSONPath = "JSONPath"
	// JSONata states use Arguments and Output, and "{% … %}" expressions.
	JSONata = "JSONata"
)

// Expr wraps a JSONata expression in the "{% … %}" delimiters Step
// Functions expects: Expr("$states.input.n + 1") is "{% $states.input.n + 1 %}".
func Expr(jsonataExpression string) string { return "{% " + jsonataExpression + " %}" }

// exprBody returns the expression inside "{% … %}", if s is one.
func exprBody(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) < 4 || !strings.HasPrefix(t, "{%") || !strings.HasSuffix(t, "%}") {
		return "", false
	}
	return t[2 : len(t)-2], true
}

// langFields is what the query-language rules need to know of one state.
type langFields struct {
	ql       string
	pathOnly []string // JSONPath-only fields that are set
	ataOnly  []string // JSONata-only fields that are set
	exprs    []exprField
	assign   map[string]any
	catches  []Catcher
}

// exprField is a field whose strings may hold JSONata expressions; whole
// says the field must be one expression.
type exprField struct {
	name  string
	value any
	whole bool
}

func (f *langFields) path(name string, set bool) {
	if set {
		f.pathOnly = append(f.pathOnly, name)
	}
}

func (f *langFields) ata(name string, v any, whole bool) {
	set := v != nil
	if s, ok := v.(string); ok {
		set = s != ""
	}
	if set {
		f.ataOnly = append(f.ataOnly, name)
		f.exprs = append(f.exprs, exprField{name, v, whole})
	}
}

func (f *langFields) io(p IO) {
	f.path("InputPath", !p.InputPath.IsZero())
	f.path("OutputPath", !p.OutputPath.IsZero())
}

func fieldsOf(st State) langFields {
	var f langFields
	switch s := st.(type) {
	case *Task:
		f.ql, f.assign, f.catches = s.QueryLanguage, s.Assign, s.Catch
		f.io(s.IO)
		f.path("Parameters", s.Parameters != nil)
		f.path("ResultSelector", s.ResultSelector != nil)
		f.path("ResultPath", !s.ResultPath.IsZero())
		f.path("TimeoutSecondsPath", s.TimeoutSecondsPath != "")
		f.path("HeartbeatSecondsPath", s.HeartbeatSecondsPath != "")
		f.ata("Arguments", s.Arguments, false)
		f.ata("Output", s.Output, false)
		f.ata("TimeoutSeconds", s.TimeoutSecondsExpr, true)
		f.ata("HeartbeatSeconds", s.HeartbeatSecondsExpr, true)
	case *Pass:
		f.ql, f.assign = s.QueryLanguage, s.Assign
		f.io(s.IO)
		f.path("Parameters", s.Parameters != nil)
		f.path("Result", s.Result != nil)
		f.path("ResultPath", !s.ResultPath.IsZero())
		f.ata("Output", s.Output, false)
	case *Choice:
		f.ql, f.assign = s.QueryLanguage, s.Assign
		f.io(s.IO)
		f.ata("Output", s.Output, false)
		for i, r := range s.Choices {
			f.ata(fmt.Sprintf("Choices[%d].Condition", i), r.Expr, true)
			f.ata(fmt.Sprintf("Choices[%d].Output", i), r.Output, false)
		}
	case *Wait:
		f.ql, f.assign = s.QueryLanguage, s.Assign
		f.io(s.IO)
		f.path("SecondsPath", s.SecondsPath != "")
		f.path("TimestampPath", s.TimestampPath != "")
		f.ata("Seconds", s.SecondsExpr, true)
		f.ata("Output", s.Output, false)
		if _, ok := exprBody(s.Timestamp); ok {
			f.exprs = append(f.exprs, exprField{"Timestamp", s.Timestamp, true})
		}
	case *Succeed:
		f.ql = s.QueryLanguage
		f.io(s.IO)
		f.ata("Output", s.Output, false)
	case *Fail:
		f.ql = s.QueryLanguage
		f.path("ErrorPath", s.ErrorPath != "")
		f.path("CausePath", s.CausePath != "")
		f.exprs = append(f.exprs, exprField{"Error", s.Error, false}, exprField{"Cause", s.Cause, false})
	case *Parallel:
		f.ql, f.assign, f.catches = s.QueryLanguage, s.Assign, s.Catch
		f.io(s.IO)
		f.path("Parameters", s.Parameters != nil)
		f.path("ResultSelector", s.ResultSelector != nil)
		f.path("ResultPath", !s.ResultPath.IsZero())
		f.ata("Arguments", s.Arguments, false)
		f.ata("Output", s.Output, false)
	case *Map:
		f.ql, f.assign, f.catches = s.QueryLanguage, s.Assign, s.Catch
		f.io(s.IO)
		f.path("ItemsPath", !s.ItemsPath.IsZero())
		f.path("Parameters", s.Parameters != nil)
		f.path("ResultSelector", s.ResultSelector != nil)
		f.path("ResultPath", !s.ResultPath.IsZero())
		f.path("MaxConcurrencyPath", s.MaxConcurrencyPath != "")
		f.path("ToleratedFailureCountPath", s.ToleratedFailureCountPath != "")
		f.path("ToleratedFailurePercentagePath", s.ToleratedFailurePercentagePath != "")
		f.ata("Items", s.Items, false)
		f.ata("Output", s.Output, false)
		f.ata("MaxConcurrency", s.MaxConcurrencyExpr, true)
		f.ata("ToleratedFailureCount", s.ToleratedFailureCountExpr, true)
		f.ata("ToleratedFailurePercentage", s.ToleratedFailurePercentageExpr, true)
		f.exprs = append(f.exprs, exprField{"ItemSelector", s.ItemSelector, false})
	}
	return f
}

// stateLanguage is the query language st runs with inside a machine whose
// language is machine.
func stateLanguage(st State, machine string) string {
	if ql := fieldsOf(st).ql; ql != "" {
		return ql
	}
	return machine
}

// language checks the query-language rules of one state: its QueryLanguage,
// the fields its language allows, every JSONata expression (it must parse),
// and its Assign and Catch variables.
func (v *validator) language(at where, st State) {
	f := fieldsOf(st)
	switch f.ql {
	case "", JSONPath, JSONata:
	default:
		v.add(at, "QueryLanguage must be JSONPath or JSONata, not %q", f.ql)
	}
	if v.lang == JSONata && f.ql == JSONPath {
		v.add(at, "a JSONata machine cannot hold a JSONPath state (only a JSONPath machine may mix languages)")
	}
	lang := stateLanguage(st, v.lang)
	if lang == JSONata {
		for _, name := range f.pathOnly {
			v.add(at, "%s is a JSONPath field; a JSONata state uses Arguments, Output and {%% %%} expressions", name)
		}
		for _, e := range f.exprs {
			v.expressions(at.sub("."+e.name), e.value, e.whole)
		}
	} else {
		for _, name := range f.ataOnly {
			v.add(at, "%s needs QueryLanguage JSONata (on the state or the machine)", name)
		}
	}
	v.assign(at.sub(".Assign"), f.assign, lang)
	for i, c := range f.catches {
		p := at.sub(fmt.Sprintf(".Catch[%d]", i))
		v.assign(p.sub(".Assign"), c.Assign, lang)
		switch {
		case lang == JSONata && !c.ResultPath.IsZero():
			v.add(p, "ResultPath is a JSONPath field; a JSONata catcher uses Output")
		case lang == JSONata:
			v.expressions(p.sub(".Output"), c.Output, false)
		case c.Output != nil:
			v.add(p, "Output needs QueryLanguage JSONata (on the state or the machine)")
		}
	}
	if ch, ok := st.(*Choice); ok {
		for i, r := range ch.Choices {
			v.assign(at.sub(fmt.Sprintf(".Choices[%d].Assign", i)), r.Assign, lang)
			rp := at.sub(fmt.Sprintf(".Choices[%d]", i))
			jsonPathRule := r.Variable != "" || r.Op != "" || r.And != nil || r.Or != nil || r.Not != nil
			switch {
			case lang == JSONata && jsonPathRule:
				v.add(rp, "a JSONata choice rule tests a Condition expression, not Variable, comparators, And, Or or Not")
			case lang == JSONata && r.Expr == "":
				v.add(rp, "a JSONata choice rule needs a Condition")
			}
		}
	}
}

// assign checks an Assign object: names are valid variable names; values
// are JSONata expressions or, in JSONPath, a payload template.
func (v *validator) assign(at where, a map[string]any, lang string) {
	for _, k := range sortedKeys(a) {
		name := k
		if lang != JSONata {
			name = strings.TrimSuffix(k, ".$")
		}
		if err := checkVariableName(name); err != nil {
			v.add(at, "%v", err)
		}
	}
	if lang == JSONata {
		for _, k := range sortedKeys(a) {
			v.expressions(at.sub("."+k), a[k], false)
		}
		return
	}
	v.template(at, a)
}

// expressions compiles every "{% … %}" string inside val (a template of
// objects, arrays and literals); whole requires val itself to be one.
func (v *validator) expressions(at where, val any, whole bool) {
	switch x := val.(type) {
	case string:
		body, ok := exprBody(x)
		switch {
		case !ok && whole && x != "true" && x != "false":
			v.add(at, "must be a JSONata expression written {%% … %%}, not %q", x)
		case ok:
			if _, err := jsonata.Compile(body, jsonata.AWSFunctions()); err != nil {
				v.add(at, "JSONata expression %q does not compile: %v", strings.TrimSpace(body), err)
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			v.expressions(at.sub("."+k), x[k], false)
		}
	case []any:
		for i, e := range x {
			v.expressions(at.sub(fmt.Sprintf("[%d]", i)), e, false)
		}
	}
}
