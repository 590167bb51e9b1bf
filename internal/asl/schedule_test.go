package asl

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// order returns "a runs before b" for every pair the plan orders.
func order(p *Plan) map[[2]string]bool {
	out := map[[2]string]bool{}
	var walk func(p *Plan)
	walk = func(p *Plan) {
		if p.Kind == PlanSeries {
			for i, a := range p.Children {
				for _, b := range p.Children[i+1:] {
					for _, x := range a.Steps() {
						for _, y := range b.Steps() {
							out[[2]string{x, y}] = true
						}
					}
				}
			}
		}
		for _, c := range p.Children {
			walk(c)
		}
	}
	walk(p)
	return out
}

// reach returns "a is a (transitive) need of b" for a DAG.
func reach(names []string, needs [][]int) map[[2]string]bool {
	out := map[[2]string]bool{}
	var anc func(i int, seen map[int]bool)
	anc = func(i int, seen map[int]bool) {
		for _, d := range needs[i] {
			if !seen[d] {
				seen[d] = true
				anc(d, seen)
			}
		}
	}
	for i := range names {
		seen := map[int]bool{}
		anc(i, seen)
		for d := range seen {
			out[[2]string{names[d], names[i]}] = true
		}
	}
	return out
}

// width is how many steps a plan can run at once.
func width(p *Plan) int {
	switch p.Kind {
	case PlanStep:
		return 1
	case PlanParallel:
		w := 0
		for _, c := range p.Children {
			w += width(c)
		}
		return w
	}
	w := 0
	for _, c := range p.Children {
		w = max(w, width(c))
	}
	return w
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%d", i)
	}
	return out
}

// randomDAG draws a DAG whose steps need up to three earlier steps.
func randomDAG(t *rapid.T) ([]string, [][]int) {
	n := rapid.IntRange(1, 40).Draw(t, "n")
	needs := make([][]int, n)
	for i := 1; i < n; i++ {
		k := rapid.IntRange(0, min(i, 3)).Draw(t, fmt.Sprintf("k%d", i))
		for range k {
			d := rapid.IntRange(0, i-1).Draw(t, "need")
			if !slices.Contains(needs[i], d) {
				needs[i] = append(needs[i], d)
			}
		}
	}
	return names(n), needs
}

func TestScheduleRandomDAGIsCorrect(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ns, needs := randomDAG(t)
		p := schedule(ns, needs)
		steps := p.Steps()
		slices.Sort(steps)
		want := slices.Clone(ns)
		slices.Sort(want)
		if !slices.Equal(steps, want) {
			t.Fatalf("steps %v, want each of %v once", steps, want)
		}
		got := order(p)
		for pair := range reach(ns, needs) {
			if !got[pair] {
				t.Fatalf("%s needs %s but may start before it: plan %s", pair[1], pair[0], p)
			}
		}
	})
}

// spExpr is a random series-parallel expression over leaves s0..s(n-1).
type spExpr struct {
	kind     PlanKind
	leaf     int
	children []*spExpr
}

func drawSP(t *rapid.T, next *int, depth int) *spExpr {
	if depth == 0 || rapid.IntRange(0, 3).Draw(t, "leaf") == 0 {
		e := &spExpr{kind: PlanStep, leaf: *next}
		*next++
		return e
	}
	kind := PlanSeries
	if rapid.Bool().Draw(t, "parallel") {
		kind = PlanParallel
	}
	e := &spExpr{kind: kind}
	for range rapid.IntRange(2, 3).Draw(t, "arity") {
		e.children = append(e.children, drawSP(t, next, depth-1))
	}
	return e
}

func (e *spExpr) ends(first bool) []int {
	switch e.kind {
	case PlanStep:
		return []int{e.leaf}
	case PlanSeries:
		if first {
			return e.children[0].ends(true)
		}
		return e.children[len(e.children)-1].ends(false)
	}
	var out []int
	for _, c := range e.children {
		out = append(out, c.ends(first)...)
	}
	return out
}

// edges adds the Hasse edges: a series part's sinks are needed by the next
// part's sources.
func (e *spExpr) edges(needs [][]int) {
	for _, c := range e.children {
		c.edges(needs)
	}
	if e.kind == PlanSeries {
		for i := 1; i < len(e.children); i++ {
			for _, src := range e.children[i].ends(true) {
				needs[src] = append(needs[src], e.children[i-1].ends(false)...)
			}
		}
	}
}

func (e *spExpr) width() int {
	switch e.kind {
	case PlanStep:
		return 1
	case PlanParallel:
		w := 0
		for _, c := range e.children {
			w += c.width()
		}
		return w
	}
	w := 0
	for _, c := range e.children {
		w = max(w, c.width())
	}
	return w
}

func TestScheduleSeriesParallelDAGIsExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := 0
		e := drawSP(t, &n, 4)
		needs := make([][]int, n)
		e.edges(needs)
		// Declare the steps in a random order: the schedule must not depend on it.
		perm := rapid.Permutation(names(n)).Draw(t, "order")
		index := map[string]int{}
		for i, s := range perm {
			index[s] = i
		}
		pneeds := make([][]int, n)
		for i, ds := range needs {
			for _, d := range ds {
				pi := index[fmt.Sprintf("s%d", i)]
				pneeds[pi] = append(pneeds[pi], index[fmt.Sprintf("s%d", d)])
			}
		}
		p := schedule(perm, pneeds)
		got, want := order(p), reach(perm, pneeds)
		for pair := range got {
			if !want[pair] {
				t.Fatalf("%s waits for %s without needing it: plan %s", pair[1], pair[0], p)
			}
		}
		for pair := range want {
			if !got[pair] {
				t.Fatalf("%s needs %s but may start before it: plan %s", pair[1], pair[0], p)
			}
		}
		if w, ew := width(p), e.width(); w != ew {
			t.Fatalf("parallel width %d, want %d: plan %s", w, ew, p)
		}
	})
}

func TestScheduleExamples(t *testing.T) {
	tests := []struct {
		name  string
		needs map[string][]string
		steps []string
		want  string
	}{
		{"single", nil, []string{"a"}, "a"},
		{"chain", map[string][]string{"b": {"a"}, "c": {"b"}}, []string{"a", "b", "c"}, "a ; b ; c"},
		{"independent", nil, []string{"a", "b", "c"}, "a | b | c"},
		{"diamond", map[string][]string{"b": {"a"}, "c": {"a"}, "d": {"b", "c"}}, []string{"a", "b", "c", "d"}, "a ; (b | c) ; d"},
		{"fork with tail", map[string][]string{"c": {"b"}}, []string{"a", "b", "c"}, "a | (b ; c)"},
		{"redundant edge", map[string][]string{"b": {"a"}, "c": {"a", "b"}}, []string{"a", "b", "c"}, "a ; b ; c"},
		// N: c needs a and b, d needs only b. One pair must be added; the
		// cheapest cut adds just "d waits for a".
		{"N shape", map[string][]string{"c": {"a", "b"}, "d": {"b"}}, []string{"a", "b", "c", "d"}, "(a | b) ; (c | d)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			index := map[string]int{}
			for i, s := range tt.steps {
				index[s] = i
			}
			needs := make([][]int, len(tt.steps))
			for s, ds := range tt.needs {
				for _, d := range ds {
					needs[index[s]] = append(needs[index[s]], index[d])
				}
			}
			if got := schedule(tt.steps, needs).String(); got != tt.want {
				t.Errorf("plan %q, want %q", got, tt.want)
			}
		})
	}
}

// benchDAG is a random DAG of n steps; each needs up to three of the 30
// steps declared just before it (pipelines depend on nearby stages).
func benchDAG(n int, seed uint64) ([]string, [][]int) {
	r := rand.New(rand.NewPCG(seed, 1))
	needs := make([][]int, n)
	for i := 1; i < n; i++ {
		for range r.IntN(4) {
			d := i - 1 - r.IntN(min(i, 30))
			if !slices.Contains(needs[i], d) {
				needs[i] = append(needs[i], d)
			}
		}
	}
	return names(n), needs
}

func BenchmarkSchedule(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		ns, needs := benchDAG(n, 42)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				schedule(ns, needs)
			}
		})
	}
}

// TestScheduleAddsLessWaitingThanLevels compares the waiting a non-SP DAG's
// schedule adds (ordered pairs that are not needs) with the obvious
// schedule, one Parallel per longest-path level.
func TestScheduleAddsLessWaitingThanLevels(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		ns, needs := benchDAG(400, seed)
		need := reach(ns, needs)
		level := make([]int, len(ns))
		for i := range ns {
			for _, d := range needs[i] {
				level[i] = max(level[i], level[d]+1)
			}
		}
		levelPairs := 0
		for i := range ns {
			for j := range ns {
				if level[i] < level[j] {
					levelPairs++
				}
			}
		}
		got := order(schedule(ns, needs))
		added, levelAdded := len(got)-len(need), levelPairs-len(need)
		t.Logf("seed %d: %d needed pairs; schedule adds %d, levels add %d", seed, len(need), added, levelAdded)
		if added*2 > levelAdded {
			t.Errorf("seed %d: schedule adds %d waiting pairs, more than half of what levels add (%d)", seed, added, levelAdded)
		}
	}
}

// aslOrder reads the happens-before pairs of step Tasks back from a compiled
// definition: states in one Next chain run in order, Parallel branches
// independently. It checks the emitted ASL, not the Plan.
func aslOrder(t *rapid.T, scopeStart string, states States, out map[[2]string]bool) []string {
	var seq [][]string // step sets, in chain order
	for name := scopeStart; name != ""; {
		st := states.Get(name)
		switch s := st.(type) {
		case *Task:
			seq = append(seq, []string{name})
			name = s.Next
		case *Pass:
			name = s.Next
		case *Parallel:
			var all []string
			for _, b := range s.Branches {
				all = append(all, aslOrder(t, b.StartAt, b.States, out)...)
			}
			seq = append(seq, all)
			name = s.Next
		default:
			t.Fatalf("unexpected %T %q on the success path", st, name)
		}
	}
	var all []string
	for i, a := range seq {
		for _, b := range seq[i+1:] {
			for _, x := range a {
				for _, y := range b {
					out[[2]string{x, y}] = true
				}
			}
		}
		all = append(all, a...)
	}
	return all
}

func TestCompiledASLRunsEveryStepOnceAfterItsNeeds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ns, needs := randomDAG(t)
		w := NewWorkflow("prop", Standard)
		for i, n := range ns {
			s := w.Step(n, Invoke("task"))
			for _, d := range needs[i] {
				s.Needs(ns[d])
			}
		}
		m, err := w.Compile(arn)
		if err != nil {
			t.Fatal(err)
		}
		got := map[[2]string]bool{}
		steps := aslOrder(t, m.StartAt, m.States, got)
		slices.Sort(steps)
		want := slices.Clone(ns)
		slices.Sort(want)
		if !slices.Equal(steps, want) {
			t.Fatalf("compiled steps %v, want each of %v once", steps, want)
		}
		for pair := range reach(ns, needs) {
			if !got[pair] {
				t.Fatalf("%s needs %s but the ASL may start it first", pair[1], pair[0])
			}
		}
	})
}
