package asl

import "encoding/json"

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
	s.rc.catches = append(s.rc.catches, catchSpec{errors: errors, resultPath: resultPath, handler: handler})
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
	s.rc.catches = append(s.rc.catches, catchSpec{errors: errors, resultPath: resultPath, handler: handler})
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
	s.rc.catches = append(s.rc.catches, catchSpec{errors: errors, resultPath: resultPath, handler: handler})
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
