package asl

import (
	"math/bits"
	"slices"
	"sort"
	"strings"
)

// PlanKind says what a Plan node is.
type PlanKind int

const (
	// PlanStep runs one step.
	PlanStep PlanKind = iota
	// PlanSeries runs its children one after another.
	PlanSeries
	// PlanParallel runs its children at the same time.
	PlanParallel
)

// Plan is the series-parallel schedule the compiler derives from a DAG: a
// tree whose leaves are steps. It is what becomes Chain and Parallel states.
type Plan struct {
	Kind     PlanKind
	Step     string  // PlanStep only
	Children []*Plan // PlanSeries and PlanParallel
}

// String renders the plan compactly: "a ; (b | c ; d)" — ";" binds looser
// than "|", parentheses group.
func (p *Plan) String() string {
	var b strings.Builder
	p.write(&b, false)
	return b.String()
}

func (p *Plan) write(b *strings.Builder, nested bool) {
	switch p.Kind {
	case PlanStep:
		b.WriteString(p.Step)
		return
	}
	sep := " ; "
	if p.Kind == PlanParallel {
		sep = " | "
	}
	if nested {
		b.WriteByte('(')
	}
	for i, c := range p.Children {
		if i > 0 {
			b.WriteString(sep)
		}
		c.write(b, c.Kind != PlanStep)
	}
	if nested {
		b.WriteByte(')')
	}
}

// Steps returns the plan's steps in the order a depth-first walk meets them.
func (p *Plan) Steps() []string {
	if p.Kind == PlanStep {
		return []string{p.Step}
	}
	var out []string
	for _, c := range p.Children {
		out = append(out, c.Steps()...)
	}
	return out
}

// scheduler holds the DAG, its nodes renumbered in a topological order, and
// the transitive closure as bitsets, for the decomposition in schedule.
type scheduler struct {
	names   []string // by position
	preds   [][]int  // by position, positions of direct needs
	anc     []uint64 // n rows of words: ancestors of each position
	desc    []uint64 // n rows of words: descendants of each position
	words   int
	inS     []uint64 // membership of the set being decomposed
	uf      []int
	balance int
	height  []int // longest path to a sink, by position
}

// schedule turns a DAG (needs[i] are the indexes step i needs; the graph is
// acyclic) into a series-parallel Plan. See the package documentation for
// the algorithm and its guarantees.
func schedule(names []string, needs [][]int) *Plan { return scheduleWith(names, needs, cutBalance) }

// cutBalance: a prime set's cut leaves at least 1/cutBalance of it on each side.
const cutBalance = 16

func scheduleWith(names []string, needs [][]int, balance int) *Plan {
	n := len(names)
	if n == 0 {
		return &Plan{Kind: PlanSeries}
	}
	// Topological order by (longest-path level, declaration index): stable and
	// readable, and every prefix is a down-set.
	level := make([]int, n)
	indeg := make([]int, n)
	users := make([][]int, n)
	for i, ns := range needs {
		indeg[i] = len(ns)
		for _, d := range ns {
			users[d] = append(users[d], i)
		}
	}
	queue := make([]int, 0, n)
	for i := range n {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for h := 0; h < len(queue); h++ {
		v := queue[h]
		for _, u := range users[v] {
			level[u] = max(level[u], level[v]+1)
			if indeg[u]--; indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return level[order[a]] < level[order[b]] })
	pos := make([]int, n)
	for p, v := range order {
		pos[v] = p
	}
	s := &scheduler{names: make([]string, n), preds: make([][]int, n), words: (n + 63) / 64, balance: balance}
	for p, v := range order {
		s.names[p] = names[v]
		for _, d := range needs[v] {
			s.preds[p] = append(s.preds[p], pos[d])
		}
	}
	s.closure()
	s.height = make([]int, n)
	for p := n - 1; p >= 0; p-- {
		for _, d := range s.preds[p] {
			s.height[d] = max(s.height[d], s.height[p]+1)
		}
	}
	s.inS = make([]uint64, s.words)
	s.uf = make([]int, n)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return s.decompose(all)
}

func (s *scheduler) row(m []uint64, i int) []uint64 { return m[i*s.words : (i+1)*s.words] }

// closure fills anc and desc: O(edges · n/64) word operations.
func (s *scheduler) closure() {
	n := len(s.names)
	s.anc = make([]uint64, n*s.words)
	s.desc = make([]uint64, n*s.words)
	for i := range n {
		r := s.row(s.anc, i)
		for _, p := range s.preds[i] {
			pr := s.row(s.anc, p)
			for w := range r {
				r[w] |= pr[w]
			}
			r[p/64] |= 1 << (p % 64)
		}
	}
	for i := n - 1; i >= 0; i-- {
		for _, p := range s.preds[i] {
			pr, r := s.row(s.desc, p), s.row(s.desc, i)
			for w := range pr {
				pr[w] |= r[w]
			}
			pr[i/64] |= 1 << (i % 64)
		}
	}
}

func (s *scheduler) mark(set []int, on bool) {
	for _, v := range set {
		if on {
			s.inS[v/64] |= 1 << (v % 64)
		} else {
			s.inS[v/64] &^= 1 << (v % 64)
		}
	}
}

func (s *scheduler) has(v int) bool { return s.inS[v/64]&(1<<(v%64)) != 0 }

// decompose returns the plan for set (positions, ascending), a convex subset
// of the DAG: reachability between its members never leaves the set, so
// direct edges inside it decide connectivity.
func (s *scheduler) decompose(set []int) *Plan {
	if len(set) == 1 {
		return &Plan{Kind: PlanStep, Step: s.names[set[0]]}
	}
	s.mark(set, true)
	if comps := s.components(set); len(comps) > 1 {
		s.mark(set, false)
		return s.combine(PlanParallel, comps)
	}
	if parts := s.seriesParts(set); len(parts) > 1 {
		s.mark(set, false)
		return s.combine(PlanSeries, parts)
	}
	// Prime: not series-parallel here. Add few waiting pairs by one cut,
	// the better of a prefix of the as-soon-as-possible order (positions)
	// and of the as-late-as-possible order (by height).
	k, added := s.bestCut(set)
	p, q := set[:k], set[k:]
	late := slices.Clone(set)
	slices.SortStableFunc(late, func(a, b int) int { return s.height[b] - s.height[a] })
	if k2, added2 := s.bestCut(late); added2 < added {
		p, q = slices.Clone(late[:k2]), slices.Clone(late[k2:])
		slices.Sort(p)
		slices.Sort(q)
	}
	s.mark(set, false)
	return s.combine(PlanSeries, [][]int{p, q})
}

func (s *scheduler) combine(kind PlanKind, sets [][]int) *Plan {
	p := &Plan{Kind: kind}
	for _, sub := range sets {
		c := s.decompose(sub)
		if c.Kind == kind {
			p.Children = append(p.Children, c.Children...)
		} else {
			p.Children = append(p.Children, c)
		}
	}
	return p
}

func (s *scheduler) find(v int) int {
	for s.uf[v] != v {
		s.uf[v] = s.uf[s.uf[v]]
		v = s.uf[v]
	}
	return v
}

// components splits set into weakly connected components, each ascending,
// ordered by their first member.
func (s *scheduler) components(set []int) [][]int {
	for _, v := range set {
		s.uf[v] = v
	}
	joined := 0
	for _, v := range set {
		for _, p := range s.preds[v] {
			if s.has(p) {
				a, b := s.find(v), s.find(p)
				if a != b {
					s.uf[max(a, b)] = min(a, b)
					joined++
				}
			}
		}
	}
	if joined == len(set)-1 {
		return [][]int{set}
	}
	index := map[int]int{}
	var out [][]int
	for _, v := range set {
		r := s.find(v)
		i, ok := index[r]
		if !ok {
			i = len(out)
			index[r] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], v)
	}
	return out
}

// firstNonAncestor returns the first member of the set (by position, from lo)
// that is not an ancestor of v; v itself qualifies, so the result is <= v.
func (s *scheduler) firstNonAncestor(v, lo int) int {
	anc := s.row(s.anc, v)
	for w := lo / 64; w <= v/64; w++ {
		x := s.inS[w] &^ anc[w]
		if w == lo/64 {
			x &^= (1 << (lo % 64)) - 1
		}
		if x != 0 {
			return w*64 + bits.TrailingZeros64(x)
		}
	}
	return v
}

// seriesParts splits a connected set at every point where everything before
// precedes everything after.
func (s *scheduler) seriesParts(set []int) [][]int {
	lo := set[0]
	suffixMin := make([]int, len(set)+1)
	suffixMin[len(set)] = len(s.names)
	for i := len(set) - 1; i >= 0; i-- {
		suffixMin[i] = min(suffixMin[i+1], s.firstNonAncestor(set[i], lo))
	}
	var out [][]int
	start := 0
	for j := 1; j < len(set); j++ {
		if suffixMin[j] >= set[j] {
			out = append(out, set[start:j])
			start = j
		}
	}
	return append(out, set[start:])
}

func (s *scheduler) countIn(m []uint64, v, lo, hi int) int {
	r := s.row(m, v)
	c := 0
	for w := lo / 64; w <= hi/64; w++ {
		c += bits.OnesCount64(r[w] & s.inS[w])
	}
	return c
}

// bestCut picks k so that running set[:k] entirely before set[k:] (set is in
// a topological order) adds the
// fewest new ordering pairs, among the cuts whose smaller side holds at least
// 1/balance of the set (so the recursion stays O(log n) deep: unrestricted,
// the cheapest cut is often next to an end and peels one step per level);
// ties go to the most balanced cut.
func (s *scheduler) bestCut(set []int) (int, int) {
	lo, hi := slices.Min(set), slices.Max(set)
	n := len(set)
	minSide := max(1, n/s.balance)
	bestK, bestAdded, bestSide := 0, 0, 0
	cross := 0 // comparable pairs (p in prefix, q in rest)
	for k := 1; k < n; k++ {
		v := set[k-1]
		cross += s.countIn(s.desc, v, lo, hi) - s.countIn(s.anc, v, lo, hi)
		side := min(k, n-k)
		if side < minSide {
			continue
		}
		added := k*(n-k) - cross
		if bestK == 0 || added < bestAdded || added == bestAdded && side > bestSide {
			bestK, bestAdded, bestSide = k, added, side
		}
	}
	return bestK, bestAdded
}
