// Package stepstest holds test doubles for the steps package's tests and
// its users': an in-memory jobs.Store and a GitHub stand-in for the REST
// paths the steps use (comments, pull requests, workflow dispatch and runs),
// with failure injection and a record of who made each write.
package stepstest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// MemStore is an in-memory jobs.Store. Safe for concurrent use.
type MemStore struct {
	mu      sync.Mutex
	jobs    map[string]*jobs.Job
	refs    map[string]string
	updates int
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{jobs: map[string]*jobs.Job{}, refs: map[string]string{}}
}

// Create implements jobs.Store.
func (s *MemStore) Create(_ context.Context, j *jobs.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobs[j.ID]; ok {
		return jobs.ErrExists
	}
	j.Version = 1
	s.jobs[j.ID] = j.Clone()
	return nil
}

// Get implements jobs.Store.
func (s *MemStore) Get(_ context.Context, id string) (*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, jobs.ErrNotFound
	}
	return j.Clone(), nil
}

// Update implements jobs.Store.
func (s *MemStore) Update(_ context.Context, j *jobs.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.jobs[j.ID]
	if !ok {
		return jobs.ErrNotFound
	}
	if cur.Version != j.Version {
		return jobs.ErrConflict
	}
	j.Version++
	s.jobs[j.ID] = j.Clone()
	s.updates++
	return nil
}

// Updates counts successful Update calls.
func (s *MemStore) Updates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

// Latest implements jobs.Store.
func (s *MemStore) Latest(_ context.Context, repo string, number int) (*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *jobs.Job
	for _, j := range s.jobs {
		if j.Thread.Repo == repo && j.Thread.Number == number && (best == nil || j.CreatedAt.After(best.CreatedAt)) {
			best = j
		}
	}
	if best == nil {
		return nil, jobs.ErrNotFound
	}
	return best.Clone(), nil
}

// List implements jobs.Store.
func (s *MemStore) List(_ context.Context, limit int, before time.Time) ([]*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*jobs.Job
	for _, j := range s.jobs {
		if before.IsZero() || j.CreatedAt.Before(before) {
			out = append(out, j.Clone())
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].CreatedAt.After(out[b].CreatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PutRef implements jobs.Store (ttl is ignored).
func (s *MemStore) PutRef(_ context.Context, key, value string, _ time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.refs[key]; ok {
		return v, jobs.ErrExists
	}
	s.refs[key] = value
	return value, nil
}

// GetRef implements jobs.Store.
func (s *MemStore) GetRef(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.refs[key]
	if !ok {
		return "", jobs.ErrNotFound
	}
	return v, nil
}

// SwapRef implements jobs.Store.
func (s *MemStore) SwapRef(_ context.Context, key, old, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.refs[key]
	if !ok || v != old {
		return jobs.ErrConflict
	}
	if value == "" {
		delete(s.refs, key)
	} else {
		s.refs[key] = value
	}
	return nil
}
