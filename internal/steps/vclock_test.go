package steps_test

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// vclock runs goroutines in virtual time: time stands still while any of
// them can run (or waits on real I/O: GitHub, SQLite), and jumps to the
// earliest wake-up when all of them sleep. So hours of paced comment writes
// take seconds, as long as every goroutine that waits does so through Sleep
// and every goroutine of the simulation is started with Go.
type vclock struct {
	mu       sync.Mutex
	now      time.Time
	live     int
	sleepers sleepers
	seq      int
	wg       sync.WaitGroup
}

type sleeper struct {
	wake time.Time
	seq  int
	ch   chan struct{}
}

type sleepers []*sleeper

func (h sleepers) Len() int { return len(h) }
func (h sleepers) Less(i, j int) bool {
	if !h[i].wake.Equal(h[j].wake) {
		return h[i].wake.Before(h[j].wake)
	}
	return h[i].seq < h[j].seq
}
func (h sleepers) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sleepers) Push(x any)   { *h = append(*h, x.(*sleeper)) }
func (h *sleepers) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Now is the virtual time.
func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep waits d of virtual time.
func (c *vclock) Sleep(_ context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	w := &sleeper{wake: c.now.Add(d), seq: c.seq, ch: make(chan struct{})}
	c.seq++
	heap.Push(&c.sleepers, w)
	c.live--
	c.advance()
	c.mu.Unlock()
	<-w.ch
	return nil
}

// advance wakes the earliest sleepers once nobody can run (c.mu held).
func (c *vclock) advance() {
	if c.live > 0 || len(c.sleepers) == 0 {
		return
	}
	if w := c.sleepers[0].wake; w.After(c.now) {
		c.now = w
	}
	for len(c.sleepers) > 0 && !c.sleepers[0].wake.After(c.now) {
		x := heap.Pop(&c.sleepers).(*sleeper)
		c.live++
		close(x.ch)
	}
}

// Go runs f as a goroutine of the simulation.
func (c *vclock) Go(f func()) {
	c.mu.Lock()
	c.live++
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			c.mu.Lock()
			c.live--
			c.advance()
			c.mu.Unlock()
		}()
		f()
	}()
}

// Wait waits until every goroutine started with Go has returned.
func (c *vclock) Wait() { c.wg.Wait() }
