package asl

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Workflow is a DAG of steps, each a task with the steps it Needs. Compile
// turns it into a state machine that runs every step once, never before its
// needs succeeded, with as much parallelism as the DAG allows.
type Workflow struct {
	name    string
	typ     MachineType
	comment string
	timeout int
	report  string
	steps   []*Step
}

// Step is one node of a Workflow.
type Step struct {
	name  string
	task  *StepTask
	needs []string
}

// Integration says how a step's Lambda is called.
type Integration int

const (
	// RequestResponse invokes the Lambda and continues with its result
	// (arn:aws:states:::lambda:invoke).
	RequestResponse Integration = iota
	// WaitForTaskToken invokes the Lambda with a task token and pauses until
	// someone calls SendTaskSuccess/SendTaskFailure with that token
	// (arn:aws:states:::lambda:invoke.waitForTaskToken). STANDARD only.
	WaitForTaskToken
)

// StepTask is the work of a step: a logical task name (resolved to a Lambda
// ARN at compile time), how to call it, fixed payload fields and retries.
type StepTask struct {
	task        string
	integration Integration
	args        map[string]any
	retry       []Retrier
	timeout     int
	heartbeat   int
	comment     string
}

// Invoke calls the logical task's Lambda and waits for its response.
func Invoke(task string) *StepTask { return &StepTask{task: task, integration: RequestResponse} }

// InvokeAndWait calls the logical task's Lambda with a task token and pauses
// until the token is completed (callback pattern).
func InvokeAndWait(task string) *StepTask {
	return &StepTask{task: task, integration: WaitForTaskToken}
}

// With adds a fixed field to the payload the task receives.
func (t *StepTask) With(key string, value any) *StepTask {
	if t.args == nil {
		t.args = map[string]any{}
	}
	t.args[key] = value
	return t
}

// Retry adds retry policies, tried in order.
func (t *StepTask) Retry(r ...Retrier) *StepTask { t.retry = append(t.retry, r...); return t }

// Timeout fails the step (States.Timeout) when it runs longer than seconds.
func (t *StepTask) Timeout(seconds int) *StepTask { t.timeout = seconds; return t }

// Heartbeat fails the step (States.HeartbeatTimeout) when no heartbeat
// arrives for seconds.
func (t *StepTask) Heartbeat(seconds int) *StepTask { t.heartbeat = seconds; return t }

// Comment describes the step in the definition.
func (t *StepTask) Comment(c string) *StepTask { t.comment = c; return t }

// Arg returns the fixed payload field key set with With (nil when unset).
func (t *StepTask) Arg(key string) any { return t.args[key] }

// Task returns the logical task name.
func (t *StepTask) Task() string { return t.task }

// Integration returns how the task is called.
func (t *StepTask) Integration() Integration { return t.integration }

// TransientLambdaErrors retries the errors the Lambda service raises when it
// is briefly unavailable or throttling: 3 attempts, 2 s then doubling, jittered.
func TransientLambdaErrors() Retrier {
	three := 3
	return Retrier{
		ErrorEquals: []string{"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
			"Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"},
		IntervalSeconds: 2, MaxAttempts: &three, BackoffRate: 2, JitterStrategy: "FULL",
	}
}

// NewWorkflow starts a workflow of the given machine type.
func NewWorkflow(name string, t MachineType) *Workflow { return &Workflow{name: name, typ: t} }

// Comment describes the workflow in the definition.
func (w *Workflow) Comment(c string) *Workflow { w.comment = c; return w }

// Timeout bounds the whole execution (TimeoutSeconds).
func (w *Workflow) Timeout(seconds int) *Workflow { w.timeout = seconds; return w }

// ReportFailuresWith invokes the logical task with the failed step's name and
// error before the execution fails, so the failure can be reported.
func (w *Workflow) ReportFailuresWith(task string) *Workflow { w.report = task; return w }

// Step adds a step. Names are lowercase letters, digits and underscores,
// starting with a letter, because they become paths ($.steps.<name>).
func (w *Workflow) Step(name string, t *StepTask) *Step {
	s := &Step{name: name, task: t}
	w.steps = append(w.steps, s)
	return s
}

// Needs declares the steps that must succeed before this one starts.
func (s *Step) Needs(steps ...string) *Step { s.needs = append(s.needs, steps...); return s }

// Name returns the step's name.
func (s *Step) Name() string { return s.name }

// NeedsList returns the names the step needs, as declared.
func (s *Step) NeedsList() []string { return slices.Clone(s.needs) }

// Task returns the step's task.
func (s *Step) Task() *StepTask { return s.task }

// Name returns the workflow's name.
func (w *Workflow) Name() string { return w.name }

// Type returns the workflow's machine type.
func (w *Workflow) Type() MachineType { return w.typ }

// Description returns the workflow's comment.
func (w *Workflow) Description() string { return w.comment }

// Steps returns the steps in declaration order.
func (w *Workflow) Steps() []*Step { return slices.Clone(w.steps) }

// Tasks returns the sorted logical task names the workflow uses.
func (w *Workflow) Tasks() []string {
	seen := map[string]bool{}
	if w.report != "" {
		seen[w.report] = true
	}
	for _, s := range w.steps {
		if s.task != nil {
			seen[s.task.task] = true
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// maxStepName keeps synthesized state names ("Report <step> failure") within
// the 80-character limit.
const maxStepName = 60

// reservedPayloadKeys are set by the compiler in every step's payload.
func reservedPayloadKey(k string) bool {
	switch strings.TrimSuffix(k, ".$") {
	case "workflow", "step", "execution", "input", "steps", "TaskToken":
		return true
	}
	return false
}

// graph checks the DAG and returns needs as indexes. Every problem is
// reported at once: bad or duplicate names, missing tasks, unknown needs,
// cycles.
func (w *Workflow) graph() ([]string, [][]int, problems) {
	var probs problems
	namePattern := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	if w.name == "" {
		probs.add("", "workflow has no name")
	}
	if w.typ != Express && w.typ != Standard {
		probs.add("", "workflow type must be Express or Standard, not %q", w.typ)
	}
	if len(w.steps) == 0 {
		probs.add("", "workflow %q has no steps", w.name)
	}
	index := map[string]int{}
	names := make([]string, len(w.steps))
	for i, s := range w.steps {
		at := fmt.Sprintf("steps[%q]", s.name)
		names[i] = s.name
		switch {
		case !namePattern.MatchString(s.name):
			probs.add(at, "step name must match %s", namePattern)
		case len(s.name) > maxStepName:
			probs.add(at, "step name is %d characters, over %d", len(s.name), maxStepName)
		}
		if _, dup := index[s.name]; dup {
			probs.add(at, "duplicate step name")
			continue
		}
		index[s.name] = i
		if s.task == nil || s.task.task == "" {
			probs.add(at, "step has no task")
			continue
		}
		for k := range s.task.args {
			if reservedPayloadKey(k) {
				probs.add(at, "payload field %q is set by the compiler", k)
			}
		}
		if s.task.integration == WaitForTaskToken && w.typ == Express {
			probs.add(at, "waits for a task token, which an EXPRESS workflow cannot do")
		}
	}
	needs := make([][]int, len(w.steps))
	for i, s := range w.steps {
		seen := map[int]bool{}
		for _, n := range s.needs {
			j, ok := index[n]
			switch {
			case !ok:
				probs.add(fmt.Sprintf("steps[%q]", s.name), "needs unknown step %q", n)
			case j == i:
				probs.add(fmt.Sprintf("steps[%q]", s.name), "needs itself")
			case !seen[j]:
				seen[j] = true
				needs[i] = append(needs[i], j)
			}
		}
	}
	for _, cyc := range cycles(names, needs) {
		probs.add(fmt.Sprintf("steps[%q]", cyc[0]), "dependency cycle: %s", strings.Join(cyc, " → "))
	}
	return names, needs, probs
}

// cycles returns one cycle (as a closed list of names) per strongly connected
// group of steps that needs itself, found by depth-first search.
func cycles(names []string, needs [][]int) [][]string {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(names))
	var out [][]string
	var stack []int
	var visit func(v int)
	visit = func(v int) {
		color[v] = grey
		stack = append(stack, v)
		for _, d := range needs[v] {
			switch color[d] {
			case white:
				visit(d)
			case grey:
				i := slices.Index(stack, d)
				var cyc []string
				for j := len(stack) - 1; j >= i; j-- {
					cyc = append(cyc, names[stack[j]])
				}
				// stack runs from needer to need; print "a needs b needs ... a".
				slices.Reverse(cyc)
				out = append(out, append(cyc, names[d]))
			}
		}
		stack = stack[:len(stack)-1]
		color[v] = black
	}
	for v := range names {
		if color[v] == white {
			visit(v)
		}
	}
	return out
}

// Plan checks the DAG and returns its series-parallel schedule.
func (w *Workflow) Plan() (*Plan, error) {
	names, needs, probs := w.graph()
	if err := probs.err(); err != nil {
		return nil, fmt.Errorf("workflow %s: %w", w.name, err)
	}
	return schedule(names, needs), nil
}
