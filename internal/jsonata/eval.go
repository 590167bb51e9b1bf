package jsonata

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// env is a frame of variable bindings; lookups fall through to the parent.
// Frames made by blocks and lambdas hold their few bindings in slices,
// which is cheaper than a map; the caller's variables and tuple bindings
// come as maps.
type env struct {
	names  []string
	values []any
	vars   map[string]any
	parent *env
}

func (e *env) lookup(name string) (any, bool) {
	for f := e; f != nil; f = f.parent {
		for i := len(f.names) - 1; i >= 0; i-- {
			if f.names[i] == name {
				return f.values[i], true
			}
		}
		if v, ok := f.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (e *env) bind(name string, v any) {
	for i, n := range e.names {
		if n == name {
			e.values[i] = v
			return
		}
	}
	e.names = append(e.names, name)
	e.values = append(e.values, v)
}

func (e *env) child() *env { return &env{parent: e} }

// maxDepth bounds nested function calls so runaway recursion in an
// expression fails with U1001 instead of exhausting the goroutine stack.
const maxDepth = 10000

// evaluator carries the per-evaluation state.
type evaluator struct {
	lib   *library
	now   time.Time
	depth int
	// callEnv is the frame of the innermost function call site, which
	// $eval evaluates its expression in.
	callEnv *env
	ctx     context.Context
	calls   int
}

// maxCalls bounds the function calls of one evaluation, so a loop that
// never ends (tail recursion runs without growing the stack) fails instead
// of hanging the execution.
const maxCalls = 1_000_000

// countCall checks the call budget and, every 1024 calls, the context.
func (ev *evaluator) countCall(pos int, name string) error {
	ev.calls++
	if ev.calls > maxCalls {
		return newError("U1002", pos, name, nil, "message", "")
	}
	if ev.calls&1023 == 0 && ev.ctx != nil {
		if err := ev.ctx.Err(); err != nil {
			return fmt.Errorf("jsonata: evaluation stopped: %w", err)
		}
	}
	return nil
}

func (ev *evaluator) eval(n *node, input any, en *env) (any, error) {
	var result any
	var err error
	switch n.typ {
	case nPath:
		result, err = ev.path(n, input, en)
	case nBinary:
		result, err = ev.binary(n, input, en)
	case nNegate:
		result, err = ev.negate(n, input, en)
	case nName:
		result = lookupName(input, n.op)
	case nString:
		result = n.op
	case nNumber:
		result = n.num
	case nValue:
		result = n.val
	case nWildcard:
		result = wildcard(input)
	case nDescendant:
		result = descendants(input)
	case nParent:
		v, ok := en.lookup(n.slot.label)
		if ok {
			result = v
		} else {
			result = undefinedValue{}
		}
	case nCondition:
		result, err = ev.condition(n, input, en)
	case nBlock:
		result, err = ev.block(n, input, en)
	case nBind:
		result, err = ev.eval(n.rhs, input, en)
		if err == nil {
			en.bind(n.lhs.op, result)
		}
	case nRegex:
		result = &regexValue{re: n.re, src: n.op}
	case nVariable:
		result = ev.variable(n, input, en)
	case nLambda:
		result = &lambda{params: n.params, body: n.body, env: en, input: input, sig: n.sig}
	case nCall:
		if n.tailCall {
			// returned to apply, which makes the call without recursing
			return &thunk{call: n, input: input, env: en}, nil
		}
		result, err = ev.call(n, input, en, nil)
	case nPartial:
		result, err = ev.partial(n, input, en)
	case nApply:
		result, err = ev.applyOp(n, input, en)
	case nArray:
		result, err = ev.array(n, input, en)
	case nObject:
		result, err = ev.group(n.pairs, input, en)
	case nTransform:
		result = ev.transform(n, en)
	case nSort:
		result, err = ev.sortExpr(n, input, en)
	default:
		return nil, newError("S0206", n.pos, n.op, nil)
	}
	if err != nil {
		return nil, err
	}
	for _, st := range n.predicate {
		if result, err = ev.filter(st.filter, result, en); err != nil {
			return nil, err
		}
	}
	if n.typ != nPath && n.group != nil {
		if result, err = ev.group(n.group, result, en); err != nil {
			return nil, err
		}
	}
	return collapse(result, n.keepArray), nil
}

func (ev *evaluator) variable(n *node, input any, en *env) any {
	if n.op == "" {
		if s, ok := input.(*sequence); ok && s.outerWrapper && len(s.items) > 0 {
			return s.items[0]
		}
		return input
	}
	if v, ok := en.lookup(n.op); ok {
		return v
	}
	if f, ok := ev.lib.funcs[n.op]; ok {
		return f
	}
	return undefinedValue{}
}

// lookupName is JSONata's field lookup, mapped over arrays.
func lookupName(input any, key string) any {
	switch x := input.(type) {
	case map[string]any:
		if v, ok := x[key]; ok {
			return v
		}
		return undefinedValue{}
	case []any, *sequence:
		items, _ := arrayItems(x)
		out := &sequence{}
		for _, it := range items {
			res := lookupName(it, key)
			if isUndefined(res) {
				continue
			}
			if sub, ok := arrayItems(res); ok {
				out.items = append(out.items, sub...)
			} else {
				out.items = append(out.items, res)
			}
		}
		return out
	}
	return undefinedValue{}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func wildcard(input any) any {
	if s, ok := input.(*sequence); ok && s.outerWrapper && len(s.items) > 0 {
		input = s.items[0]
	}
	out := &sequence{}
	m, ok := input.(map[string]any)
	if !ok {
		return out
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		if _, isArr := arrayItems(v); isArr {
			out.items = flattenInto(out.items, v)
		} else {
			out.items = append(out.items, v)
		}
	}
	return out
}

func flattenInto(dst []any, v any) []any {
	if items, ok := arrayItems(v); ok {
		for _, it := range items {
			dst = flattenInto(dst, it)
		}
		return dst
	}
	return append(dst, v)
}

func descendants(input any) any {
	if isUndefined(input) {
		return undefinedValue{}
	}
	out := &sequence{}
	var walk func(v any)
	walk = func(v any) {
		if items, ok := arrayItems(v); ok {
			for _, it := range items {
				walk(it)
			}
			return
		}
		out.items = append(out.items, v)
		if m, ok := v.(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				walk(m[k])
			}
		}
	}
	walk(input)
	if len(out.items) == 1 {
		return out.items[0]
	}
	return out
}

func (ev *evaluator) path(n *node, input any, en *env) (any, error) {
	if res, ok := ev.objectPath(n, input, en); ok {
		return res, nil
	}
	var inputSeq []any
	if items, ok := arrayItems(input); ok && n.items[0].typ != nVariable {
		inputSeq = items
	} else {
		inputSeq = []any{input}
	}
	var result any = undefinedValue{}
	isTuple := false
	var tuples []*tuple // nil until the first tuple step runs
	last := len(n.items) - 1
	for i, step := range n.items {
		if step.tuple {
			isTuple = true
		}
		var err error
		switch {
		case i == 0 && step.consArray:
			result, err = ev.eval(step, &sequence{items: inputSeq}, en)
		case isTuple:
			tuples, err = ev.tupleStep(step, inputSeq, tuples, en)
		default:
			result, err = ev.step(step, inputSeq, en, i == last)
		}
		if err != nil {
			return nil, err
		}
		if !isTuple {
			items, isArr := arrayItems(result)
			if isUndefined(result) || (isArr && len(items) == 0) {
				break
			}
		}
		if step.focus == "" {
			if items, ok := arrayItems(result); ok {
				inputSeq = items
			} else {
				inputSeq = []any{result}
			}
		}
	}
	if isTuple {
		if n.tuple {
			s := &sequence{tupleStream: true, items: make([]any, len(tuples))}
			for i, t := range tuples {
				s.items[i] = t
			}
			result = s
		} else {
			s := &sequence{items: make([]any, len(tuples))}
			for i, t := range tuples {
				s.items[i] = t.context
			}
			result = s
		}
	}
	if n.keepSingleton {
		switch r := result.(type) {
		case *sequence:
			r.keepSingleton = true
		case []any:
			if n.items[last].consArray {
				result = &sequence{items: []any{r}, keepSingleton: true}
			}
		}
	}
	if n.group != nil {
		if isTuple {
			s := &sequence{tupleStream: true}
			for _, t := range tuples {
				s.items = append(s.items, t)
			}
			return ev.group(n.group, s, en)
		}
		return ev.group(n.group, result, en)
	}
	return result, nil
}

// isPlainStep reports whether a step is a bare field name.
func isPlainStep(s *node) bool {
	return s.typ == nName && !s.tuple && s.stages == nil && !s.keepArray && s.focus == "" && s.index == ""
}

// objectPath evaluates the common path $var.a.b.c (or a.b.c) directly while
// every value on the way is an object: it then equals the general
// algorithm, without building sequences. It declines (ok false) as soon as
// an array appears, and the general algorithm takes over.
func (ev *evaluator) objectPath(n *node, input any, en *env) (any, bool) {
	if n.group != nil || n.keepSingleton || n.tuple {
		return nil, false
	}
	first := n.items[0]
	var cur any
	switch {
	case first.typ == nVariable && first.predicate == nil && first.group == nil && !first.keepArray && !first.tuple && first.stages == nil:
		cur = ev.variable(first, input, en)
	case isPlainStep(first):
		cur = input
		if _, isArr := arrayItems(cur); isArr {
			return nil, false
		}
		cur = lookupName(cur, first.op)
	default:
		return nil, false
	}
	for _, step := range n.items[1:] {
		if !isPlainStep(step) {
			return nil, false
		}
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[step.op]
			if !ok {
				return undefinedValue{}, true
			}
			cur = v
		case []any, *sequence:
			return nil, false
		default:
			return undefinedValue{}, true
		}
	}
	if _, isSeq := cur.(*sequence); isSeq {
		return nil, false
	}
	return cur, true
}

func (ev *evaluator) step(step *node, input []any, en *env, lastStep bool) (any, error) {
	if step.typ == nSort {
		res, err := ev.sortExpr(step, &sequence{items: input}, en)
		if err != nil {
			return nil, err
		}
		return ev.stages(step.stages, res, en)
	}
	if len(input) == 1 && len(step.stages) == 0 {
		// the common case of one context item needs no intermediate list
		res, err := ev.eval(step, input[0], en)
		if err != nil {
			return nil, err
		}
		if isUndefined(res) {
			return &sequence{}, nil
		}
		if lastStep {
			if arr, ok := res.([]any); ok {
				return arr, nil
			}
		}
		if items, ok := arrayItems(res); ok && !step.consArray {
			// share the items; the full slice expression makes any later
			// append copy instead of writing into the caller's array
			return &sequence{items: items[:len(items):len(items)]}, nil
		}
		return singleton(unseq(res)), nil
	}
	results := make([]any, 0, len(input))
	for _, item := range input {
		res, err := ev.eval(step, item, en)
		if err != nil {
			return nil, err
		}
		for _, st := range step.stages {
			if res, err = ev.filter(st.filter, res, en); err != nil {
				return nil, err
			}
		}
		if !isUndefined(res) {
			results = append(results, res)
		}
	}
	if lastStep && len(results) == 1 {
		if arr, ok := results[0].([]any); ok {
			return arr, nil
		}
	}
	out := &sequence{items: make([]any, 0, len(results))}
	for _, res := range results {
		if items, ok := arrayItems(res); ok && !step.consArray {
			out.items = append(out.items, items...)
		} else {
			out.items = append(out.items, unseq(res))
		}
	}
	return out, nil
}

// unseq turns a sequence into a plain array for storing inside a value.
func unseq(v any) any {
	if s, ok := v.(*sequence); ok {
		out := make([]any, len(s.items))
		for i, it := range s.items {
			out[i] = unseq(it)
		}
		return out
	}
	return v
}

// stages applies filter stages to a non-tuple step result.
func (ev *evaluator) stages(stages []stage, res any, en *env) (any, error) {
	var err error
	for _, st := range stages {
		if st.filter != nil {
			if res, err = ev.filter(st.filter, res, en); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}
