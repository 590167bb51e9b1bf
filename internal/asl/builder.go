package asl

import (
	"fmt"
	"slices"
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
	output     any
	assign     map[string]any
}

func (rc *retryCatch) build() ([]Retrier, []Catcher) {
	var cs []Catcher
	for _, c := range rc.catches {
		cs = append(cs, Catcher{ErrorEquals: c.errors, ResultPath: c.resultPath, Output: c.output, Assign: c.assign,
			Next: c.handler.startNode().nodeName()})
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

// MachineBuilder assembles a state machine from a chain of states.
type MachineBuilder struct {
	typ     MachineType
	lang    string
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

// QueryLanguage sets the machine's query language, JSONPath (the default)
// or JSONata, which every state uses unless it sets its own.
func (b *MachineBuilder) QueryLanguage(ql string) *MachineBuilder { b.lang = ql; return b }

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
	m := &StateMachine{Comment: b.comment, QueryLanguage: b.lang, StartAt: br.StartAt, States: br.States, TimeoutSeconds: b.timeout}
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
