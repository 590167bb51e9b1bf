package localsfn

import (
	"fmt"
	"strings"
)

// template is a compiled payload template (Parameters, ResultSelector,
// ItemSelector): a JSON value whose "key.$" fields take their value from a
// path or an intrinsic function when the state runs.
type template struct {
	static  any  // the whole value when nothing in it is dynamic
	dynamic bool // whether eval must rebuild the value
	node    tmplNode
	context bool // whether anything reads the Context object
}

type tmplNode interface {
	eval(input any, r roots) (any, error)
}

type tmplLiteral struct{ v any }
type tmplObject struct {
	keys  []string
	nodes []tmplNode
}
type tmplArray struct{ nodes []tmplNode }
type tmplPath struct {
	field string
	p     *path
}
type tmplCall struct {
	field string
	c     *intrinsic
}

// pathError is a path that found nothing, reported as AWS words it.
type pathError struct {
	field, path string
	input       any
}

func (e *pathError) Error() string {
	return fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", e.path, e.field, encodeJSON(e.input))
}

// intrinsicError is an intrinsic function that failed.
type intrinsicError struct {
	field string
	err   error
}

func (e *intrinsicError) Error() string {
	return fmt.Sprintf("The value for the field '%s' could not be computed: %v", e.field, e.err)
}

func compileTemplate(v any) (*template, error) {
	t := &template{}
	node, dyn, err := t.compile(v)
	if err != nil {
		return nil, err
	}
	t.node, t.dynamic = node, dyn
	if !dyn {
		t.static = v
	}
	return t, nil
}

func (t *template) compile(v any) (tmplNode, bool, error) {
	switch x := v.(type) {
	case map[string]any:
		obj := &tmplObject{}
		dyn := false
		for _, k := range sortedKeys(x) {
			val := x[k]
			if field, ok := strings.CutSuffix(k, ".$"); ok {
				s, isStr := val.(string)
				if !isStr {
					return nil, false, fmt.Errorf("the value of %q must be a string holding a path or an intrinsic function", k)
				}
				node, err := t.dynamicValue(k, s)
				if err != nil {
					return nil, false, err
				}
				obj.keys = append(obj.keys, field)
				obj.nodes = append(obj.nodes, node)
				dyn = true
				continue
			}
			node, d, err := t.compile(val)
			if err != nil {
				return nil, false, err
			}
			obj.keys = append(obj.keys, k)
			obj.nodes = append(obj.nodes, node)
			dyn = dyn || d
		}
		if !dyn {
			return tmplLiteral{x}, false, nil
		}
		return obj, true, nil
	case []any:
		arr := &tmplArray{}
		dyn := false
		for _, e := range x {
			node, d, err := t.compile(e)
			if err != nil {
				return nil, false, err
			}
			arr.nodes = append(arr.nodes, node)
			dyn = dyn || d
		}
		if !dyn {
			return tmplLiteral{x}, false, nil
		}
		return arr, true, nil
	}
	return tmplLiteral{v}, false, nil
}

func (t *template) dynamicValue(field, s string) (tmplNode, error) {
	if isIntrinsic(s) {
		c, err := parseIntrinsic(s)
		if err != nil {
			return nil, err
		}
		t.context = true // arguments may read $$; cheap to provide
		return tmplCall{field: field, c: c}, nil
	}
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if p.context || p.variable != "" {
		t.context = true
	}
	return tmplPath{field: field, p: p}, nil
}

// eval builds the payload for an input; ctxObj is the Context object.
func (t *template) eval(input any, r roots) (any, error) {
	if !t.dynamic {
		return t.static, nil
	}
	return t.node.eval(input, r)
}

func (n tmplLiteral) eval(any, roots) (any, error) { return n.v, nil }

func (n *tmplObject) eval(input any, ctxObj roots) (any, error) {
	m := make(map[string]any, len(n.keys))
	for i, k := range n.keys {
		v, err := n.nodes[i].eval(input, ctxObj)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func (n *tmplArray) eval(input any, ctxObj roots) (any, error) {
	a := make([]any, len(n.nodes))
	for i, node := range n.nodes {
		v, err := node.eval(input, ctxObj)
		if err != nil {
			return nil, err
		}
		a[i] = v
	}
	return a, nil
}

func (n tmplPath) eval(input any, r roots) (any, error) {
	v, ok := n.p.resolve(input, r)
	if !ok {
		return nil, &pathError{field: n.field, path: n.p.text, input: input}
	}
	return v, nil
}

func (n tmplCall) eval(input any, ctxObj roots) (any, error) {
	v, err := n.c.eval(input, ctxObj)
	if err != nil {
		return nil, &intrinsicError{field: n.field, err: err}
	}
	return v, nil
}
