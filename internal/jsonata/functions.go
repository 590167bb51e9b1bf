package jsonata

import (
	"regexp"
	"strings"
)

// lambda is a user function (function($x){...}) closed over its frame.
type lambda struct {
	params []string
	body   *node
	env    *env
	input  any
	sig    *signature
}

// builtin is a library function implemented in Go.
type builtin struct {
	name string
	sig  *signature
	// arity, when set, is the parameter count jsonata-js's implementation
	// declares, which decides how many arguments $map and friends pass.
	arity int
	// impl receives the validated arguments and the context value.
	impl func(ev *evaluator, args []any, context any, pos int) (any, error)
}

// partial is a function with some arguments fixed by partial application.
type partial struct {
	fn   any
	args []any // placeholderValue marks the open positions
}

type placeholderValue struct{}

// regexValue is a regex literal; it is a function returning the first match.
type regexValue struct {
	re  *regexp.Regexp
	src string
}

// thunk is a tail call not yet made: apply evaluates it in a loop.
type thunk struct {
	call  *node
	input any
	env   *env
}

// arity is the number of arguments a function value expects, which
// $map, $filter and friends use to decide what to pass.
func arity(f any) int {
	switch fn := f.(type) {
	case *lambda:
		return len(fn.params)
	case *builtin:
		if fn.arity > 0 {
			return fn.arity
		}
		if fn.sig != nil {
			// trailing optional parameters do not count, like defaulted
			// parameters of a JavaScript function
			n := len(fn.sig.params)
			for n > 0 && strings.HasSuffix(fn.sig.params[n-1].regex, "?") && !fn.sig.params[n-1].context {
				n--
			}
			return n
		}
	case *partial:
		n := 0
		for _, a := range fn.args {
			if _, ok := a.(placeholderValue); ok {
				n++
			}
		}
		return n
	case *regexValue:
		return 1
	}
	return 1
}

func (ev *evaluator) call(n *node, input any, en *env, applyTo []any) (any, error) {
	proc, args, err := ev.prepareCall(n, input, en, applyTo...)
	if err != nil {
		return nil, err
	}
	return ev.callPrepared(n, proc, args, input, en)
}

// callPrepared applies an evaluated function to evaluated arguments at a
// call site.
func (ev *evaluator) callPrepared(n *node, proc any, args []any, input any, en *env) (any, error) {
	saved := ev.callEnv
	ev.callEnv = en
	defer func() { ev.callEnv = saved }()
	return ev.apply(proc, args, input, n.pos, procName(n.lhs))
}

// prepareCall evaluates a call's function and arguments.
func (ev *evaluator) prepareCall(n *node, input any, en *env, applyTo ...any) (any, []any, error) {
	proc, err := ev.eval(n.lhs, input, en)
	if err != nil {
		return nil, nil, err
	}
	if isUndefined(proc) && n.lhs.typ == nPath && n.lhs.items[0].typ == nName {
		name := n.lhs.items[0].op
		if _, ok := ev.lib.funcs[name]; ok {
			return nil, nil, newError("T1005", n.pos, name, nil)
		}
		if _, ok := en.lookup(name); ok {
			return nil, nil, newError("T1005", n.pos, name, nil)
		}
	}
	args := make([]any, 0, len(n.items)+len(applyTo))
	args = append(args, applyTo...)
	for _, a := range n.items {
		v, err := ev.eval(a, input, en)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, v)
	}
	return proc, args, nil
}

func procName(n *node) string {
	if n.typ == nPath && len(n.items) > 0 {
		return n.items[0].op
	}
	return n.op
}

func (ev *evaluator) apply(proc any, args []any, input any, pos int, name string) (any, error) {
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > maxDepth {
		return nil, newError("U1001", pos, name, nil)
	}
	if err := ev.countCall(pos, name); err != nil {
		return nil, err
	}
	switch fn := proc.(type) {
	case *lambda:
		if fn.sig != nil {
			var err error
			if args, err = fn.sig.validate(name, args, input, pos); err != nil {
				return nil, err
			}
		}
		for {
			frame := &env{parent: fn.env, names: fn.params[:len(fn.params):len(fn.params)], values: make([]any, len(fn.params))}
			for i := range fn.params {
				if i < len(args) {
					frame.values[i] = args[i]
				} else {
					frame.values[i] = undefinedValue{}
				}
			}
			res, err := ev.eval(fn.body, fn.input, frame)
			if err != nil {
				return nil, err
			}
			th, ok := res.(*thunk)
			if !ok {
				return res, nil
			}
			// a tail call: evaluate its function and arguments, then loop
			// when it calls a lambda, so the stack does not grow
			next, nextArgs, err := ev.prepareCall(th.call, th.input, th.env)
			if err != nil {
				return nil, err
			}
			nl, isLambda := next.(*lambda)
			if !isLambda {
				return ev.callPrepared(th.call, next, nextArgs, th.input, th.env)
			}
			if nl.sig != nil {
				if nextArgs, err = nl.sig.validate(procName(th.call.lhs), nextArgs, th.input, th.call.pos); err != nil {
					return nil, err
				}
			}
			if err := ev.countCall(th.call.pos, procName(th.call.lhs)); err != nil {
				return nil, err
			}
			fn, args = nl, nextArgs
		}
	case *builtin:
		if fn.sig != nil {
			var err error
			if args, err = fn.sig.validate(fn.name, args, input, pos); err != nil {
				return nil, err
			}
		}
		res, err := fn.impl(ev, args, input, pos)
		if err != nil {
			if e, ok := err.(*Error); ok && e.Position == 0 {
				e.Position = pos
			}
			return nil, err
		}
		return res, nil
	case *partial:
		full := make([]any, 0, len(fn.args))
		k := 0
		for _, a := range fn.args {
			if _, ok := a.(placeholderValue); ok {
				if k < len(args) {
					full = append(full, args[k])
				} else {
					full = append(full, undefinedValue{})
				}
				k++
				continue
			}
			full = append(full, a)
		}
		return ev.apply(fn.fn, full, input, pos, name)
	case *regexValue:
		if len(args) == 0 {
			return undefinedValue{}, nil
		}
		s, ok := args[0].(string)
		if !ok {
			return undefinedValue{}, nil
		}
		return regexMatchObject(fn.re, s, 0), nil
	}
	if name != "" {
		if _, ok := ev.lib.funcs[name]; ok {
			return nil, newError("T1005", pos, name, nil)
		}
	}
	return nil, newError("T1006", pos, name, nil)
}

func (ev *evaluator) partial(n *node, input any, en *env) (any, error) {
	proc, err := ev.eval(n.lhs, input, en)
	if err != nil {
		return nil, err
	}
	if !isFunction(proc) {
		if n.lhs.typ == nPath && n.lhs.items[0].typ == nName {
			if _, ok := ev.lib.funcs[n.lhs.items[0].op]; ok {
				return nil, newError("T1007", n.pos, n.lhs.items[0].op, nil)
			}
		}
		return nil, newError("T1008", n.pos, procName(n.lhs), nil)
	}
	args := make([]any, len(n.items))
	for i, a := range n.items {
		if a.typ == nPlaceholder {
			args[i] = placeholderValue{}
			continue
		}
		if args[i], err = ev.eval(a, input, en); err != nil {
			return nil, err
		}
	}
	return &partial{fn: proc, args: args}, nil
}

func (ev *evaluator) applyOp(n *node, input any, en *env) (any, error) {
	lhs, err := ev.eval(n.lhs, input, en)
	if err != nil {
		return nil, err
	}
	if n.rhs.typ == nCall {
		return ev.call(n.rhs, input, en, []any{lhs})
	}
	fn, err := ev.eval(n.rhs, input, en)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, newError("T2006", n.pos, "~>", plain(fn))
	}
	if isFunction(lhs) {
		// function chaining: f ~> g is the composition g(f(x))
		first := lhs
		return &builtin{name: "", impl: func(ev *evaluator, args []any, ctx any, pos int) (any, error) {
			mid, err := ev.apply(first, args, ctx, pos, "")
			if err != nil {
				return nil, err
			}
			return ev.apply(fn, []any{mid}, ctx, pos, "")
		}}, nil
	}
	return ev.apply(fn, []any{lhs}, input, n.pos, procName(n.rhs))
}

// transform builds the function of | pattern | update, delete |: it copies
// its argument, then updates and deletes fields of each pattern match.
func (ev *evaluator) transform(n *node, en *env) any {
	return &builtin{name: "transform", impl: func(ev *evaluator, args []any, ctx any, pos int) (any, error) {
		if len(args) == 0 || isUndefined(args[0]) {
			return undefinedValue{}, nil
		}
		obj := deepCopy(args[0])
		matches, err := ev.eval(n.lhs, obj, en)
		if err != nil {
			return nil, err
		}
		items, ok := arrayItems(matches)
		if !ok {
			items = []any{matches}
		}
		for _, m := range items {
			target, ok := m.(map[string]any)
			if !ok {
				continue
			}
			upd, err := ev.eval(n.update, m, en)
			if err != nil {
				return nil, err
			}
			if !isUndefined(upd) {
				u, ok := upd.(map[string]any)
				if !ok {
					return nil, newError("T2011", n.update.pos, "", plain(upd))
				}
				for k, v := range u {
					target[k] = v
				}
			}
			if n.del == nil {
				continue
			}
			del, err := ev.eval(n.del, m, en)
			if err != nil {
				return nil, err
			}
			if isUndefined(del) {
				continue
			}
			keys, ok := arrayItems(del)
			if !ok {
				keys = []any{del}
			}
			for _, k := range keys {
				ks, ok := k.(string)
				if !ok {
					return nil, newError("T2012", n.del.pos, "", plain(del))
				}
				delete(target, ks)
			}
		}
		return obj, nil
	}}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = deepCopy(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = deepCopy(val)
		}
		return out
	case *sequence:
		return deepCopy(x.items)
	}
	return v
}
