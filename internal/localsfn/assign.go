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
	e.vars.assign(values)
	return nil
}
