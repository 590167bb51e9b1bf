package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// forward lets the handlers complete tokens on an executor created after them.
type forward struct{ ex *localsfn.Executor }

func (f *forward) SendTaskSuccess(ctx context.Context, token string, out json.RawMessage) error {
	return f.ex.SendTaskSuccess(ctx, token, out)
}

func (f *forward) SendTaskFailure(ctx context.Context, token, name, cause string) error {
	return f.ex.SendTaskFailure(ctx, token, name, cause)
}

// calls records the order in which step handlers ran.
type calls struct {
	mu    sync.Mutex
	steps []string // "<function>:<step>" in call order
}

func (c *calls) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.steps)
}

// runWorkflow compiles a workflow, runs it on the embedded executor with the
// local handlers, and returns the final description and the handler calls.
func runWorkflow(t *testing.T, name, input string) (*localsfn.ExecutionDescription, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fw := &forward{}
	rec := &calls{}
	handlers := map[string]localsfn.Handler{}
	for fn, h := range workflows.LocalHandlers(fw) {
		handlers[fn] = func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			var p struct{ Step, Kind string }
			_ = json.Unmarshal(in, &p)
			if p.Kind == "" {
				p.Kind = "report"
			}
			rec.mu.Lock()
			rec.steps = append(rec.steps, p.Kind+":"+p.Step)
			rec.mu.Unlock()
			return h(ctx, in)
		}
	}
	ex, err := localsfn.New(ctx, localsfn.Options{Handlers: handlers, Clock: localsfn.NewAutoClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	fw.ex = ex
	def, typ, err := workflows.Definition(name, workflows.PlaceholderARN)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ex.Run(ctx, name, def, typ, input)
	if err != nil {
		t.Fatal(err)
	}
	return d, rec.list()
}

func before(t *testing.T, order []string, first, then string) {
	t.Helper()
	i, j := slices.Index(order, first), slices.Index(order, then)
	if i < 0 || j < 0 || i > j {
		t.Errorf("%s must run before %s; calls: %v", first, then, order)
	}
}

func stepsOf(t *testing.T, d *localsfn.ExecutionDescription) map[string]map[string]any {
	t.Helper()
	var out struct {
		Steps map[string]struct {
			Output map[string]any `json:"output"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(d.Output), &out); err != nil {
		t.Fatalf("output %q: %v", d.Output, err)
	}
	res := map[string]map[string]any{}
	for k, v := range out.Steps {
		res[k] = v.Output
	}
	return res
}

const goodPR = `{"pull_request":{"title":"fix(api): handle nil","additions":10,"deletions":2,"mergeable":true,"mergeable_state":"clean","labels":[{"name":"bug"}]}`

func TestChecksRunsEndToEnd(t *testing.T) {
	d, order := runWorkflow(t, "checks", goodPR+`}`)
	if d.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s %s", d.Status, d.Error, d.Cause)
	}
	steps := stepsOf(t, d)
	for _, s := range []string{"title", "diff_size", "labels", "mergeable"} {
		if steps[s]["ok"] != true {
			t.Errorf("step %s: %v", s, steps[s])
		}
		before(t, order, "pr.checks:"+s, "go:summary")
	}
	// The summary saw all four results, merged from the Parallel's branches.
	summary, _ := steps["summary"]["summary"].(string)
	if steps["summary"]["conclusion"] != "success" || strings.Count(summary, "✅") != 4 {
		t.Errorf("summary %v", steps["summary"])
	}
}

func TestFailedStepEndsTheExecutionNamingTheStep(t *testing.T) {
	tests := []struct {
		workflow, input, step string
		notRun                []string
	}{
		{"checks", goodPR + `,"simulate":{"fail":["labels"]}}`, "labels", []string{"go:summary"}},
		{"ci", `{"simulate":{"fail":["unit"]}}`, "unit", []string{"github.actions:integration"}},
		{"deploy", `{"approval":"reject"}`, "approval", []string{"github.actions:deploy_staging"}},
		{"deploy", `{"approval":"auto","simulate":{"fail":["smoke_test"]}}`, "smoke_test", []string{"github.actions:deploy_production"}},
	}
	for _, tt := range tests {
		t.Run(tt.workflow+"/"+tt.step, func(t *testing.T) {
			d, order := runWorkflow(t, tt.workflow, tt.input)
			if d.Status != "FAILED" || d.Error != "ai3.StepFailed" {
				t.Fatalf("status %s error %q cause %q, want FAILED ai3.StepFailed", d.Status, d.Error, d.Cause)
			}
			if want := fmt.Sprintf("step %s of workflow %s failed", tt.step, tt.workflow); d.Cause != want {
				t.Errorf("cause %q, want %q", d.Cause, want)
			}
			if !slices.Contains(order, "report:"+tt.step) {
				t.Errorf("failure of %s not reported; calls %v", tt.step, order)
			}
			for _, s := range tt.notRun {
				if slices.Contains(order, s) {
					t.Errorf("%s ran after its need failed; calls %v", s, order)
				}
			}
		})
	}
}

func TestCIRunsJobsInDependencyOrder(t *testing.T) {
	d, order := runWorkflow(t, "ci", `{}`)
	if d.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s %s", d.Status, d.Error, d.Cause)
	}
	before(t, order, "github.actions:unit", "github.actions:integration")
	steps := stepsOf(t, d)
	for _, job := range []string{"lint", "unit", "integration"} {
		inputs, _ := steps[job]["inputs"].(map[string]any)
		if steps[job]["conclusion"] != "success" || inputs["job"] != job {
			t.Errorf("job %s result %v", job, steps[job])
		}
	}
}

func TestDeployRetriesTransientErrors(t *testing.T) {
	d, order := runWorkflow(t, "deploy", `{"approval":"auto","simulate":{"transient":{"smoke_test":2}}}`)
	if d.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s %s", d.Status, d.Error, d.Cause)
	}
	n := 0
	for _, c := range order {
		if c == "http.check:smoke_test" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("smoke_test called %d times, want 3 (two transient failures, then success)", n)
	}
	want := []string{"github.actions:build", "approval:approval", "github.actions:deploy_staging", "http.check:smoke_test", "github.actions:deploy_production"}
	for i := 1; i < len(want); i++ {
		before(t, order, want[i-1], want[i])
	}
	steps := stepsOf(t, d)
	prod, _ := steps["deploy_production"]["inputs"].(map[string]any)
	if prod["environment"] != "production" || steps["deploy_production"]["workflow_file"] != "deploy.yml" {
		t.Errorf("production deploy %v", steps["deploy_production"])
	}
}
