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
func (s *scope) assign(values map[string]any) {
	if len(values) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vars == nil {
		s.vars = make(map[string]any, len(values))
	}
	maps.Copy(s.vars, values)
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
