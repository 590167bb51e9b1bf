package localsfn

import (
	"errors"
	"fmt"
)

// ioProcessor is the query-language seam: it shapes what a state sees and
// what it passes on. The JSONPath implementation applies InputPath and
// Parameters on the way in and ResultSelector, ResultPath and OutputPath on
// the way out; a JSONata implementation (Arguments, Output, Assign) plugs in
// here without touching the state logic.
type ioProcessor interface {
	// input turns the raw state input into the effective input.
	input(raw any, e *env) (any, error)
	// result shapes a Task, Parallel or Map result (ResultSelector).
	result(r any, e *env) (any, error)
	// output combines the raw input and the state's result into its output.
	output(raw, result any, e *env) (any, error)
	// assign evaluates the state's Assign block: data is what "$" means to a
	// JSONPath Assign (the result, or the effective input of Choice and Wait).
	// It returns nil when the state assigns nothing.
	assign(a assigner, data any, e *env) (map[string]any, error)
	// selectItems returns the items a Map state iterates over.
	selectItems(effective any, e *env) (any, error)
	// itemInput builds one Map iteration's input.
	itemInput(effective, item any, e *env) (any, error)
}

// ioError is a failure to shape data, reported as States.Runtime (or the
// name given) with AWS's message.
type ioError struct {
	name string
	msg  string
	// location is the definition field whose expression failed
	// ("Items", "Assign/result"), reported in EvaluationFailed events.
	location string
}

func (e *ioError) Error() string { return e.msg }

type optionalPath struct {
	set  bool  // the field appears in the definition
	null bool  // it is null: discard
	p    *path // else the path (nil: $)
}

// resultPath is ResultPath: absent or "$" (replace), null (discard), or a reference path.
type resultPath struct {
	null bool
	p    *path // nil means $
}

func compileOptionalPath(m map[string]any, key string) (optionalPath, error) {
	v, ok := m[key]
	if !ok {
		return optionalPath{}, nil
	}
	if v == nil {
		return optionalPath{set: true, null: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return optionalPath{}, fmt.Errorf("%s must be a path string or null", key)
	}
	p, err := parsePath(s)
	if err != nil {
		return optionalPath{}, fmt.Errorf("%s: %w", key, err)
	}
	if len(p.steps) == 0 && !p.context && p.variable == "" {
		return optionalPath{set: true}, nil
	}
	return optionalPath{set: true, p: p}, nil
}

func compileResultPath(m map[string]any) (resultPath, error) {
	v, ok := m["ResultPath"]
	if !ok {
		return resultPath{}, nil
	}
	if v == nil {
		return resultPath{null: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return resultPath{}, fmt.Errorf("ResultPath must be a reference path string or null")
	}
	p, err := parseReferencePath(s)
	if err != nil {
		return resultPath{}, fmt.Errorf("ResultPath: %w", err)
	}
	if len(p.steps) == 0 {
		return resultPath{}, nil
	}
	return resultPath{p: p}, nil
}

// jsonPathIO implements ioProcessor for JSONPath states.
type jsonPathIO struct {
	inputPath      optionalPath
	parameters     *template
	resultSelector *template
	resultPath     resultPath
	outputPath     optionalPath
	itemsPath      *path
	itemSelector   *template
	usesContext    bool
}

// fieldsByType lists which I/O fields each state type accepts.
var fieldsByType = map[string][]string{
	"Pass":     {"InputPath", "Parameters", "ResultPath", "OutputPath"},
	"Task":     {"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath"},
	"Parallel": {"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath"},
	"Map":      {"InputPath", "ResultSelector", "ResultPath", "OutputPath"},
	"Choice":   {"InputPath", "OutputPath"},
	"Wait":     {"InputPath", "OutputPath"},
	"Succeed":  {"InputPath", "OutputPath"},
	"Fail":     {},
}

func compileJSONPathIO(typ string, m map[string]any) (*jsonPathIO, error) {
	io := &jsonPathIO{}
	allowed := fieldsByType[typ]
	for _, f := range []string{"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath"} {
		if _, ok := m[f]; ok && !contains(allowed, f) && !(typ == "Map" && f == "Parameters") {
			return nil, fmt.Errorf("a %s state cannot have %s", typ, f)
		}
	}
	var err error
	if io.inputPath, err = compileOptionalPath(m, "InputPath"); err != nil {
		return nil, err
	}
	if io.outputPath, err = compileOptionalPath(m, "OutputPath"); err != nil {
		return nil, err
	}
	if io.resultPath, err = compileResultPath(m); err != nil {
		return nil, err
	}
	if v, ok := m["Parameters"]; ok && typ != "Map" {
		if io.parameters, err = compileTemplate(v); err != nil {
			return nil, fmt.Errorf("Parameters: %w", err)
		}
		io.usesContext = io.usesContext || io.parameters.context
	}
	if v, ok := m["ResultSelector"]; ok {
		if io.resultSelector, err = compileTemplate(v); err != nil {
			return nil, fmt.Errorf("ResultSelector: %w", err)
		}
		io.usesContext = io.usesContext || io.resultSelector.context
	}
	for _, p := range []*path{io.inputPath.p, io.outputPath.p} {
		if p != nil && (p.context || p.variable != "") {
			io.usesContext = true
		}
	}
	if typ == "Map" {
		if io.itemsPath, err = optPath(m, "ItemsPath"); err != nil {
			return nil, err
		}
		sel, ok := m["ItemSelector"]
		if !ok {
			sel, ok = m["Parameters"]
		}
		if ok {
			if io.itemSelector, err = compileTemplate(sel); err != nil {
				return nil, fmt.Errorf("ItemSelector: %w", err)
			}
		}
	}
	return io, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (io *jsonPathIO) ctx(e *env) roots {
	if !io.usesContext {
		return nil
	}
	return e
}

func applyPath(op optionalPath, field string, v any, e *env) (any, error) {
	if op.null {
		return map[string]any{}, nil
	}
	if op.p == nil {
		return v, nil
	}
	out, ok := op.p.resolve(v, e)
	if !ok {
		return nil, &ioError{name: ErrRuntime, msg: fmt.Sprintf("Invalid path '%s' : No results for path: %s", op.p.text, canonicalPath(op.p))}
	}
	return out, nil
}

// canonicalPath writes a path as AWS's messages do: $['a']['b'][0].
func canonicalPath(p *path) string {
	s := "$"
	if p.context {
		s = "$$"
	}
	for _, st := range p.steps {
		switch st.kind {
		case stepField:
			s += "['" + st.name + "']"
		case stepIndex:
			s += fmt.Sprintf("[%d]", st.index)
		default:
			return p.text
		}
	}
	return s
}

func templateError(err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		return &ioError{name: ErrRuntime, msg: pe.Error()}
	}
	return &ioError{name: ErrRuntime, msg: err.Error()}
}

func (io *jsonPathIO) input(raw any, e *env) (any, error) {
	v, err := applyPath(io.inputPath, "InputPath", raw, e)
	if err != nil {
		return nil, err
	}
	if io.parameters != nil {
		if v, err = io.parameters.eval(v, io.ctx(e)); err != nil {
			return nil, templateError(err)
		}
	}
	return v, nil
}

func (io *jsonPathIO) result(r any, e *env) (any, error) {
	if io.resultSelector == nil {
		return r, nil
	}
	v, err := io.resultSelector.eval(r, io.ctx(e))
	if err != nil {
		return nil, templateError(err)
	}
	return v, nil
}

func (io *jsonPathIO) assign(a assigner, data any, e *env) (map[string]any, error) {
	if a == nil {
		return nil, nil
	}
	return a.eval(data, e)
}

func (io *jsonPathIO) output(raw, result any, e *env) (any, error) {
	var err error
	out := result
	switch {
	case io.resultPath.null:
		out = raw
	case io.resultPath.p != nil:
		if out, err = io.resultPath.p.set(raw, result); err != nil {
			return nil, &ioError{name: ErrResultPathMatchFailure, msg: fmt.Sprintf("Unable to apply ResultPath '%s' to input '%s': %v", io.resultPath.p.text, encodeJSON(raw), err)}
		}
	}
	return applyPath(io.outputPath, "OutputPath", out, e)
}

func (io *jsonPathIO) selectItems(effective any, e *env) (any, error) {
	if io.itemsPath == nil {
		return effective, nil
	}
	v, ok := io.itemsPath.resolve(effective, e)
	if !ok {
		return nil, &ioError{name: ErrRuntime, msg: fmt.Sprintf("Invalid path '%s' : No results for path: %s", io.itemsPath.text, canonicalPath(io.itemsPath))}
	}
	return v, nil
}

func (io *jsonPathIO) itemInput(effective, item any, e *env) (any, error) {
	if io.itemSelector == nil {
		return item, nil
	}
	v, err := io.itemSelector.eval(effective, e)
	if err != nil {
		return nil, templateError(err)
	}
	return v, nil
}
