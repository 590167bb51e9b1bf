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
	jsonata  bool // collect the JSONPath-only fields and the expressions
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
	if set && f.jsonata {
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
		f.expr(name, v, whole)
	}
}

func (f *langFields) expr(name string, v any, whole bool) {
	if f.jsonata {
		f.exprs = append(f.exprs, exprField{name, v, whole})
	}
}

func (f *langFields) io(p IO) {
	f.path("InputPath", !p.InputPath.IsZero())
	f.path("OutputPath", !p.OutputPath.IsZero())
}

// fieldsOf gathers what the language rules check of st; jsonata says st
// runs as JSONata (only then are JSONPath-only fields and expressions
// collected, so JSONPath states cost no allocation).
func fieldsOf(st State, jsonata bool) langFields {
	f := langFields{jsonata: jsonata}
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
			f.expr("Timestamp", s.Timestamp, true)
		}
	case *Succeed:
		f.ql = s.QueryLanguage
		f.io(s.IO)
		f.ata("Output", s.Output, false)
	case *Fail:
		f.ql = s.QueryLanguage
		f.path("ErrorPath", s.ErrorPath != "")
		f.path("CausePath", s.CausePath != "")
		if jsonata { // boxing the strings into any would allocate for every Fail
			f.expr("Error", s.Error, false)
			f.expr("Cause", s.Cause, false)
		}
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
		f.expr("ItemSelector", s.ItemSelector, false)
	}
	return f
}

// stateLanguage is the query language st runs with inside a machine whose
// language is machine.
func stateLanguage(st State, machine string) string {
	if ql := stateQL(st); ql != "" {
		return ql
	}
	return machine
}

// stateQL is st's own QueryLanguage field.
func stateQL(st State) string {
	switch s := st.(type) {
	case *Task:
		return s.QueryLanguage
	case *Pass:
		return s.QueryLanguage
	case *Choice:
		return s.QueryLanguage
	case *Wait:
		return s.QueryLanguage
	case *Succeed:
		return s.QueryLanguage
	case *Fail:
		return s.QueryLanguage
	case *Parallel:
		return s.QueryLanguage
	case *Map:
		return s.QueryLanguage
	}
	return ""
}

// language checks the query-language rules of one state: its QueryLanguage,
// the fields its language allows, every JSONata expression (it must parse),
// and its Assign and Catch variables.
func (v *validator) language(at where, st State) {
	lang := stateLanguage(st, v.lang)
	f := fieldsOf(st, lang == JSONata)
	switch f.ql {
	case "", JSONPath, JSONata:
	default:
		v.add(at, "QueryLanguage must be JSONPath or JSONata, not %q", f.ql)
	}
	if v.lang == JSONata && f.ql == JSONPath {
		v.add(at, "a JSONata machine cannot hold a JSONPath state (only a JSONPath machine may mix languages)")
	}
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
	// Paths are built only for what is there: this runs for every state.
	if len(f.assign) > 0 {
		v.assign(at.sub(".Assign"), f.assign, lang)
	}
	for i, c := range f.catches {
		if len(c.Assign) == 0 && c.Output == nil && (lang != JSONata || c.ResultPath.IsZero()) {
			continue
		}
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
			rp := func() where { return at.sub(fmt.Sprintf(".Choices[%d]", i)) }
			if len(r.Assign) > 0 {
				v.assign(rp().sub(".Assign"), r.Assign, lang)
			}
			jsonPathRule := r.Variable != "" || r.Op != "" || r.And != nil || r.Or != nil || r.Not != nil
			switch {
			case lang == JSONata && jsonPathRule:
				v.add(rp(), "a JSONata choice rule tests a Condition expression, not Variable, comparators, And, Or or Not")
			case lang == JSONata && r.Expr == "":
				v.add(rp(), "a JSONata choice rule needs a Condition")
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
