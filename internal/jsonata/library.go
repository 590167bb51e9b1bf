package jsonata

import (
	"fmt"
	"strings"
	"sync"
)

// library is the set of functions an expression can call by $name.
type library struct {
	funcs      map[string]*builtin
	refuseEval bool // AWS refuses $eval when the expression is compiled
}

// Func is an extension function: it receives the validated arguments
// (encoding/json shapes; a missing argument is nil) and returns a result,
// or Undefined to return nothing.
type Func func(args []any) (any, error)

// Undefined is JSONata's "no value": an extension Func returns it to
// produce undefined, and Eval takes it as input to mean no context value.
type Undefined struct{}

// Option configures Compile.
type Option func(*config) error

// config is the library being assembled for one Compile call. The shared
// libraries are copied only when an option adds to them.
type config struct {
	lib   *library
	owned bool
}

func (c *config) mutable() *library {
	if !c.owned {
		c.lib, c.owned = c.lib.clone(), true
	}
	return c.lib
}

// WithFunction registers an extension function $name with a JSONata
// signature such as "<s-n?:s>" (empty: any arguments).
func WithFunction(name, sig string, fn Func) Option {
	return func(c *config) error {
		lib := c.mutable()
		var s *signature
		if sig != "" {
			var err error
			if s, err = parseSignature(strings.TrimSuffix(strings.TrimPrefix(sig, "<"), ">")); err != nil {
				return fmt.Errorf("jsonata: signature of $%s: %w", name, err)
			}
		}
		lib.funcs[name] = &builtin{name: name, sig: s, impl: func(_ *evaluator, args []any, _ any, _ int) (any, error) {
			in := make([]any, len(args))
			for i, a := range args {
				if isUndefined(a) {
					in[i] = nil
				} else {
					in[i] = plain(a)
				}
			}
			res, err := fn(in)
			if err != nil {
				return nil, err
			}
			if _, ok := res.(Undefined); ok {
				return undefinedValue{}, nil
			}
			return normNumber(res), nil
		}}
		return nil
	}
}

// Extensions applies several options as one, so a caller can keep its set
// of extension functions in one value.
func Extensions(opts ...Option) Option {
	return func(c *config) error {
		for _, o := range opts {
			if err := o(c); err != nil {
				return err
			}
		}
		return nil
	}
}

// standardLibrary is built once: it is immutable after construction and
// shared by every compiled expression that adds no functions.
var standardLibrary = sync.OnceValue(func() *library {
	lib := &library{funcs: map[string]*builtin{}}
	add := func(name, sig string, impl func(ev *evaluator, args []any, context any, pos int) (any, error)) {
		s, err := parseSignature(sig)
		if err != nil {
			panic(fmt.Sprintf("jsonata: bad built-in signature for $%s: %v", name, err))
		}
		lib.funcs[name] = &builtin{name: name, sig: s, impl: impl}
	}
	addStringFunctions(add)
	addNumericFunctions(add)
	addArrayFunctions(add)
	addObjectFunctions(add)
	addHigherOrderFunctions(add)
	addDateFunctions(add)
	add("eval", "sx?", fnEval)
	for name, n := range declaredArity() {
		lib.funcs[name].arity = n
	}
	return lib
})

// fnEval is $eval: it parses and evaluates a JSONata expression held in a
// string, in the caller's variable scope, against the context or the given
// input.
func fnEval(ev *evaluator, a []any, ctx any, pos int) (any, error) {
	src, ok := str(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	input := ctx
	if !isUndefined(a[1]) {
		input = a[1]
		if arr, ok := input.([]any); ok {
			input = &sequence{items: []any{arr}, outerWrapper: true}
		}
	}
	raw, err := parse(src)
	if err == nil {
		raw, err = (&processor{}).process(raw)
	}
	if err != nil {
		return nil, newError("D3120", pos, "eval", errorMessage(err))
	}
	en := ev.callEnv
	if en == nil {
		en = &env{}
	}
	res, err := ev.eval(raw, input, en)
	if err != nil {
		return nil, newError("D3121", pos, "eval", errorMessage(err))
	}
	return res, nil
}

func errorMessage(err error) string {
	if jerr, ok := err.(*Error); ok {
		return jerr.Message
	}
	return err.Error()
}

// declaredArity lists the built-ins whose jsonata-js implementation declares
// more parameters than their required arguments; passed to $map, such a
// function receives the index (and array) too: $map([1.5, 2.5], $round)
// rounds 2.5 to one decimal place.
func declaredArity() map[string]int {
	return map[string]int{
		"substring": 3, "substringBefore": 2, "substringAfter": 2, "pad": 3,
		"contains": 2, "match": 3, "replace": 4, "split": 3, "join": 2,
		"formatNumber": 3, "formatBase": 2, "formatInteger": 2, "parseInteger": 2,
		"round": 2, "power": 2, "reduce": 3, "lookup": 2, "append": 2,
		"each": 2, "sift": 2, "assert": 2, "sort": 2, "single": 2, "map": 2,
		"filter": 2, "eval": 2, "toMillis": 2, "fromMillis": 3, "now": 2,
	}
}

type adder func(name, sig string, impl func(ev *evaluator, args []any, context any, pos int) (any, error))

func (lib *library) clone() *library {
	out := &library{funcs: make(map[string]*builtin, len(lib.funcs)+8), refuseEval: lib.refuseEval}
	for k, v := range lib.funcs {
		out.funcs[k] = v
	}
	return out
}
