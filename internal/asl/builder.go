package asl

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Chainable is anything a chain can continue with: a state under
// construction or a *Chain.
type Chainable interface {
	// startNode is where control enters.
	startNode() node
	// endNodes are the open ends a following Next attaches to.
	endNodes() []node
}

// node is a state under construction.
type node interface {
	Chainable
	nodeName() string
	// setNext attaches the state that follows; false when the state cannot
	// have a Next (Choice, Succeed, Fail).
	setNext(n node) bool
	// successors lists the nodes reachable in one transition in this scope.
	successors() []node
	// build returns the finished state; scopes builds nested branches.
	build(b *machineBuild) State
	base() *stateBase
}

// stateBase holds what every buildable state shares.
type stateBase struct {
	name string
	next node
	errs []string
}

func (s *stateBase) nodeName() string { return s.name }
func (s *stateBase) base() *stateBase { return s }
func (s *stateBase) errorf(f string, a ...any) {
	s.errs = append(s.errs, fmt.Sprintf(f, a...))
}

func (s *stateBase) attach(n node) bool {
	if s.next != nil {
		s.errorf("already continues with %q; cannot also continue with %q", s.next.nodeName(), n.nodeName())
		return true
	}
	s.next = n
	return true
}

func (s *stateBase) flow() Flow {
	if s.next == nil {
		return Flow{End: true}
	}
	return Flow{Next: s.next.nodeName()}
}

// Chain is a sequence of states built with Next, like CDK's Chain.
type Chain struct {
	start node
	ends  []node
}

func (c *Chain) startNode() node  { return c.start }
func (c *Chain) endNodes() []node { return c.ends }

// Sequence chains the given states (or chains) one after another.
func Sequence(first Chainable, rest ...Chainable) *Chain {
	c := &Chain{start: first.startNode(), ends: first.endNodes()}
	for _, r := range rest {
		c = c.Next(r)
	}
	return c
}

// Next continues every open end of the chain with n.
func (c *Chain) Next(n Chainable) *Chain {
	for _, e := range c.ends {
		if !e.setNext(n.startNode()) {
			e.base().errorf("a %T cannot continue with %q", e, n.startNode().nodeName())
		}
	}
	return &Chain{start: c.start, ends: n.endNodes()}
}

// next is the shared body of every flow state's Next method.
func next(self node, n Chainable) *Chain {
	self.setNext(n.startNode())
	return &Chain{start: self, ends: n.endNodes()}
}

// retryCatch holds a state's error handling under construction.
type retryCatch struct {
	retry   []Retrier
	catches []catchSpec
}

type catchSpec struct {
	errors     []string
	resultPath Path
	handler    Chainable
}

func (rc *retryCatch) build() ([]Retrier, []Catcher) {
	var cs []Catcher
	for _, c := range rc.catches {
		cs = append(cs, Catcher{ErrorEquals: c.errors, ResultPath: c.resultPath, Next: c.handler.startNode().nodeName()})
	}
	return slices.Clone(rc.retry), cs
}

func (rc *retryCatch) handlers() []node {
	var out []node
	for _, c := range rc.catches {
		out = append(out, c.handler.startNode())
	}
	return out
}

// TaskState is a Task under construction.
type TaskState struct {
	stateBase
	t  Task
	rc retryCatch
}

// NewTask starts a Task state calling resource (a Lambda ARN or a service
// integration ARN).
func NewTask(name, resource string) *TaskState {
	return &TaskState{stateBase: stateBase{name: name}, t: Task{Resource: resource}}
}

// NewLambdaInvoke starts a Task that calls function through
// arn:aws:states:::lambda:invoke with payload ("key.$" fields are paths).
func NewLambdaInvoke(name, function string, payload map[string]any) *TaskState {
	params := map[string]any{"FunctionName": function}
	if payload != nil {
		params["Payload"] = payload
	}
	return &TaskState{stateBase: stateBase{name: name}, t: Task{Resource: LambdaInvoke, Parameters: params}}
}

// WaitForTaskToken switches the integration to the callback pattern
// (.waitForTaskToken); the Parameters must pass $$.Task.Token on.
func (s *TaskState) WaitForTaskToken() *TaskState { s.t.Resource += ".waitForTaskToken"; return s }

// Sync switches the integration to run a job and wait for it (.sync).
func (s *TaskState) Sync() *TaskState { s.t.Resource += ".sync"; return s }

// Comment describes the state.
func (s *TaskState) Comment(c string) *TaskState { s.t.Comment = c; return s }

// InputPath selects the state's input.
func (s *TaskState) InputPath(p Path) *TaskState { s.t.InputPath = p; return s }

// OutputPath selects the state's output.
func (s *TaskState) OutputPath(p Path) *TaskState { s.t.OutputPath = p; return s }

// Parameters sets the payload template.
func (s *TaskState) Parameters(p map[string]any) *TaskState { s.t.Parameters = p; return s }

// ResultSelector reshapes the raw result.
func (s *TaskState) ResultSelector(p map[string]any) *TaskState { s.t.ResultSelector = p; return s }

// ResultPath says where the result goes (Null() discards it).
func (s *TaskState) ResultPath(p Path) *TaskState { s.t.ResultPath = p; return s }

// Timeout sets TimeoutSeconds.
func (s *TaskState) Timeout(seconds int) *TaskState { s.t.TimeoutSeconds = seconds; return s }

// TimeoutPath reads the timeout from the input.
func (s *TaskState) TimeoutPath(p string) *TaskState { s.t.TimeoutSecondsPath = p; return s }

// Heartbeat sets HeartbeatSeconds.
func (s *TaskState) Heartbeat(seconds int) *TaskState { s.t.HeartbeatSeconds = seconds; return s }

// HeartbeatPath reads the heartbeat interval from the input.
func (s *TaskState) HeartbeatPath(p string) *TaskState { s.t.HeartbeatSecondsPath = p; return s }

// Retry adds retry policies.
func (s *TaskState) Retry(r ...Retrier) *TaskState { s.rc.retry = append(s.rc.retry, r...); return s }

// Catch sends the listed errors to handler, with the error at resultPath.
func (s *TaskState) Catch(errors []string, resultPath Path, handler Chainable) *TaskState {
	s.rc.catches = append(s.rc.catches, catchSpec{errors, resultPath, handler})
	return s
}

// Next continues with n.
func (s *TaskState) Next(n Chainable) *Chain { return next(s, n) }

func (s *TaskState) startNode() node     { return s }
func (s *TaskState) endNodes() []node    { return []node{s} }
func (s *TaskState) setNext(n node) bool { return s.attach(n) }
func (s *TaskState) successors() []node  { return append(nodes(s.next), s.rc.handlers()...) }
func (s *TaskState) build(*machineBuild) State {
	t := s.t
	t.Retry, t.Catch = s.rc.build()
	t.Flow = s.flow()
	return &t
}

func nodes(n node) []node {
	if n == nil {
		return nil
	}
	return []node{n}
}

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
	whens     []Condition
	targets   []Chainable
	otherwise Chainable
}

// NewChoice starts a Choice state.
func NewChoice(name string) *ChoiceState { return &ChoiceState{stateBase: stateBase{name: name}} }

// When goes to then when cond holds (rules are tried in order).
func (s *ChoiceState) When(cond Condition, then Chainable) *ChoiceState {
	s.whens = append(s.whens, cond)
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
		c.Choices = append(c.Choices, ChoiceRule{Condition: cond, Next: s.targets[i].startNode().nodeName()})
	}
	if s.otherwise != nil {
		c.Default = s.otherwise.startNode().nodeName()
	}
	return &c
}

// ParallelState is a Parallel under construction.
type ParallelState struct {
	stateBase
	p        Parallel
	branches []Chainable
	rc       retryCatch
}

// NewParallel starts a Parallel state.
func NewParallel(name string) *ParallelState { return &ParallelState{stateBase: stateBase{name: name}} }

// Branch adds branches that run at the same time.
func (s *ParallelState) Branch(bs ...Chainable) *ParallelState {
	s.branches = append(s.branches, bs...)
	return s
}

// Comment describes the state.
func (s *ParallelState) Comment(c string) *ParallelState { s.p.Comment = c; return s }

// InputPath selects the state's input.
func (s *ParallelState) InputPath(p Path) *ParallelState { s.p.InputPath = p; return s }

// OutputPath selects the state's output.
func (s *ParallelState) OutputPath(p Path) *ParallelState { s.p.OutputPath = p; return s }

// Parameters sets the input template of every branch.
func (s *ParallelState) Parameters(p map[string]any) *ParallelState { s.p.Parameters = p; return s }

// ResultSelector reshapes the array of branch outputs.
func (s *ParallelState) ResultSelector(p map[string]any) *ParallelState {
	s.p.ResultSelector = p
	return s
}

// ResultPath says where the result goes.
func (s *ParallelState) ResultPath(p Path) *ParallelState { s.p.ResultPath = p; return s }

// Retry adds retry policies.
func (s *ParallelState) Retry(r ...Retrier) *ParallelState {
	s.rc.retry = append(s.rc.retry, r...)
	return s
}

// Catch sends the listed errors to handler.
func (s *ParallelState) Catch(errors []string, resultPath Path, handler Chainable) *ParallelState {
	s.rc.catches = append(s.rc.catches, catchSpec{errors, resultPath, handler})
	return s
}

// Next continues with n.
func (s *ParallelState) Next(n Chainable) *Chain { return next(s, n) }

func (s *ParallelState) startNode() node     { return s }
func (s *ParallelState) endNodes() []node    { return []node{s} }
func (s *ParallelState) setNext(n node) bool { return s.attach(n) }
func (s *ParallelState) successors() []node  { return append(nodes(s.next), s.rc.handlers()...) }
func (s *ParallelState) build(b *machineBuild) State {
	p := s.p
	p.Branches = []*Branch{}
	for _, br := range s.branches {
		p.Branches = append(p.Branches, b.branch(br))
	}
	p.Retry, p.Catch = s.rc.build()
	p.Flow = s.flow()
	return &p
}

// MapState is a Map under construction.
type MapState struct {
	stateBase
	m         Map
	processor Chainable
	rc        retryCatch
}

// NewMap starts a Map state over the array at itemsPath.
func NewMap(name string, itemsPath Path) *MapState {
	return &MapState{stateBase: stateBase{name: name}, m: Map{ItemsPath: itemsPath}}
}

// ItemProcessor sets the inline sub-machine run for each item.
func (s *MapState) ItemProcessor(c Chainable) *MapState { s.processor = c; return s }

// ItemSelector sets the template each item is given as.
func (s *MapState) ItemSelector(p map[string]any) *MapState { s.m.ItemSelector = p; return s }

// MaxConcurrency bounds how many items run at once (0: no bound).
func (s *MapState) MaxConcurrency(n int) *MapState { s.m.MaxConcurrency = n; return s }

// ToleratedFailurePercentage lets the Map succeed while at most pct% of items fail.
func (s *MapState) ToleratedFailurePercentage(pct float64) *MapState {
	s.m.ToleratedFailurePercentage = pct
	return s
}

// ToleratedFailureCount lets the Map succeed while at most n items fail.
func (s *MapState) ToleratedFailureCount(n int) *MapState { s.m.ToleratedFailureCount = n; return s }

// Comment describes the state.
func (s *MapState) Comment(c string) *MapState { s.m.Comment = c; return s }

// ResultPath says where the result goes.
func (s *MapState) ResultPath(p Path) *MapState { s.m.ResultPath = p; return s }

// ResultSelector reshapes the array of item results.
func (s *MapState) ResultSelector(p map[string]any) *MapState { s.m.ResultSelector = p; return s }

// InputPath selects the state's input.
func (s *MapState) InputPath(p Path) *MapState { s.m.InputPath = p; return s }

// OutputPath selects the state's output.
func (s *MapState) OutputPath(p Path) *MapState { s.m.OutputPath = p; return s }

// Retry adds retry policies.
func (s *MapState) Retry(r ...Retrier) *MapState { s.rc.retry = append(s.rc.retry, r...); return s }

// Catch sends the listed errors to handler.
func (s *MapState) Catch(errors []string, resultPath Path, handler Chainable) *MapState {
	s.rc.catches = append(s.rc.catches, catchSpec{errors, resultPath, handler})
	return s
}

// Next continues with n.
func (s *MapState) Next(n Chainable) *Chain { return next(s, n) }

func (s *MapState) startNode() node     { return s }
func (s *MapState) endNodes() []node    { return []node{s} }
func (s *MapState) setNext(n node) bool { return s.attach(n) }
func (s *MapState) successors() []node  { return append(nodes(s.next), s.rc.handlers()...) }
func (s *MapState) build(b *machineBuild) State {
	m := s.m
	if s.processor == nil {
		s.errorf("Map has no ItemProcessor")
	} else {
		m.ItemProcessor = b.branch(s.processor)
		m.ItemProcessor.ProcessorConfig = &ProcessorConfig{Mode: "INLINE"}
	}
	m.Retry, m.Catch = s.rc.build()
	m.Flow = s.flow()
	return &m
}

// RawState is the escape hatch: a state given as JSON. Next sets its "Next"
// (and clears "End"); the validator still checks it like any other state.
type RawState struct {
	stateBase
	raw json.RawMessage
}

// NewRaw wraps a state written as JSON.
func NewRaw(name string, state json.RawMessage) *RawState {
	return &RawState{stateBase: stateBase{name: name}, raw: state}
}

// Next continues with n.
func (s *RawState) Next(n Chainable) *Chain { return next(s, n) }

func (s *RawState) startNode() node     { return s }
func (s *RawState) endNodes() []node    { return []node{s} }
func (s *RawState) setNext(n node) bool { return s.attach(n) }
func (s *RawState) successors() []node  { return nodes(s.next) }
func (s *RawState) build(*machineBuild) State {
	if s.next == nil {
		return &Raw{JSON: s.raw}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(s.raw, &fields); err != nil {
		s.errorf("raw state is not a JSON object: %v", err)
		return &Raw{JSON: s.raw}
	}
	delete(fields, "End")
	fields["Next"], _ = json.Marshal(s.next.nodeName())
	b, _ := json.Marshal(fields) // sorted keys: deterministic
	return &Raw{JSON: b}
}

// MachineBuilder assembles a state machine from a chain of states.
type MachineBuilder struct {
	typ     MachineType
	start   Chainable
	comment string
	timeout int
}

// NewStateMachine starts a machine of type t that begins with definition.
func NewStateMachine(t MachineType, definition Chainable) *MachineBuilder {
	return &MachineBuilder{typ: t, start: definition}
}

// Comment describes the machine.
func (b *MachineBuilder) Comment(c string) *MachineBuilder { b.comment = c; return b }

// Timeout bounds the execution (TimeoutSeconds).
func (b *MachineBuilder) Timeout(seconds int) *MachineBuilder { b.timeout = seconds; return b }

// machineBuild is the state of one Build call.
type machineBuild struct {
	probs  problems
	owner  map[node]int // node → scope it was placed in, to catch sharing across scopes
	scopes int
}

// Build collects every state reachable from the start, fills in Next/End,
// and validates the machine: all problems (misuse of the builder, invalid
// paths, names, conditions, EXPRESS limits, ...) come back at once as a
// *ValidationError naming each state.
func (b *MachineBuilder) Build() (*StateMachine, error) {
	if b.start == nil {
		return nil, (&problems{{Message: "state machine has no states"}}).err()
	}
	mb := &machineBuild{owner: map[node]int{}}
	br := mb.branch(b.start)
	m := &StateMachine{Comment: b.comment, StartAt: br.StartAt, States: br.States, TimeoutSeconds: b.timeout}
	probs := append(mb.probs, validate(m, b.typ, encodedSize(m))...)
	return m, probs.err()
}

func encodedSize(m *StateMachine) int {
	enc, err := m.compactJSON()
	if err != nil {
		return -1
	}
	return len(enc)
}

// branch builds the scope that starts at c: the states reachable from it,
// in depth-first order with Next first.
func (mb *machineBuild) branch(c Chainable) *Branch {
	start := c.startNode()
	mb.scopes++
	scope := mb.scopes
	br := &Branch{StartAt: start.nodeName()}
	var order []node
	seen := map[node]bool{}
	var visit func(n node)
	visit = func(n node) {
		if seen[n] {
			return
		}
		seen[n] = true
		order = append(order, n)
		for _, s := range n.successors() {
			visit(s)
		}
	}
	visit(start)
	for _, n := range order {
		if other, ok := mb.owner[n]; ok && other != scope {
			mb.probs.add(statePath("", n.nodeName()), "state is used in two branches; build a separate state for each")
		}
		mb.owner[n] = scope
		st := n.build(mb)
		for _, e := range n.base().errs {
			mb.probs.add(statePath("", n.nodeName()), "%s", e)
		}
		n.base().errs = nil
		br.States = append(br.States, NamedState{Name: n.nodeName(), State: st})
	}
	return br
}
