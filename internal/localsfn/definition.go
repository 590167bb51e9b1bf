package localsfn

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Machine is a parsed, validated state machine (or a Parallel branch, or a
// Map's ItemProcessor). Parsing compiles every path, template, intrinsic and
// Choice rule once, so running a state does no parsing.
type Machine struct {
	StartAt        string
	States         map[string]*State
	TimeoutSeconds int64
	// QueryLanguage is "JSONPath" (the default) or "JSONata".
	QueryLanguage string
}

// State is one compiled state. Fields that do not apply to its Type are zero.
type State struct {
	Name string
	Type string
	Next string
	End  bool

	io      ioProcessor // the query-language seam: how input and output are shaped
	assign  assigner    // Assign, or nil
	jsonata bool        // QueryLanguage JSONata

	Result    any
	hasResult bool

	// Task
	Resource         string
	TimeoutSeconds   int64
	HeartbeatSeconds int64
	timeoutPath      *path
	heartbeatPath    *path
	// numeric fields given as JSONata expressions, by field name
	numExprs map[string]*jtemplate
	Retry    []Retrier
	Catch    []Catcher

	// Choice
	choices []choiceRule
	Default string

	// Wait
	seconds       *int64
	timestamp     *time.Time
	secondsPath   *path
	timestampPath *path
	secondsExpr   *jtemplate
	timestampExpr *jtemplate

	// Fail
	errorName, cause   string
	hasError, hasCause bool
	errorPath          dynString
	causePath          dynString

	// Parallel
	Branches []*Machine

	// Map
	Processor            *Machine
	distributed          bool   // ItemProcessor's ProcessorConfig.Mode is DISTRIBUTED
	label                string // Label: names the Map Run
	MaxConcurrency       int64
	maxConcurrencyPath   *path
	toleratedCount       int64
	toleratedPercent     float64
	hasTolerance         bool
	toleratedCountPath   *path
	toleratedPercentPath *path
}

type choiceRule struct {
	cond   condition
	next   string
	assign assigner
	output *jtemplate // JSONata rules only
}

// dynString is a Fail state's ErrorPath/CausePath (a path or an
// intrinsic) or, in a JSONata state, its Error/Cause expression.
type dynString struct {
	field string
	p     *path
	call  *intrinsic
	expr  *jtemplate
}

// Retrier is one Retry entry.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int64
	BackoffRate     float64
	MaxDelaySeconds float64
	JitterFull      bool
}

// Catcher is one Catch entry.
type Catcher struct {
	ErrorEquals []string
	Next        string
	resultPath  resultPath
	assign      assigner
	output      *jtemplate // JSONata catchers: Output (default: the error output)
}

// DefinitionError says what is wrong with a state machine definition.
type DefinitionError struct {
	State string // empty for machine-level problems
	Msg   string
}

// Error says which state is wrong and how.
func (e *DefinitionError) Error() string {
	if e.State == "" {
		return "invalid state machine definition: " + e.Msg
	}
	return fmt.Sprintf("invalid state machine definition: state %q: %s", e.State, e.Msg)
}

// ErrUnsupported marks definitions that use a feature the embedded executor
// does not run (ItemReader, ResultWriter).
var ErrUnsupported = errors.New("not supported by the embedded executor yet")

// Parse compiles an ASL JSON definition.
func Parse(definition []byte) (*Machine, error) {
	v, err := decodeJSON(definition)
	if err != nil {
		return nil, &DefinitionError{Msg: "not valid JSON: " + err.Error()}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Msg: "the definition must be a JSON object"}
	}
	if err := checkVariableScopes(m, nil); err != nil {
		return nil, err
	}
	return parseMachine(m, "")
}

func parseMachine(m map[string]any, inherited string) (*Machine, error) {
	mc := &Machine{States: map[string]*State{}, QueryLanguage: "JSONPath"}
	if inherited != "" {
		mc.QueryLanguage = inherited
	}
	if ql, ok := m["QueryLanguage"].(string); ok {
		mc.QueryLanguage = ql
	}
	if mc.QueryLanguage != "JSONPath" && mc.QueryLanguage != "JSONata" {
		return nil, &DefinitionError{Msg: fmt.Sprintf("QueryLanguage must be JSONPath or JSONata, got %q", mc.QueryLanguage)}
	}
	start, ok := m["StartAt"].(string)
	if !ok || start == "" {
		return nil, &DefinitionError{Msg: "StartAt is required"}
	}
	mc.StartAt = start
	if t, ok := m["TimeoutSeconds"]; ok {
		n, ok := toInt(t)
		if !ok || n <= 0 {
			return nil, &DefinitionError{Msg: "TimeoutSeconds must be a positive integer"}
		}
		mc.TimeoutSeconds = n
	}
	states, ok := m["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return nil, &DefinitionError{Msg: "States must be a non-empty object"}
	}
	for _, name := range sortedKeys(states) {
		sm, ok := states[name].(map[string]any)
		if !ok {
			return nil, &DefinitionError{State: name, Msg: "must be an object"}
		}
		st, err := parseState(name, sm, mc.QueryLanguage)
		if err != nil {
			var de *DefinitionError
			if errors.As(err, &de) {
				return nil, err
			}
			return nil, &DefinitionError{State: name, Msg: err.Error()}
		}
		mc.States[name] = st
	}
	if _, ok := mc.States[start]; !ok {
		return nil, &DefinitionError{Msg: fmt.Sprintf("StartAt %q names no state", start)}
	}
	for _, st := range mc.States {
		for _, t := range st.targets() {
			if _, ok := mc.States[t]; !ok {
				return nil, &DefinitionError{State: st.Name, Msg: fmt.Sprintf("transition to %q, which is not a state of this machine", t)}
			}
		}
	}
	// AWS refuses states that no transition reaches.
	seen := map[string]bool{start: true}
	queue := []string{start}
	for len(queue) > 0 {
		st := mc.States[queue[0]]
		queue = queue[1:]
		for _, t := range st.targets() {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, name := range sortedKeys(states) {
		if !seen[name] {
			return nil, &DefinitionError{State: name, Msg: "no transition reaches this state from StartAt"}
		}
	}
	return mc, nil
}

var stateTypes = []string{"Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}

func parseState(name string, m map[string]any, ql string) (*State, error) {
	st := &State{Name: name}
	st.Type, _ = m["Type"].(string)
	if !slices.Contains(stateTypes, st.Type) {
		return nil, fmt.Errorf("Type must be one of %s, got %q", strings.Join(stateTypes, ", "), st.Type)
	}
	// A state without QueryLanguage uses the machine's, also inside a
	// Parallel or Map that sets its own: nested states default to the
	// top-level language, not to their enclosing state's.
	machineQL := ql
	if q, ok := m["QueryLanguage"].(string); ok {
		ql = q
	}
	if machineQL == "JSONata" && ql == "JSONPath" {
		return nil, fmt.Errorf("a JSONPath state cannot be part of a JSONata state machine")
	}
	if ql != "JSONPath" && ql != "JSONata" {
		return nil, fmt.Errorf("QueryLanguage must be JSONPath or JSONata, got %q", ql)
	}
	st.jsonata = ql == "JSONata"
	st.Next, _ = m["Next"].(string)
	st.End, _ = m["End"].(bool)
	terminal := st.Type == "Choice" || st.Type == "Succeed" || st.Type == "Fail"
	if !terminal && (st.Next == "") == !st.End {
		return nil, fmt.Errorf("exactly one of Next and End is required")
	}
	var err error
	if st.jsonata {
		if m, err = st.takeNumericExprs(m); err != nil {
			return nil, err
		}
		st.io, err = compileJSONataIO(st.Type, m)
	} else {
		st.io, err = compileJSONPathIO(st.Type, m)
	}
	if err != nil {
		return nil, err
	}
	if v, ok := m["Assign"]; ok {
		if st.Type == "Succeed" || st.Type == "Fail" {
			return nil, fmt.Errorf("a %s state cannot have Assign", st.Type)
		}
		if st.assign, err = compileAssign(v, st.jsonata); err != nil {
			return nil, err
		}
	}
	if r, ok := m["Result"]; ok {
		st.Result, st.hasResult = r, true
	}
	switch st.Type {
	case "Task":
		err = parseTask(st, m)
	case "Choice":
		err = parseChoice(st, m)
	case "Wait":
		if st.jsonata {
			err = parseJSONataWait(st, m)
		} else {
			err = parseWait(st, m)
		}
	case "Fail":
		err = parseFail(st, m)
	case "Parallel":
		err = parseParallel(st, m, machineQL)
	case "Map":
		err = parseMap(st, m, machineQL)
	}
	if err != nil {
		return nil, err
	}
	if st.Type == "Task" || st.Type == "Parallel" || st.Type == "Map" {
		if st.Retry, err = parseRetry(m["Retry"]); err != nil {
			return nil, err
		}
		if st.Catch, err = parseCatch(m["Catch"], st.jsonata); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func optPath(m map[string]any, key string) (*path, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%s must be a path string", key)
	}
	p, err := parsePath(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return p, nil
}

func optInt(m map[string]any, key string, min int64) (int64, bool, error) {
	v, ok := m[key]
	if !ok {
		return 0, false, nil
	}
	n, ok := toInt(v)
	if !ok || n < min {
		return 0, false, fmt.Errorf("%s must be an integer ≥ %d", key, min)
	}
	return n, true, nil
}

// targets lists the states a state may transition to.
func (st *State) targets() []string {
	var out []string
	for _, t := range []string{st.Next, st.Default} {
		if t != "" {
			out = append(out, t)
		}
	}
	for _, c := range st.choices {
		out = append(out, c.next)
	}
	for _, c := range st.Catch {
		out = append(out, c.Next)
	}
	return out
}

// numericFields may hold a JSONata expression in a JSONata state.
var numericFields = []string{"TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"}

// takeNumericExprs compiles the numeric fields written as "{% %}" and
// returns the state's fields without them, for the literal parsers.
func (st *State) takeNumericExprs(m map[string]any) (map[string]any, error) {
	var rest map[string]any
	for _, key := range numericFields {
		s, ok := m[key].(string)
		if !ok {
			continue
		}
		if _, isExpr := jsonataExpr(s); !isExpr {
			continue
		}
		t, err := compileJTemplate(s, key)
		if err != nil {
			return nil, err
		}
		if st.numExprs == nil {
			st.numExprs = map[string]*jtemplate{}
			rest = maps.Clone(m)
		}
		st.numExprs[key] = t
		delete(rest, key)
	}
	if rest == nil {
		return m, nil
	}
	return rest, nil
}

// numExpr evaluates a numeric field's JSONata expression, if it has one.
func (e *env) numExpr(key string) (float64, bool, error) {
	t := e.state.numExprs[key]
	if t == nil {
		return 0, false, nil
	}
	v, err := t.eval(e)
	if err != nil {
		return 0, true, err
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, true, &ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'number', but was '%s' for value: %s", t.source(), key, jsonType(v), encodeJSON(v))}
	}
	return f, true, nil
}
