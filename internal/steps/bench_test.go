package steps_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
)

// BenchmarkCommentWritesPerRun runs a 10-step workflow (a chain of 5, then
// 5 at once) per iteration and reports the status comment writes each run
// made: without coalescing it would be 2 per step plus the final one (21).
func BenchmarkCommentWritesPerRun(b *testing.B) {
	var flaky atomic.Int64
	e := newEnv(b, withFuncs(&flaky))
	w := asl.NewWorkflow("ten", asl.Standard)
	for i := range 5 {
		s := w.Step(fmt.Sprintf("c%d", i), goStep("demo.ok"))
		if i > 0 {
			s.Needs(fmt.Sprintf("c%d", i-1))
		}
	}
	for i := range 5 {
		w.Step(fmt.Sprintf("p%d", i), goStep("demo.ok")).Needs("c4")
	}
	runs := 0
	for b.Loop() {
		j, arn := e.start(w, nil)
		if _, j = e.wait(arn, j.ID); j.Status != jobs.Succeeded {
			b.Fatalf("job %s", j.Status)
		}
		runs++
	}
	writes := writesBy(e.gh.Writes(), "alice", "/issues/comments/")
	b.ReportMetric(float64(writes)/float64(runs), "writes/run")
}

// BenchmarkRender1000Steps renders the status comment of a 1,000-step job.
func BenchmarkRender1000Steps(b *testing.B) {
	j := &jobs.Job{ID: "big-1", Workflow: "big", Status: jobs.Running, User: jobs.User{Login: "alice"},
		Steps: map[string]*jobs.Step{}, CreatedAt: time.Now()}
	var nodes []render.Node
	for i := range 1000 {
		name := fmt.Sprintf("s%04d", i)
		n := render.Node{Name: name}
		if i > 0 {
			n.Needs = []string{fmt.Sprintf("s%04d", i-1)}
		}
		nodes = append(nodes, n)
		j.Steps[name] = &jobs.Step{Status: []jobs.Status{jobs.Succeeded, jobs.Running, jobs.Pending}[i%3], Attempts: 1}
	}
	var size int
	for b.Loop() {
		size = len(render.Status(j, nodes, render.Options{Now: time.Now()}))
	}
	if size > render.MaxLen {
		b.Fatalf("comment of %d bytes", size)
	}
	b.ReportMetric(float64(size), "bytes")
}
