package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MachineType is the Step Functions workflow type of a state machine.
type MachineType string

const (
	// Express machines run at most five minutes, at least once, and cannot
	// wait for callbacks (.waitForTaskToken) or jobs (.sync).
	Express MachineType = "EXPRESS"
	// Standard machines run up to a year, exactly once, and may wait.
	Standard MachineType = "STANDARD"
)

// StateMachine is a complete ASL definition. Its JSON encoding is
// deterministic: fields in a fixed order, states in the order they were
// added, Parameters objects with sorted keys.
type StateMachine struct {
	Comment string `json:"Comment,omitempty"`
	// QueryLanguage is JSONPath (the default when empty) or JSONata; a
	// JSONPath machine may hold JSONata states, never the reverse.
	QueryLanguage  string `json:"QueryLanguage,omitempty"`
	StartAt        string `json:"StartAt"`
	States         States `json:"States"`
	TimeoutSeconds int    `json:"TimeoutSeconds,omitempty"`
	Version        string `json:"Version,omitempty"`
}

// Branch is a sub-machine: a Parallel branch, a Map ItemProcessor or a legacy
// Map Iterator.
type Branch struct {
	Comment         string           `json:"Comment,omitempty"`
	ProcessorConfig *ProcessorConfig `json:"ProcessorConfig,omitempty"`
	StartAt         string           `json:"StartAt"`
	States          States           `json:"States"`
}

// ProcessorConfig says how a Map state runs its ItemProcessor.
type ProcessorConfig struct {
	Mode          string `json:"Mode,omitempty"`          // INLINE (default) or DISTRIBUTED
	ExecutionType string `json:"ExecutionType,omitempty"` // for DISTRIBUTED: EXPRESS or STANDARD
}

// NamedState is one entry of a States object.
type NamedState struct {
	Name  string
	State State
}

// States is an ordered States object. It is a list, not a map, so that the
// JSON keeps the authoring order and so that a duplicate name is a problem
// the validator can report rather than an entry silently overwritten.
type States []NamedState

// Get returns the state called name, or nil.
func (s States) Get(name string) State {
	for _, ns := range s {
		if ns.Name == name {
			return ns.State
		}
	}
	return nil
}

// MarshalJSON writes the states as a JSON object in order.
func (s States) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, ns := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(ns.Name)
		b.Write(k)
		b.WriteByte(':')
		if ns.State == nil {
			return nil, fmt.Errorf("state %q is nil", ns.Name)
		}
		v, err := json.Marshal(ns.State)
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", ns.Name, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// State is one ASL state: *Task, *Pass, *Choice, *Wait, *Succeed, *Fail,
// *Parallel, *Map or *Raw.
type State interface {
	// Type returns the ASL "Type" field.
	Type() string
	// transitions lists the names this state may go to next (Next, Default,
	// Choices, Catch).
	transitions() []string
	// terminal reports whether the state may end its (sub-)machine.
	terminal() bool
}

// IO holds the input and output filters most states share.
type IO struct {
	InputPath  Path `json:"InputPath,omitzero"`
	OutputPath Path `json:"OutputPath,omitzero"`
}

// Flow says where a state goes when it is done: Next or End.
type Flow struct {
	Next string `json:"Next,omitempty"`
	End  bool   `json:"End,omitempty"`
}

func (f Flow) flowNext() []string {
	if f.Next == "" {
		return nil
	}
	return []string{f.Next}
}

// Retrier is one entry of a Retry field.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds,omitempty"`
	// MaxAttempts is a pointer because 0 ("never retry") differs from absent (3).
	MaxAttempts     *int    `json:"MaxAttempts,omitempty"`
	BackoffRate     float64 `json:"BackoffRate,omitempty"`
	MaxDelaySeconds int     `json:"MaxDelaySeconds,omitempty"`
	JitterStrategy  string  `json:"JitterStrategy,omitempty"` // FULL or NONE
}

// Catcher is one entry of a Catch field.
type Catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	ResultPath  Path     `json:"ResultPath,omitzero"`
	// Output (JSONata states) replaces ResultPath; Assign sets variables
	// from the error output.
	Output any            `json:"Output,omitempty"`
	Assign map[string]any `json:"Assign,omitempty"`
	Next   string         `json:"Next"`
}

func catchNext(cs []Catcher) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Next)
	}
	return out
}

// Task runs one unit of work: a Lambda ARN or a service integration such as
// arn:aws:states:::lambda:invoke[.waitForTaskToken].
type Task struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	Resource      string `json:"Resource"`
	IO
	Parameters     any            `json:"Parameters,omitempty"`
	Arguments      any            `json:"Arguments,omitempty"`
	ResultSelector any            `json:"ResultSelector,omitempty"`
	ResultPath     Path           `json:"ResultPath,omitzero"`
	Output         any            `json:"Output,omitempty"`
	Assign         map[string]any `json:"Assign,omitempty"`
	// TimeoutSecondsExpr and HeartbeatSecondsExpr are JSONata "{% … %}"
	// expressions written as TimeoutSeconds and HeartbeatSeconds.
	TimeoutSecondsExpr   string    `json:"-"`
	HeartbeatSecondsExpr string    `json:"-"`
	TimeoutSeconds       int       `json:"TimeoutSeconds,omitempty"`
	TimeoutSecondsPath   string    `json:"TimeoutSecondsPath,omitempty"`
	HeartbeatSeconds     int       `json:"HeartbeatSeconds,omitempty"`
	HeartbeatSecondsPath string    `json:"HeartbeatSecondsPath,omitempty"`
	Credentials          any       `json:"Credentials,omitempty"`
	Retry                []Retrier `json:"Retry,omitempty"`
	Catch                []Catcher `json:"Catch,omitempty"`
	Flow
}

// Pass passes its input (or a fixed Result) to its output.
type Pass struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	IO
	Parameters any            `json:"Parameters,omitempty"`
	Result     any            `json:"Result,omitempty"`
	ResultPath Path           `json:"ResultPath,omitzero"`
	Output     any            `json:"Output,omitempty"`
	Assign     map[string]any `json:"Assign,omitempty"`
	Flow
}

// Choice branches on its input.
type Choice struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	IO
	Choices []ChoiceRule   `json:"Choices"`
	Default string         `json:"Default,omitempty"`
	Output  any            `json:"Output,omitempty"`
	Assign  map[string]any `json:"Assign,omitempty"`
}

// Wait delays for Seconds, until Timestamp, or by the value at SecondsPath or
// TimestampPath (exactly one of the four).
type Wait struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	IO
	// Seconds is a pointer because 0 is a valid wait.
	Seconds       *int   `json:"Seconds,omitempty"`
	Timestamp     string `json:"Timestamp,omitempty"`
	SecondsPath   string `json:"SecondsPath,omitempty"`
	TimestampPath string `json:"TimestampPath,omitempty"`
	// SecondsExpr is a JSONata "{% … %}" expression written as Seconds.
	SecondsExpr string         `json:"-"`
	Output      any            `json:"Output,omitempty"`
	Assign      map[string]any `json:"Assign,omitempty"`
	Flow
}

// Succeed ends the (sub-)machine successfully.
type Succeed struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	IO
	Output any `json:"Output,omitempty"`
}

// Fail ends the machine as failed with an error name and cause, fixed or read
// from the input (ErrorPath/CausePath).
type Fail struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	// Error and Cause may be JSONata "{% … %}" expressions in a JSONata state.
	Error     string `json:"Error,omitempty"`
	ErrorPath string `json:"ErrorPath,omitempty"`
	Cause     string `json:"Cause,omitempty"`
	CausePath string `json:"CausePath,omitempty"`
}

// Parallel runs its branches at once on the same input; its result is the
// array of the branches' outputs.
type Parallel struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	IO
	Parameters     any            `json:"Parameters,omitempty"`
	Arguments      any            `json:"Arguments,omitempty"`
	Branches       []*Branch      `json:"Branches"`
	ResultSelector any            `json:"ResultSelector,omitempty"`
	ResultPath     Path           `json:"ResultPath,omitzero"`
	Output         any            `json:"Output,omitempty"`
	Assign         map[string]any `json:"Assign,omitempty"`
	Retry          []Retrier      `json:"Retry,omitempty"`
	Catch          []Catcher      `json:"Catch,omitempty"`
	Flow
}

// Map runs its ItemProcessor (or legacy Iterator) for each item of the array
// at ItemsPath.
type Map struct {
	Comment       string `json:"Comment,omitempty"`
	QueryLanguage string `json:"QueryLanguage,omitempty"`
	IO
	ItemsPath Path `json:"ItemsPath,omitzero"`
	// Items (JSONata states) is an array or a "{% … %}" expression.
	Items                          any            `json:"Items,omitempty"`
	ItemSelector                   any            `json:"ItemSelector,omitempty"`
	Parameters                     any            `json:"Parameters,omitempty"`
	ItemProcessor                  *Branch        `json:"ItemProcessor,omitempty"`
	Iterator                       *Branch        `json:"Iterator,omitempty"`
	MaxConcurrency                 int            `json:"MaxConcurrency,omitempty"`
	MaxConcurrencyPath             string         `json:"MaxConcurrencyPath,omitempty"`
	ToleratedFailureCount          int            `json:"ToleratedFailureCount,omitempty"`
	ToleratedFailureCountPath      string         `json:"ToleratedFailureCountPath,omitempty"`
	ToleratedFailurePercentage     float64        `json:"ToleratedFailurePercentage,omitempty"`
	ToleratedFailurePercentagePath string         `json:"ToleratedFailurePercentagePath,omitempty"`
	Label                          string         `json:"Label,omitempty"`
	ResultSelector                 any            `json:"ResultSelector,omitempty"`
	ResultPath                     Path           `json:"ResultPath,omitzero"`
	Output                         any            `json:"Output,omitempty"`
	Assign                         map[string]any `json:"Assign,omitempty"`
	// The …Expr fields are JSONata "{% … %}" expressions written as
	// MaxConcurrency, ToleratedFailureCount and ToleratedFailurePercentage.
	MaxConcurrencyExpr             string    `json:"-"`
	ToleratedFailureCountExpr      string    `json:"-"`
	ToleratedFailurePercentageExpr string    `json:"-"`
	Retry                          []Retrier `json:"Retry,omitempty"`
	Catch                          []Catcher `json:"Catch,omitempty"`
	Flow
}

// Raw is the escape hatch: a state written as JSON, emitted as given
// (compacted). The validator parses it like any other state.
type Raw struct {
	JSON json.RawMessage
}

// Type implements State.
func (*Task) Type() string { return "Task" }

// Type implements State.
func (*Pass) Type() string { return "Pass" }

// Type implements State.
func (*Choice) Type() string { return "Choice" }

// Type implements State.
func (*Wait) Type() string { return "Wait" }

// Type implements State.
func (*Succeed) Type() string { return "Succeed" }

// Type implements State.
func (*Fail) Type() string { return "Fail" }

// Type implements State.
func (*Parallel) Type() string { return "Parallel" }

// Type implements State.
func (*Map) Type() string { return "Map" }

// Type implements State: the raw JSON's "Type", or "" when it has none.
func (r *Raw) Type() string {
	var t struct{ Type string }
	_ = json.Unmarshal(r.JSON, &t)
	return t.Type
}

func (s *Task) transitions() []string     { return append(s.flowNext(), catchNext(s.Catch)...) }
func (s *Pass) transitions() []string     { return s.flowNext() }
func (s *Wait) transitions() []string     { return s.flowNext() }
func (s *Parallel) transitions() []string { return append(s.flowNext(), catchNext(s.Catch)...) }
func (s *Map) transitions() []string      { return append(s.flowNext(), catchNext(s.Catch)...) }
func (*Succeed) transitions() []string    { return nil }
func (*Fail) transitions() []string       { return nil }
func (s *Choice) transitions() []string {
	var out []string
	for _, r := range s.Choices {
		out = append(out, r.Next)
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	return out
}
func (r *Raw) transitions() []string {
	if st, err := r.parse(); err == nil {
		return st.transitions()
	}
	return nil
}

func (s *Task) terminal() bool     { return s.End }
func (s *Pass) terminal() bool     { return s.End }
func (s *Wait) terminal() bool     { return s.End }
func (s *Parallel) terminal() bool { return s.End }
func (s *Map) terminal() bool      { return s.End }
func (*Succeed) terminal() bool    { return true }
func (*Fail) terminal() bool       { return true }
func (*Choice) terminal() bool     { return false }
func (r *Raw) terminal() bool {
	if st, err := r.parse(); err == nil {
		return st.terminal()
	}
	return false
}

// parse decodes the raw JSON into a typed state.
func (r *Raw) parse() (State, error) {
	var probs problems
	st := decodeState(r.JSON, "", &probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return st, nil
}

// withType marshals v (a pointer to an alias of a state struct, so its own
// MarshalJSON is not called again) with "Type" as the first field.
func withType(typ string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+len(typ)+10)
	out = append(out, `{"Type":"`...)
	out = append(out, typ...)
	out = append(out, '"')
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}

// MarshalJSON writes the state with its Type.
func (s *Task) MarshalJSON() ([]byte, error) {
	type a Task
	if s.TimeoutSecondsExpr == "" && s.HeartbeatSecondsExpr == "" {
		return withType("Task", (*a)(s))
	}
	// The outer fields hide the embedded int fields of the same name.
	return withType("Task", struct {
		*a
		TimeoutSeconds   string `json:"TimeoutSeconds,omitempty"`
		HeartbeatSeconds string `json:"HeartbeatSeconds,omitempty"`
	}{(*a)(s), s.TimeoutSecondsExpr, s.HeartbeatSecondsExpr})
}

// MarshalJSON writes the state with its Type.
func (s *Pass) MarshalJSON() ([]byte, error) { type a Pass; return withType("Pass", (*a)(s)) }

// MarshalJSON writes the state with its Type.
func (s *Choice) MarshalJSON() ([]byte, error) { type a Choice; return withType("Choice", (*a)(s)) }

// MarshalJSON writes the state with its Type.
func (s *Wait) MarshalJSON() ([]byte, error) {
	type a Wait
	if s.SecondsExpr == "" {
		return withType("Wait", (*a)(s))
	}
	return withType("Wait", struct {
		*a
		Seconds string `json:"Seconds"`
	}{(*a)(s), s.SecondsExpr})
}

// MarshalJSON writes the state with its Type.
func (s *Succeed) MarshalJSON() ([]byte, error) { type a Succeed; return withType("Succeed", (*a)(s)) }

// MarshalJSON writes the state with its Type.
func (s *Fail) MarshalJSON() ([]byte, error) { type a Fail; return withType("Fail", (*a)(s)) }

// MarshalJSON writes the state with its Type.
func (s *Parallel) MarshalJSON() ([]byte, error) {
	type a Parallel
	return withType("Parallel", (*a)(s))
}

// MarshalJSON writes the state with its Type.
func (s *Map) MarshalJSON() ([]byte, error) {
	type a Map
	if s.MaxConcurrencyExpr == "" && s.ToleratedFailureCountExpr == "" && s.ToleratedFailurePercentageExpr == "" {
		return withType("Map", (*a)(s))
	}
	return withType("Map", struct {
		*a
		MaxConcurrency             string `json:"MaxConcurrency,omitempty"`
		ToleratedFailureCount      string `json:"ToleratedFailureCount,omitempty"`
		ToleratedFailurePercentage string `json:"ToleratedFailurePercentage,omitempty"`
	}{(*a)(s), s.MaxConcurrencyExpr, s.ToleratedFailureCountExpr, s.ToleratedFailurePercentageExpr})
}

// MarshalJSON writes the raw JSON compacted.
func (r *Raw) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, r.JSON); err != nil {
		return nil, fmt.Errorf("raw state: %w", err)
	}
	return b.Bytes(), nil
}

// JSON returns the definition as deterministic, indented JSON (the same
// machine always gives byte-identical output).
func (m *StateMachine) JSON() ([]byte, error) {
	compact, err := m.compactJSON()
	if err != nil {
		return nil, err
	}
	return indent(compact)
}

// indent pretty-prints a compact definition, two spaces a level, with a
// final newline.
func indent(compact []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(compact) * 2)
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("indent state machine: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
