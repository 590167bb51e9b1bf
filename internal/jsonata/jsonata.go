package jsonata

import (
	"context"
	"fmt"
	"time"
)

// internalErrorCode marks an evaluator bug turned into an error.
const internalErrorCode = "U1000"

// Expr is a compiled JSONata expression. It is immutable and safe for
// concurrent use by several goroutines.
type Expr struct {
	src  string
	root *node
	lib  *library
}

// Compile parses a JSONata expression. A syntax error is returned as *Error
// with JSONata's code (S0xxx) and the position in expr. With AWSFunctions()
// a reference to $eval is refused here, as AWS refuses it.
func Compile(expr string, opts ...Option) (_ *Expr, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Code: internalErrorCode, Message: fmt.Sprintf("internal error compiling %q: %v", expr, p)}
		}
	}()
	cfg := &config{lib: standardLibrary()}
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	lib := cfg.lib
	raw, err := parse(expr)
	if err != nil {
		return nil, err
	}
	pr := &processor{}
	root, err := pr.process(raw)
	if err != nil {
		return nil, err
	}
	if root.seekingParent != nil || root.typ == nParent {
		// jsonata-js reports no position for this one
		return nil, newError("S0217", 0, "%", nil)
	}
	if lib.refuseEval {
		if n := findVariable(root, "eval"); n != nil {
			return nil, &Error{Code: "S0201", Position: n.pos, Token: "$eval",
				Message: "The $eval function is not supported by AWS Step Functions; use $parse to read JSON text"}
		}
	}
	return &Expr{src: expr, root: root, lib: lib}, nil
}

// String returns the expression's source text.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression against input with the given variables
// (each name without its $). input and vars hold encoding/json values
// (map[string]any, []any, string, bool, nil, float64 or json.Number); the
// maps are only read. Pass Undefined{} as input to evaluate with no context
// value at all ($ is then undefined, not null). Numbers in the result are float64. An expression that
// yields nothing returns (nil, ErrUndefined); a failure returns *Error.
// $now() and $millis() return the same instant throughout one call.
func (e *Expr) Eval(input any, vars map[string]any) (any, error) {
	return e.EvalAt(time.Now(), input, vars)
}

// EvalAt is Eval with the instant that $now() and $millis() report, so
// callers (and tests) can fix the clock.
func (e *Expr) EvalAt(now time.Time, input any, vars map[string]any) (any, error) {
	return e.eval(context.Background(), now, input, vars)
}

// EvalContext is Eval that stops, with an error wrapping ctx.Err(), when
// ctx is cancelled: an expression that loops can then be abandoned with the
// state's timeout.
func (e *Expr) EvalContext(ctx context.Context, input any, vars map[string]any) (any, error) {
	return e.eval(ctx, time.Now(), input, vars)
}

func (e *Expr) eval(ctx context.Context, now time.Time, input any, vars map[string]any) (res any, err error) {
	defer func() {
		// a bug in the evaluator must fail this expression, not the process
		if p := recover(); p != nil {
			res, err = nil, &Error{Code: internalErrorCode, Message: fmt.Sprintf("internal error evaluating %q: %v", e.src, p)}
		}
	}()
	ev := &evaluator{lib: e.lib, now: now, ctx: ctx}
	if _, none := input.(Undefined); none {
		input = undefinedValue{}
	}
	input = normNumber(input)
	root := &env{vars: vars}
	top := &env{parent: root, names: []string{"$"}, values: []any{input}} // $$ is the raw input
	if arr, ok := input.([]any); ok {
		// an array given as the whole input is one item, not a sequence
		input = &sequence{items: []any{arr}, outerWrapper: true}
	}
	res, err = ev.eval(e.root, input, top)
	if err != nil {
		return nil, err
	}
	if isUndefined(res) {
		return nil, ErrUndefined
	}
	return plain(res), nil
}

// findVariable returns the first reference to $name in the tree.
func findVariable(root *node, name string) *node {
	var found *node
	walkNodes(root, func(n *node) {
		if found == nil && n.typ == nVariable && n.op == name {
			found = n
		}
	})
	return found
}
