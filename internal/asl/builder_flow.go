package asl

import "time"

// PassState is a Pass under construction.
type PassState struct {
	stateBase
	p Pass
}

// NewPass starts a Pass state.
func NewPass(name string) *PassState { return &PassState{stateBase: stateBase{name: name}} }

// Comment describes the state.
func (s *PassState) Comment(c string) *PassState { s.p.Comment = c; return s }

// Result sets the fixed result.
func (s *PassState) Result(v any) *PassState { s.p.Result = v; return s }

// Parameters sets the payload template.
func (s *PassState) Parameters(p map[string]any) *PassState { s.p.Parameters = p; return s }

// InputPath selects the state's input.
func (s *PassState) InputPath(p Path) *PassState { s.p.InputPath = p; return s }

// OutputPath selects the state's output.
func (s *PassState) OutputPath(p Path) *PassState { s.p.OutputPath = p; return s }

// ResultPath says where the result goes.
func (s *PassState) ResultPath(p Path) *PassState { s.p.ResultPath = p; return s }

// Next continues with n.
func (s *PassState) Next(n Chainable) *Chain { return next(s, n) }

func (s *PassState) startNode() node     { return s }
func (s *PassState) endNodes() []node    { return []node{s} }
func (s *PassState) setNext(n node) bool { return s.attach(n) }
func (s *PassState) successors() []node  { return nodes(s.next) }
func (s *PassState) build(*machineBuild) State {
	p := s.p
	p.Flow = s.flow()
	return &p
}

// WaitTime says how long a Wait state waits; see WaitSeconds, WaitUntil,
// WaitSecondsPath and WaitTimestampPath.
type WaitTime struct{ w Wait }

// WaitSeconds waits a fixed number of seconds.
func WaitSeconds(n int) WaitTime { return WaitTime{Wait{Seconds: &n}} }

// WaitUntil waits until a fixed time.
func WaitUntil(t time.Time) WaitTime { return WaitTime{Wait{Timestamp: ts(t)}} }

// WaitSecondsExpr waits the number of seconds a JSONata expression ("{% … %}")
// gives (JSONata states).
func WaitSecondsExpr(expr string) WaitTime { return WaitTime{Wait{SecondsExpr: expr}} }

// WaitUntilExpr waits until the timestamp a JSONata expression ("{% … %}")
// gives (JSONata states).
func WaitUntilExpr(expr string) WaitTime { return WaitTime{Wait{Timestamp: expr}} }

// WaitSecondsPath waits the number of seconds found at path.
func WaitSecondsPath(path string) WaitTime { return WaitTime{Wait{SecondsPath: path}} }

// WaitTimestampPath waits until the timestamp found at path.
func WaitTimestampPath(path string) WaitTime { return WaitTime{Wait{TimestampPath: path}} }

// WaitState is a Wait under construction.
type WaitState struct {
	stateBase
	w Wait
}

// NewWait starts a Wait state.
func NewWait(name string, t WaitTime) *WaitState {
	return &WaitState{stateBase: stateBase{name: name}, w: t.w}
}

// Comment describes the state.
func (s *WaitState) Comment(c string) *WaitState { s.w.Comment = c; return s }

// Next continues with n.
func (s *WaitState) Next(n Chainable) *Chain { return next(s, n) }

func (s *WaitState) startNode() node     { return s }
func (s *WaitState) endNodes() []node    { return []node{s} }
func (s *WaitState) setNext(n node) bool { return s.attach(n) }
func (s *WaitState) successors() []node  { return nodes(s.next) }
func (s *WaitState) build(*machineBuild) State {
	w := s.w
	w.Flow = s.flow()
	return &w
}

// SucceedState is a Succeed under construction.
type SucceedState struct {
	stateBase
	s Succeed
}

// NewSucceed returns a Succeed state.
func NewSucceed(name string) *SucceedState { return &SucceedState{stateBase: stateBase{name: name}} }

// Comment describes the state.
func (s *SucceedState) Comment(c string) *SucceedState { s.s.Comment = c; return s }

func (s *SucceedState) startNode() node  { return s }
func (s *SucceedState) endNodes() []node { return nil }
func (s *SucceedState) setNext(node) bool {
	return false
}
func (s *SucceedState) successors() []node { return nil }
func (s *SucceedState) build(*machineBuild) State {
	v := s.s
	return &v
}

// FailState is a Fail under construction.
type FailState struct {
	stateBase
	f Fail
}

// NewFail returns a Fail state with a fixed error name and cause.
func NewFail(name, errorName, cause string) *FailState {
	return &FailState{stateBase: stateBase{name: name}, f: Fail{Error: errorName, Cause: cause}}
}

// ErrorPath reads the error name from the input (reference path or intrinsic).
func (s *FailState) ErrorPath(p string) *FailState { s.f.ErrorPath = p; return s }

// CausePath reads the cause from the input (reference path or intrinsic).
func (s *FailState) CausePath(p string) *FailState { s.f.CausePath = p; return s }

// Comment describes the state.
func (s *FailState) Comment(c string) *FailState { s.f.Comment = c; return s }

func (s *FailState) startNode() node    { return s }
func (s *FailState) endNodes() []node   { return nil }
func (s *FailState) setNext(node) bool  { return false }
func (s *FailState) successors() []node { return nil }
func (s *FailState) build(*machineBuild) State {
	v := s.f
	return &v
}

// ChoiceState is a Choice under construction.
type ChoiceState struct {
	stateBase
	c         Choice
	extras    []ChoiceRule // each rule's Assign and Output
	whens     []Condition
	targets   []Chainable
	otherwise Chainable
}

// NewChoice starts a Choice state.
func NewChoice(name string) *ChoiceState { return &ChoiceState{stateBase: stateBase{name: name}} }

// When goes to then when cond holds (rules are tried in order).
func (s *ChoiceState) When(cond Condition, then Chainable) *ChoiceState {
	return s.WhenRule(Rule{Condition: cond}, then)
}

// Rule is a Choice rule with the variables it assigns and (JSONata) the
// output it gives when it matches.
type Rule struct {
	Condition Condition
	Assign    map[string]any
	Output    any
}

// WhenRule goes to then when r's condition holds, assigning r.Assign and
// (JSONata) giving r.Output.
func (s *ChoiceState) WhenRule(r Rule, then Chainable) *ChoiceState {
	s.whens = append(s.whens, r.Condition)
	s.extras = append(s.extras, ChoiceRule{Assign: r.Assign, Output: r.Output})
	s.targets = append(s.targets, then)
	return s
}

// Otherwise goes to then when no rule holds.
func (s *ChoiceState) Otherwise(then Chainable) *ChoiceState { s.otherwise = then; return s }

// Comment describes the state.
func (s *ChoiceState) Comment(c string) *ChoiceState { s.c.Comment = c; return s }

// InputPath selects the state's input.
func (s *ChoiceState) InputPath(p Path) *ChoiceState { s.c.InputPath = p; return s }

// OutputPath selects the state's output.
func (s *ChoiceState) OutputPath(p Path) *ChoiceState { s.c.OutputPath = p; return s }

// Afterwards returns a chain whose open ends are the open ends of every
// branch, so a following Next joins them.
func (s *ChoiceState) Afterwards() *Chain {
	var ends []node
	for _, t := range s.targets {
		ends = append(ends, t.endNodes()...)
	}
	if s.otherwise != nil {
		ends = append(ends, s.otherwise.endNodes()...)
	}
	return &Chain{start: s, ends: ends}
}

func (s *ChoiceState) startNode() node   { return s }
func (s *ChoiceState) endNodes() []node  { return nil }
func (s *ChoiceState) setNext(node) bool { return false }
func (s *ChoiceState) successors() []node {
	var out []node
	for _, t := range s.targets {
		out = append(out, t.startNode())
	}
	if s.otherwise != nil {
		out = append(out, s.otherwise.startNode())
	}
	return out
}
func (s *ChoiceState) build(*machineBuild) State {
	c := s.c
	c.Choices = []ChoiceRule{}
	for i, cond := range s.whens {
		c.Choices = append(c.Choices, ChoiceRule{Condition: cond, Next: s.targets[i].startNode().nodeName(),
			Assign: s.extras[i].Assign, Output: s.extras[i].Output})
	}
	if s.otherwise != nil {
		c.Default = s.otherwise.startNode().nodeName()
	}
	return &c
}
