package localsfn

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is the executor's source of time. Wait states, retry delays and
// timeouts all wait through it, so tests can replace it with a FakeClock and
// never sleep.
type Clock interface {
	Now() time.Time
	// Timer returns a channel that receives once d has passed, and a stop
	// function that releases the timer when it is no longer needed.
	Timer(d time.Duration) (<-chan time.Time, func())
	// AfterFunc calls f on its own goroutine once d has passed, unless stop
	// is called first; it holds no goroutine while it waits.
	AfterFunc(d time.Duration, f func()) (stop func())
}

// Sleeper is an optional Clock method for waits that are pauses (Wait
// states, retry delays) rather than deadlines. A FakeClock in auto mode
// completes them at once by moving time forward, firing any deadline passed.
type Sleeper interface {
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now().UTC() }

func (realClock) AfterFunc(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, f)
	return func() { t.Stop() }
}

func (realClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// FakeClock is a Clock that moves only when told to. In auto mode every
// pause (Sleep: Wait states, retry delays) completes at once and moves the
// clock forward by its duration, firing the deadlines it passes; deadlines
// (After) never fire on their own. That runs Wait states and retries
// instantly while keeping timestamps and timeouts consistent.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
	fn func()
}

// AfterFunc calls f when the clock reaches now+d, unless stopped first.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) func() {
	c.mu.Lock()
	ch := c.afterLocked(d)
	if len(c.waiters) > 0 && c.waiters[len(c.waiters)-1].ch == ch {
		c.waiters[len(c.waiters)-1].fn = f
	} else { // already due
		go f()
	}
	c.mu.Unlock()
	return func() { c.remove(ch) }
}

func (c *FakeClock) remove(ch <-chan time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.waiters {
		if w.ch == ch {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

// Timer returns a channel that fires when the clock reaches now+d; stop
// withdraws it, so Waiters counts only live waits.
func (c *FakeClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	ch := c.After(d)
	return ch, func() { c.remove(ch) }
}

// NewFakeClock returns a manual FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start.UTC()} }

// NewAutoClock returns a FakeClock in auto mode set to start.
func NewAutoClock(start time.Time) *FakeClock { return &FakeClock{now: start.UTC(), auto: true} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that fires when the clock reaches now+d.
func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.afterLocked(d)
}

func (c *FakeClock) afterLocked(d time.Duration) chan time.Time {
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Sleep pauses for d of fake time: at once in auto mode, else until Advance
// reaches it (or ctx ends).
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if c.auto {
		c.advanceLocked(d)
		c.mu.Unlock()
		return ctx.Err()
	}
	c.mu.Unlock()
	ch, stop := c.Timer(d)
	defer stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Advance moves the clock forward and fires every wait that is due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(d)
}

func (c *FakeClock) advanceLocked(d time.Duration) {
	if d > 0 {
		c.now = c.now.Add(d)
	}
	sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			if w.fn != nil {
				go w.fn()
			} else {
				w.ch <- c.now
			}
			continue
		}
		keep = append(keep, w)
	}
	c.waiters = keep
}

// Waiters returns how many waits are pending, so a test can advance the
// clock once the execution has reached the wait it means to end.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Deadlines returns when the pending waits are due, soonest first.
func (c *FakeClock) Deadlines() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, 0, len(c.waiters))
	for _, w := range c.waiters {
		out = append(out, w.at)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// BlockUntil polls (in real time) until at least n waits are pending.
func (c *FakeClock) BlockUntil(n int) {
	for c.Waiters() < n {
		time.Sleep(time.Millisecond)
	}
}
