package localsfn

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/jsonata"
)

// jsonataIO implements ioProcessor for states whose QueryLanguage is
// JSONata: Arguments on the way in, Output on the way out, Items and
// ItemSelector for Map, and Assign; every expression sees $states (input,
// result, errorOutput, context) and the workflow variables.
type jsonataIO struct {
	arguments    *jtemplate
	output_      *jtemplate
	items        *jtemplate
	itemSelector *jtemplate
}

// jsonPathOnly are the fields a JSONata state may not use.
var jsonPathOnly = []string{"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "ItemsPath"}

func compileJSONataIO(typ string, m map[string]any) (*jsonataIO, error) {
	for _, f := range jsonPathOnly {
		if _, ok := m[f]; ok {
			return nil, fmt.Errorf("a JSONata state cannot have %s (use Arguments, Output or Items)", f)
		}
	}
	io := &jsonataIO{}
	var err error
	fields := []struct {
		key   string
		dst   **jtemplate
		types []string
	}{
		{"Arguments", &io.arguments, []string{"Task", "Parallel"}},
		{"Output", &io.output_, []string{"Pass", "Task", "Parallel", "Map", "Choice", "Wait", "Succeed"}},
		{"Items", &io.items, []string{"Map"}},
		{"ItemSelector", &io.itemSelector, []string{"Map"}},
	}
	for _, f := range fields {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		if !contains(f.types, typ) {
			return nil, fmt.Errorf("a %s state cannot have %s", typ, f.key)
		}
		if *f.dst, err = compileJTemplate(v, f.key); err != nil {
			return nil, err
		}
	}
	return io, nil
}

func (io *jsonataIO) input(raw any, e *env) (any, error) {
	if io.arguments == nil {
		return raw, nil
	}
	return io.arguments.eval(e)
}

func (io *jsonataIO) result(r any, e *env) (any, error) { return r, nil }

func (io *jsonataIO) output(raw, result any, e *env) (any, error) {
	if io.output_ == nil {
		return result, nil
	}
	return io.output_.eval(e)
}

func (io *jsonataIO) assign(a assigner, data any, e *env) (map[string]any, error) {
	if a == nil {
		return nil, nil
	}
	return a.eval(data, e)
}

func (io *jsonataIO) selectItems(effective any, e *env) (any, error) {
	if io.items == nil {
		if _, ok := effective.([]any); !ok {
			return nil, &ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("Map state input must be an array but was: %s", encodeJSON(effective))}
		}
		return effective, nil
	}
	v, err := io.items.eval(e)
	if err != nil {
		return nil, err
	}
	if _, ok := v.([]any); !ok {
		src := io.items.source()
		return nil, &ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s", src, jsonType(v), bareOrJSON(v)), location: "Items"}
	}
	return v, nil
}

func (io *jsonataIO) itemInput(effective, item any, e *env) (any, error) {
	if io.itemSelector == nil {
		return item, nil
	}
	return io.itemSelector.eval(e)
}

// jtemplate is a JSON value whose "{% expr %}" strings are JSONata expressions.
type jtemplate struct {
	node jnode
}

type jnode interface {
	eval(vars map[string]any, input any) (any, error)
}

type jLiteral struct{ v any }
type jExpr struct {
	src   string
	field string
	expr  *jsonata.Expr
}
type jObject struct {
	keys  []string
	nodes []jnode
}
type jArray struct{ nodes []jnode }

// jsonataExpr returns the expression inside "{% … %}", if s is one.
func jsonataExpr(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{%") || !strings.HasSuffix(t, "%}") || len(t) < 4 {
		return "", false
	}
	return strings.TrimSpace(t[2 : len(t)-2]), true
}

func compileJTemplate(v any, field string) (*jtemplate, error) {
	n, err := compileJNode(v, field)
	if err != nil {
		return nil, err
	}
	return &jtemplate{node: n}, nil
}

func compileJNode(v any, field string) (jnode, error) {
	switch x := v.(type) {
	case string:
		src, ok := jsonataExpr(x)
		if !ok {
			return jLiteral{x}, nil
		}
		expr, err := jsonata.Compile(src, jsonata.AWSFunctions())
		if err != nil {
			return nil, fmt.Errorf("%s: the JSONata expression %q does not compile: %w", field, src, err)
		}
		return &jExpr{src: src, field: field, expr: expr}, nil
	case map[string]any:
		obj := &jObject{}
		for _, k := range sortedKeys(x) {
			n, err := compileJNode(x[k], field+"/"+k)
			if err != nil {
				return nil, err
			}
			obj.keys = append(obj.keys, k)
			obj.nodes = append(obj.nodes, n)
		}
		return obj, nil
	case []any:
		arr := &jArray{}
		for i, e := range x {
			n, err := compileJNode(e, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			arr.nodes = append(arr.nodes, n)
		}
		return arr, nil
	}
	return jLiteral{v}, nil
}

// source is the expression text when the template is one expression.
func (t *jtemplate) source() string {
	if x, ok := t.node.(*jExpr); ok {
		return x.src
	}
	return string(encodeJSON(t.node))
}

func (t *jtemplate) eval(e *env) (any, error) {
	return t.node.eval(e.jsonataVars(), e.statesInput)
}

// jsonataVars builds what expressions see: the variables and $states.
func (e *env) jsonataVars() map[string]any {
	vars := map[string]any{}
	if e.vars != nil {
		vars = e.vars.all()
	}
	states := map[string]any{"input": e.statesInput, "context": e.contextObject()}
	if e.hasResult {
		states["result"] = e.statesResult
	}
	if e.hasError {
		states["errorOutput"] = e.statesError
	}
	vars["states"] = states
	return vars
}

func (n jLiteral) eval(map[string]any, any) (any, error) { return n.v, nil }

func (n *jExpr) eval(vars map[string]any, input any) (any, error) {
	v, err := n.expr.Eval(input, vars)
	if errors.Is(err, jsonata.ErrUndefined) {
		return nil, &ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", n.src, n.field), location: n.field}
	}
	if err != nil {
		return nil, &ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %v", n.src, n.field, err), location: n.field}
	}
	return fromJSONata(v), nil
}

func (n *jObject) eval(vars map[string]any, input any) (any, error) {
	m := make(map[string]any, len(n.keys))
	for i, k := range n.keys {
		v, err := n.nodes[i].eval(vars, input)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func (n *jArray) eval(vars map[string]any, input any) (any, error) {
	a := make([]any, len(n.nodes))
	for i, node := range n.nodes {
		v, err := node.eval(vars, input)
		if err != nil {
			return nil, err
		}
		a[i] = v
	}
	return a, nil
}

// fromJSONata converts JSONata's float64 numbers to the executor's json.Number.
func fromJSONata(v any) any {
	switch x := v.(type) {
	case float64:
		return numf(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromJSONata(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fromJSONata(e)
		}
		return out
	}
	return v
}

// jsonataAssign is a JSONata state's Assign.
type jsonataAssign struct{ t *jtemplate }

func compileJSONataAssign(v any) (assigner, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("Assign must be an object")
	}
	t, err := compileJTemplate(v, "Assign")
	if err != nil {
		return nil, err
	}
	return jsonataAssign{t}, nil
}

func (a jsonataAssign) eval(_ any, e *env) (map[string]any, error) {
	v, err := a.t.eval(e)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return maps.Clone(m), nil
}

// jsonataCondition is a JSONata Choice rule's Condition.
type jsonataCondition struct{ t *jtemplate }

func (c jsonataCondition) match(_ any, r roots) (bool, error) {
	e, ok := r.(*env)
	if !ok {
		return false, fmt.Errorf("a JSONata condition needs the state's environment")
	}
	v, err := c.t.eval(e)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, &ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '%s' for value: %s", c.t.source(), jsonType(v), encodeJSON(v))}
	}
	return b, nil
}
