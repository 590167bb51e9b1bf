package webhook

import (
	"context"
	"errors"
	"sync"
)

// DefaultMaxUnverified bounds the body bytes all requests together may hold
// before their signatures are checked: two bodies of the largest size.
const DefaultMaxUnverified = 2*DefaultMaxBody + 2

// errBusy means the unverified-bytes budget stayed exhausted for longer than
// the request could wait.
var errBusy = errors.New("too many unverified bytes in flight")

// budget is a counting semaphore of bytes: what unauthenticated requests
// hold between reading a body and checking its signature. Safe for
// concurrent use.
type budget struct {
	mu      sync.Mutex
	free    int64
	total   int64
	changed chan struct{} // closed, and replaced, whenever bytes are released
}

func newBudget(total int64) *budget {
	return &budget{free: total, total: total, changed: make(chan struct{})}
}

// acquire takes n bytes, waiting while they are not free; it fails with
// errBusy when ctx ends first.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return errBusy // cannot happen: New keeps total above one body
	}
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		wait := b.changed
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return errBusy
		}
	}
}

// release returns n bytes and wakes the waiters.
func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// held reports the bytes taken now.
func (b *budget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total - b.free
}
