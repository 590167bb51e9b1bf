package localsfn

import (
	"maps"
	"sync"
)

// scope holds workflow variables (Assign). The machine has one; each
// Parallel branch and Map iteration gets a child that reads its parents'
// variables and keeps its own assignments to itself, as in AWS.
type scope struct {
	parent *scope
	mu     sync.RWMutex
	vars   map[string]any
	sizes  map[string]int // JSON size of each variable, for the execution's limit
}

func newScope(parent *scope, vars map[string]any) *scope {
	return &scope{parent: parent, vars: vars}
}

func (s *scope) child() *scope { return newScope(s, nil) }

func (s *scope) get(name string) (any, bool) {
	for c := s; c != nil; c = c.parent {
		c.mu.RLock()
		v, ok := c.vars[name]
		c.mu.RUnlock()
		if ok {
			return v, true
		}
	}
	return nil, false
}

// assign sets several variables at once: they were all evaluated against
// the values before this assignment.
func (s *scope) assign(values map[string]any, sizes map[string]int) {
	if len(values) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vars == nil {
		s.vars = make(map[string]any, len(values))
	}
	if s.sizes == nil {
		s.sizes = make(map[string]int, len(values))
	}
	maps.Copy(s.vars, values)
	maps.Copy(s.sizes, sizes)
}

// delta is how many bytes storing variables of the given sizes in this
// scope adds (or, replacing larger values, removes).
func (s *scope) delta(sizes map[string]int) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := 0
	for name, n := range sizes {
		old, ok := s.sizes[name]
		if !ok {
			if v, had := s.vars[name]; had { // restored from a checkpoint
				old = jsonSize(v)
			}
		}
		d += n - old
	}
	return d
}

// all flattens the visible variables (inner ones hide outer ones), for JSONata.
func (s *scope) all() map[string]any {
	var chain []*scope
	for c := s; c != nil; c = c.parent {
		chain = append(chain, c)
	}
	out := map[string]any{}
	for i := len(chain) - 1; i >= 0; i-- {
		chain[i].mu.RLock()
		maps.Copy(out, chain[i].vars)
		chain[i].mu.RUnlock()
	}
	return out
}

// snapshot copies this scope's own variables (for a durable checkpoint).
func (s *scope) snapshot() map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.vars)
}

// releaseScope takes a finished branch's or iteration's variables off the
// execution's total: they are gone with their scope.
func (x *execution) releaseScope(s *scope) {
	s.mu.RLock()
	n := 0
	for _, size := range s.sizes {
		n += size
	}
	s.mu.RUnlock()
	if n == 0 {
		return
	}
	x.varMu.Lock()
	x.varBytes -= n
	x.varMu.Unlock()
}
