package asl

import (
	"errors"
	"fmt"
)

// Resource ARNs of the Lambda service integrations the compiler emits.
const (
	LambdaInvoke             = "arn:aws:states:::lambda:invoke"
	LambdaInvokeWaitForToken = "arn:aws:states:::lambda:invoke.waitForTaskToken"
)

// Names of the states the compiler adds around the steps.
const (
	StartStateName = "Start"
	// StepFailedError is the Error of an execution that failed because a
	// step failed; the Cause names the step.
	StepFailedError = "ai3.StepFailed"
	// maxBranches bounds a Parallel's fan-out so the balanced JsonMerge tree
	// that merges branch results stays within the intrinsic nesting limit.
	maxBranches = 256
)

// Resolver maps a logical task name to the Lambda function ARN (or name) the
// definition should call.
type Resolver func(task string) string

// Compile checks the DAG, schedules it and returns the validated state
// machine. All problems (DAG and ASL) are reported at once.
func (w *Workflow) Compile(arn Resolver) (*StateMachine, error) {
	m, _, err := w.compile(arn)
	return m, err
}

// Definition compiles the workflow and returns its deterministic JSON.
func (w *Workflow) Definition(arn Resolver) ([]byte, error) {
	_, compact, err := w.compile(arn)
	if err != nil {
		return nil, err
	}
	return indent(compact)
}

// compile returns the validated machine and its compact encoding, which the
// size rule needs anyway and Definition reuses.
func (w *Workflow) compile(arn Resolver) (*StateMachine, []byte, error) {
	m, err := w.StateMachine(arn)
	if err != nil {
		return nil, nil, err
	}
	compact, err := m.compactJSON()
	if err != nil {
		return nil, nil, fmt.Errorf("workflow %s: %w", w.name, err)
	}
	if err := validate(m, w.typ, len(compact)).err(); err != nil {
		return nil, nil, fmt.Errorf("workflow %s: %w", w.name, err)
	}
	return m, compact, nil
}

// StateMachine compiles the workflow without the final ASL validation (the
// DAG is still checked). Compile is what callers normally want.
func (w *Workflow) StateMachine(arn Resolver) (*StateMachine, error) {
	plan, err := w.Plan()
	if err != nil {
		return nil, err
	}
	if arn == nil {
		return nil, errors.New("compile: nil resolver")
	}
	c := &compiler{w: w, arn: arn, steps: map[string]*Step{}}
	for _, s := range w.steps {
		c.steps[s.name] = s
	}
	m := &StateMachine{Comment: w.comment, StartAt: StartStateName, TimeoutSeconds: w.timeout}
	start := &Pass{
		Comment:    "Keeps the execution input under $.input; step results collect under $.steps.",
		Parameters: map[string]any{"input.$": "$", "steps": map[string]any{}},
	}
	m.States = States{{Name: StartStateName, State: start}}
	first, end := c.emit(plan, &m.States)
	start.Next = first
	end(nil)
	if len(c.probs) > 0 {
		return nil, fmt.Errorf("workflow %s: %w", w.name, c.probs.err())
	}
	return m, nil
}

type compiler struct {
	w         *Workflow
	arn       Resolver
	steps     map[string]*Step
	parallels int
	probs     problems
}

// emit adds the states of p to states and returns the name of its first
// state and a function that links its last state(s) to next (nil: End).
func (c *compiler) emit(p *Plan, states *States) (string, func(next *string)) {
	switch p.Kind {
	case PlanStep:
		t := c.step(c.steps[p.Step], states)
		return p.Step, func(next *string) { link(&t.Flow, next) }
	case PlanSeries:
		first, end := c.emit(p.Children[0], states)
		for _, child := range p.Children[1:] {
			name, childEnd := c.emit(child, states)
			end(&name)
			end = childEnd
		}
		return first, end
	}
	return c.parallel(p.Children, states)
}

func link(f *Flow, next *string) {
	if next == nil {
		f.End = true
	} else {
		f.Next = *next
	}
}

func (c *compiler) parallel(children []*Plan, states *States) (string, func(*string)) {
	if len(children) > maxBranches {
		// Nest: an outer Parallel of inner Parallels of at most maxBranches
		// branches each; still no step waits for another.
		var groups []*Plan
		for len(children) > 0 {
			n := min(maxBranches, len(children))
			if len(children) == n+1 {
				n-- // never leave a one-branch group behind
			}
			groups = append(groups, &Plan{Kind: PlanParallel, Children: children[:n]})
			children = children[n:]
		}
		children = groups
	}
	c.parallels++
	name := fmt.Sprintf("Parallel %d", c.parallels)
	par := &Parallel{
		Comment: "Runs at the same time: " + summarize(children),
		ResultSelector: map[string]any{
			"input.$": "$[0].input",
			"steps.$": mergeExpr(0, len(children)),
		},
	}
	*states = append(*states, NamedState{Name: name, State: par})
	for _, child := range children {
		b := &Branch{}
		var end func(*string)
		b.StartAt, end = c.emit(child, &b.States)
		end(nil)
		par.Branches = append(par.Branches, b)
	}
	return name, func(next *string) { link(&par.Flow, next) }
}

// summarize renders the branches in Plan notation, shortened for wide fan-outs.
func summarize(children []*Plan) string {
	s := (&Plan{Kind: PlanParallel, Children: children}).String()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// mergeExpr merges the $.steps objects of branches [lo, hi) with a balanced
// tree of shallow JsonMerge calls (each branch only adds its own steps).
func mergeExpr(lo, hi int) string {
	if hi-lo == 1 {
		return fmt.Sprintf("$[%d].steps", lo)
	}
	mid := (lo + hi) / 2
	return fmt.Sprintf("States.JsonMerge(%s, %s, false)", mergeExpr(lo, mid), mergeExpr(mid, hi))
}

// step adds the Task state of s and the states that handle its failure.
func (c *compiler) step(s *Step, states *States) *Task {
	t := s.task
	fn := c.arn(t.task)
	if fn == "" {
		c.probs.add(fmt.Sprintf("steps[%q]", s.name), "task %q resolves to no function", t.task)
	}
	payload := map[string]any{
		"workflow":    c.w.name,
		"step":        s.name,
		"execution.$": "$$.Execution.Id",
		"input.$":     "$.input",
		"steps.$":     "$.steps",
	}
	for k, v := range t.args {
		payload[k] = v
	}
	task := &Task{
		Comment:          t.comment,
		Resource:         LambdaInvoke,
		Parameters:       map[string]any{"FunctionName": fn, "Payload": payload},
		ResultSelector:   map[string]any{"output.$": "$.Payload"},
		ResultPath:       P("$.steps." + s.name),
		TimeoutSeconds:   t.timeout,
		HeartbeatSeconds: t.heartbeat,
		Retry:            t.retry,
	}
	if t.integration == WaitForTaskToken {
		task.Resource = LambdaInvokeWaitForToken
		payload["TaskToken.$"] = "$$.Task.Token"
		// The callback's output is the result itself, not a Lambda response.
		task.ResultSelector = map[string]any{"output.$": "$"}
	}
	failed := s.name + " failed"
	handler := failed
	*states = append(*states, NamedState{Name: s.name, State: task})
	if c.w.report != "" {
		handler = "Report " + s.name + " failure"
		*states = append(*states, NamedState{Name: handler, State: &Task{
			Comment:  "Reports the failure; a failing report does not hide the step's failure.",
			Resource: LambdaInvoke,
			Parameters: map[string]any{"FunctionName": c.arn(c.w.report), "Payload": map[string]any{
				"workflow": c.w.name, "step": s.name, "status": "failed",
				"execution.$": "$$.Execution.Id", "error.$": "$.error",
			}},
			ResultPath: Null(),
			Retry:      []Retrier{TransientLambdaErrors()},
			Catch:      []Catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: Null(), Next: failed}},
			Flow:       Flow{Next: failed},
		}})
	}
	task.Catch = []Catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: P("$.error"), Next: handler}}
	*states = append(*states, NamedState{Name: failed, State: &Fail{
		Error: StepFailedError,
		Cause: fmt.Sprintf("step %s of workflow %s failed", s.name, c.w.name),
	}})
	return task
}
