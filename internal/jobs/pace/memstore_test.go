package pace_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// memStore is a jobs.Store in memory for these tests (the real adapters
// live in internal/local and internal/aws). It counts reference writes, so
// tests can see what pacing costs the store.
type memStore struct {
	mu      sync.Mutex
	jobs    map[string]*jobs.Job
	refs    map[string]string
	refOps  int
	failRef error // when set, every reference call fails with it
}

func newMemStore() *memStore {
	return &memStore{jobs: map[string]*jobs.Job{}, refs: map[string]string{}}
}

func (m *memStore) Create(_ context.Context, j *jobs.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.jobs[j.ID]; ok {
		return fmt.Errorf("job %s: %w", j.ID, jobs.ErrExists)
	}
	j.Version = 1
	m.jobs[j.ID] = j.Clone()
	return nil
}

func (m *memStore) Get(_ context.Context, id string) (*jobs.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, fmt.Errorf("job %s: %w", id, jobs.ErrNotFound)
	}
	return j.Clone(), nil
}

func (m *memStore) Update(_ context.Context, j *jobs.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.jobs[j.ID]
	switch {
	case !ok:
		return fmt.Errorf("job %s: %w", j.ID, jobs.ErrNotFound)
	case cur.Version != j.Version:
		return fmt.Errorf("job %s: %w", j.ID, jobs.ErrConflict)
	}
	j.Version++
	m.jobs[j.ID] = j.Clone()
	return nil
}

func (m *memStore) Latest(_ context.Context, repo string, number int) (*jobs.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *jobs.Job
	for _, j := range m.jobs {
		if j.Thread.Repo == repo && j.Thread.Number == number && (best == nil || j.CreatedAt.After(best.CreatedAt)) {
			best = j
		}
	}
	if best == nil {
		return nil, jobs.ErrNotFound
	}
	return best.Clone(), nil
}

func (m *memStore) List(_ context.Context, limit int, before time.Time) ([]*jobs.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*jobs.Job
	for _, j := range m.jobs {
		if before.IsZero() || j.CreatedAt.Before(before) {
			out = append(out, j.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *jobs.Job) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(limit, len(out))], nil
}

func (m *memStore) PutRef(_ context.Context, key, value string, _ time.Duration) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refOps++
	if m.failRef != nil {
		return "", m.failRef
	}
	if cur, ok := m.refs[key]; ok {
		return cur, fmt.Errorf("ref %s: %w", key, jobs.ErrExists)
	}
	m.refs[key] = value
	return "", nil
}

func (m *memStore) GetRef(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refOps++
	if m.failRef != nil {
		return "", m.failRef
	}
	v, ok := m.refs[key]
	if !ok {
		return "", fmt.Errorf("ref %s: %w", key, jobs.ErrNotFound)
	}
	return v, nil
}

func (m *memStore) SwapRef(_ context.Context, key, old, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refOps++
	if m.failRef != nil {
		return m.failRef
	}
	if cur, ok := m.refs[key]; !ok || cur != old {
		return fmt.Errorf("ref %s: %w", key, jobs.ErrConflict)
	}
	if value == "" {
		delete(m.refs, key)
	} else {
		m.refs[key] = value
	}
	return nil
}

func (m *memStore) ref(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.refs[key]
	return v, ok
}

func (m *memStore) setRef(key, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs[key] = v
}
