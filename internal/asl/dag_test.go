package asl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func arn(task string) string { return "arn:aws:lambda:us-east-1:000000000000:function:ai3-" + task }

func TestWorkflowReportsEveryDAGProblem(t *testing.T) {
	w := NewWorkflow("bad", Express)
	w.Step("a", Invoke("t")).Needs("c")
	w.Step("b", Invoke("t")).Needs("a")
	w.Step("c", Invoke("t")).Needs("b", "ghost")
	w.Step("a", Invoke("t"))
	w.Step("Bad-Name", Invoke("t"))
	w.Step("self", Invoke("t")).Needs("self")
	w.Step("token", InvokeAndWait("t"))
	w.Step("reserved", Invoke("t").With("steps", 1))
	w.Step("notask", nil)
	_, err := w.Compile(arn)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{
		`steps["a"]: dependency cycle: a → c → b → a`,
		`steps["c"]: needs unknown step "ghost"`,
		`steps["a"]: duplicate step name`,
		`steps["Bad-Name"]: step name must match`,
		`steps["self"]: needs itself`,
		`steps["token"]: waits for a task token, which an EXPRESS workflow cannot do`,
		`steps["reserved"]: payload field "steps" is set by the compiler`,
		`steps["notask"]: step has no task`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestCompiledStepShape(t *testing.T) {
	w := NewWorkflow("wf", Standard).ReportFailuresWith("report")
	w.Step("build", Invoke("build").With("target", "linux").Timeout(60).Retry(TransientLambdaErrors()))
	w.Step("approve", InvokeAndWait("approval")).Needs("build")
	m, err := w.Compile(arn)
	if err != nil {
		t.Fatal(err)
	}
	b := m.States.Get("build").(*Task)
	if b.Resource != LambdaInvoke || b.ResultPath.Expr() != "$.steps.build" || b.Next != "approve" || b.TimeoutSeconds != 60 {
		t.Errorf("build: resource %s, ResultPath %v, Next %q, timeout %d", b.Resource, b.ResultPath, b.Next, b.TimeoutSeconds)
	}
	params := b.Parameters.(map[string]any)
	payload := params["Payload"].(map[string]any)
	if params["FunctionName"] != arn("build") || payload["target"] != "linux" || payload["steps.$"] != "$.steps" {
		t.Errorf("build parameters: %v", params)
	}
	if len(b.Catch) != 1 || b.Catch[0].Next != "Report build failure" || b.Catch[0].ResultPath.Expr() != "$.error" {
		t.Errorf("build catch: %+v", b.Catch)
	}
	rep := m.States.Get("Report build failure").(*Task)
	if rep.Next != "build failed" || !rep.ResultPath.IsNull() || rep.Catch[0].Next != "build failed" {
		t.Errorf("report: %+v", rep)
	}
	f := m.States.Get("build failed").(*Fail)
	if f.Error != StepFailedError || !strings.Contains(f.Cause, "step build ") {
		t.Errorf("fail state: %+v", f)
	}
	a := m.States.Get("approve").(*Task)
	if a.Resource != LambdaInvokeWaitForToken || !a.End || !mentionsTaskToken(a.Parameters) {
		t.Errorf("approve: %+v", a)
	}
}

func TestCompileWideFanOutNestsParallels(t *testing.T) {
	w := NewWorkflow("wide", Standard)
	for i := range 600 {
		w.Step(fmt.Sprintf("s%d", i), Invoke("t"))
	}
	m, err := w.Compile(arn)
	if err != nil {
		t.Fatal(err)
	}
	outer := m.States.Get("Parallel 1").(*Parallel)
	if len(outer.Branches) != 3 {
		t.Fatalf("outer Parallel has %d branches, want 3 groups of at most %d", len(outer.Branches), maxBranches)
	}
	for i, b := range outer.Branches {
		inner := b.States[0].State.(*Parallel)
		if len(inner.Branches) > maxBranches {
			t.Errorf("group %d has %d branches", i, len(inner.Branches))
		}
		expr := inner.ResultSelector.(map[string]any)["steps.$"].(string)
		if err := checkIntrinsic(expr); err != nil {
			t.Errorf("group %d merge: %v", i, err)
		}
	}
}

func TestCompileRejectsUnresolvedTask(t *testing.T) {
	w := NewWorkflow("wf", Standard)
	w.Step("a", Invoke("missing"))
	_, err := w.Compile(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), `task "missing" resolves to no function`) {
		t.Fatalf("got %v", err)
	}
}

func benchWorkflow(n int) *Workflow {
	names, needs := benchDAG(n, 42)
	w := NewWorkflow("bench", Standard)
	for i, name := range names {
		s := w.Step(name, Invoke("task"))
		for _, d := range needs[i] {
			s.Needs(names[d])
		}
	}
	return w
}

// BenchmarkCompile compiles a random DAG to compact ASL JSON (what Step
// Functions receives): schedule, states, deterministic encoding. The ASL
// validation and its 1 MB limit are left out so that 10,000 steps can be
// measured; BenchmarkCompileValidated includes them.
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		w := benchWorkflow(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				m, err := w.StateMachine(arn)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileValidated is Compile with every ASL rule checked.
// TestCompileReportsOversizedWorkflow: a DAG whose definition would pass the
// 1 MB Step Functions limit is refused at compile time.
func TestCompileReportsOversizedWorkflow(t *testing.T) {
	m, err := benchWorkflow(2000).StateMachine(arn)
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := m.MarshalJSON()
	if len(compact) <= MaxDefinitionBytes {
		t.Fatalf("test DAG is only %d bytes; make it bigger", len(compact))
	}
	_, err = benchWorkflow(2000).Compile(arn)
	if err == nil || !strings.Contains(err.Error(), "over the 1048576-byte limit") {
		t.Fatalf("got %v, want the size limit", err)
	}
	if _, err := benchWorkflow(1000).Compile(arn); err != nil {
		t.Fatalf("1,000 steps: %v", err)
	}
}

func BenchmarkCompileValidated(b *testing.B) {
	for _, n := range []int{100, 1000} {
		w := benchWorkflow(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				if _, err := w.Compile(arn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
