package localsfn

import (
	"fmt"
)

// assigner is a compiled Assign block.
type assigner interface {
	eval(data any, e *env) (map[string]any, error)
}

// pathAssign is a JSONPath state's Assign: a payload template whose ".$"
// fields read paths (from data, $$ or variables) or call intrinsics; every
// other value, including strings that look like paths or JSONata, is a
// constant.
type pathAssign struct{ t *template }

func compilePathAssign(v any) (assigner, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("Assign must be an object")
	}
	t, err := compileTemplate(v)
	if err != nil {
		return nil, fmt.Errorf("Assign: %w", err)
	}
	return pathAssign{t}, nil
}

func (a pathAssign) eval(data any, e *env) (map[string]any, error) {
	v, err := a.t.eval(data, e)
	if err != nil {
		return nil, templateError(err)
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// applyAssign evaluates an Assign block and stores the variables. Values are
// all computed before any is stored, so they see the variables as they were
// when the state ran (as Output does).
func (e *env) applyAssign(a assigner, data any) error {
	if a == nil {
		return nil
	}
	values, err := e.state.io.assign(a, data, e)
	if err != nil {
		return err
	}
	sizes := make(map[string]int, len(values))
	total, over := 0, ""
	for name, v := range values {
		n := jsonSize(v)
		if n > VariableLimit && (over == "" || name < over) { // the first by name, deterministically
			over = name
		}
		sizes[name] = n
		total += n
	}
	if over != "" {
		return &ioError{name: ErrDataLimitExceeded, msg: fmt.Sprintf(
			"The value assigned to the variable '%s' is %d bytes, larger than the limit of %d bytes (256 KiB) for a variable.", over, sizes[over], VariableLimit)}
	}
	if total > VariableLimit {
		return &ioError{name: ErrDataLimitExceeded, msg: fmt.Sprintf(
			"The variables assigned by one Assign field total %d bytes, larger than the limit of %d bytes (256 KiB).", total, VariableLimit)}
	}
	e.assigned = values // the state's exit event lists them
	if e.x == nil {
		e.vars.assign(values, sizes)
		return nil
	}
	// The execution-wide total is checked and updated under one lock, so
	// concurrent Map iterations cannot race past the limit together.
	e.x.varMu.Lock()
	defer e.x.varMu.Unlock()
	delta := e.vars.delta(sizes)
	if after := e.x.varBytes + delta; after > ExecutionVariablesLimit {
		return &ioError{name: ErrDataLimitExceeded, msg: fmt.Sprintf(
			"The variables stored by this execution would total %d bytes, larger than the limit of %d bytes (10 MiB).", after, ExecutionVariablesLimit)}
	}
	e.x.varBytes += delta
	e.vars.assign(values, sizes)
	return nil
}

// Variable limits of Step Functions
// (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).
const (
	// VariableLimit bounds one variable's value, and all the values one
	// Assign field sets together (256 KiB of JSON).
	VariableLimit = 256 * 1024
	// ExecutionVariablesLimit bounds the variables one execution stores,
	// across all its scopes (10 MiB of JSON).
	ExecutionVariablesLimit = 10 * 1024 * 1024
)
