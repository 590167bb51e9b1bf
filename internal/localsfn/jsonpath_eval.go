package localsfn

import (
	"fmt"
)

func isVarStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isVarChar(c byte) bool { return isVarStart(c) || (c >= '0' && c <= '9') }

// roots gives paths their starting points besides the input: the Context
// object ($$) and workflow variables ($name).
type roots interface {
	contextObject() any
	variable(name string) (any, bool)
}

// resolve evaluates the path from the root it names: the input, the Context
// object or a variable. It reports false when nothing is found.
func (pt *path) resolve(input any, r roots) (any, bool) {
	root := input
	switch {
	case pt.context:
		if r == nil {
			return nil, false
		}
		root = r.contextObject()
	case pt.variable != "":
		if r == nil {
			return nil, false
		}
		v, ok := r.variable(pt.variable)
		if !ok {
			return nil, false
		}
		root = v
	}
	return pt.get(root)
}

// get evaluates the path against root (the input or the Context object). A
// definite path returns the value and whether it exists; any other path
// returns the list of matches, which always exists.
func (pt *path) get(root any) (any, bool) {
	if pt.definite {
		v := root
		for i := range pt.steps {
			st := &pt.steps[i]
			switch st.kind {
			case stepField:
				m, ok := v.(map[string]any)
				if !ok {
					return nil, false
				}
				if v, ok = m[st.name]; !ok {
					return nil, false
				}
			case stepIndex:
				a, ok := v.([]any)
				if !ok {
					return nil, false
				}
				idx := st.index
				if idx < 0 {
					idx += len(a)
				}
				if idx < 0 || idx >= len(a) {
					return nil, false
				}
				v = a[idx]
			case stepLength:
				switch x := v.(type) {
				case []any:
					v = num(int64(len(x)))
				case map[string]any:
					v = num(int64(len(x)))
				case string:
					v = num(int64(len(x)))
				default:
					return nil, false
				}
			}
		}
		return v, true
	}
	cur := []any{root}
	for i := range pt.steps {
		cur = pt.steps[i].apply(cur, root)
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, true
}

func (st *step) apply(in []any, root any) []any {
	var out []any
	for _, v := range in {
		switch st.kind {
		case stepField:
			if m, ok := v.(map[string]any); ok {
				if x, ok := m[st.name]; ok {
					out = append(out, x)
				}
			}
		case stepNames:
			if m, ok := v.(map[string]any); ok {
				for _, n := range st.names {
					if x, ok := m[n]; ok {
						out = append(out, x)
					}
				}
			}
		case stepIndex, stepIndexes:
			if a, ok := v.([]any); ok {
				idxs := st.indexes
				if st.kind == stepIndex {
					idxs = []int{st.index}
				}
				for _, idx := range idxs {
					if idx < 0 {
						idx += len(a)
					}
					if idx >= 0 && idx < len(a) {
						out = append(out, a[idx])
					}
				}
			}
		case stepWildcard:
			out = append(out, children(v)...)
		case stepSlice:
			if a, ok := v.([]any); ok {
				out = append(out, sliceOf(a, st.slice)...)
			}
		case stepDeep:
			out = deepScan(v, st.name, st.name == "", out)
		case stepFilter:
			for _, c := range children(v) {
				if st.filter.test(c, root) {
					out = append(out, c)
				}
			}
		case stepLength:
			if a, ok := v.([]any); ok {
				out = append(out, num(int64(len(a))))
			}
		}
	}
	return out
}

// children lists an array's items or an object's values in key order.
func children(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			out = append(out, x[k])
		}
		return out
	}
	return nil
}

func sliceOf(a []any, s [3]*int) []any {
	n := len(a)
	stepBy := 1
	if s[2] != nil {
		stepBy = *s[2]
	}
	if stepBy <= 0 {
		return nil
	}
	norm := func(p *int, def int) int {
		if p == nil {
			return def
		}
		i := *p
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	start, end := norm(s[0], 0), norm(s[1], n)
	var out []any
	for i := start; i < end; i += stepBy {
		out = append(out, a[i])
	}
	return out
}

func deepScan(v any, name string, all bool, out []any) []any {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if all || k == name {
				out = append(out, x[k])
			}
			out = deepScan(x[k], name, all, out)
		}
	case []any:
		for _, e := range x {
			if all {
				out = append(out, e)
			}
			out = deepScan(e, name, all, out)
		}
	}
	return out
}

// set returns a copy of root with the reference path's place set to value,
// creating missing objects on the way. It copies only the containers on the
// path, so root itself is left as it was.
func (pt *path) set(root, value any) (any, error) {
	return setSteps(root, pt.steps, value)
}

func setSteps(cur any, steps []step, value any) (any, error) {
	if len(steps) == 0 {
		return value, nil
	}
	st := steps[0]
	switch st.kind {
	case stepField:
		var m map[string]any
		switch x := cur.(type) {
		case map[string]any:
			m = make(map[string]any, len(x)+1)
			for k, v := range x {
				m[k] = v
			}
		case nil:
			m = map[string]any{}
		default:
			return nil, fmt.Errorf("cannot set field %q on a %s", st.name, jsonType(cur))
		}
		child, err := setSteps(m[st.name], steps[1:], value)
		if err != nil {
			return nil, err
		}
		m[st.name] = child
		return m, nil
	case stepIndex:
		a, ok := cur.([]any)
		if !ok {
			return nil, fmt.Errorf("cannot set index %d on a %s", st.index, jsonType(cur))
		}
		idx := st.index
		if idx < 0 {
			idx += len(a)
		}
		if idx < 0 || idx >= len(a) {
			return nil, fmt.Errorf("index %d is out of bounds for an array of %d items", st.index, len(a))
		}
		c := append([]any(nil), a...)
		child, err := setSteps(c[idx], steps[1:], value)
		if err != nil {
			return nil, err
		}
		c[idx] = child
		return c, nil
	}
	return nil, fmt.Errorf("not a reference path")
}
