// Package pace keeps ai3's GitHub writes within GitHub's secondary rate
// limits. Every write is made with the requesting user's token, so the limits
// on content-creating requests (about 80 a minute and 500 an hour) are a
// budget per person, shared by all of that person's runs and by every process
// (each Lambda, each `ai3 dev`). Pacer keeps that budget in the job store, as
// one reference per user updated with compare-and-swap, and hands out write
// slots. The status comment writer (internal/steps' Reporter) takes a slot
// before every write and folds the updates that arrive meanwhile into it.
package pace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Default limits: GitHub's 80 a minute and 500 an hour, with headroom for
// the writes ai3 does not pace (the user's own, reactions made elsewhere).
const (
	DefaultPerMinute = 70
	DefaultPerHour   = 450
)

// ErrContention: the user's budget changed under every attempt to take a
// slot from it.
var ErrContention = errors.New("pace: too much contention on the write budget")

// ErrBadState: the stored budget is not one this package wrote.
var ErrBadState = errors.New("pace: stored budget unreadable")

// Pacer hands out the write slots of each user's budget. Its zero value
// needs only Store; the other fields have defaults. Slots are granted in
// time order and never more than PerMinute in any minute or PerHour in any
// hour, counting every slot granted by any process sharing the store.
type Pacer struct {
	Store     jobs.Store
	PerMinute int // DefaultPerMinute when 0
	PerHour   int // DefaultPerHour when 0
	// Now and Sleep are the clock (time.Now and a context-aware sleep when
	// nil); tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives penalties (nothing secret is logged).
	Logger *slog.Logger
}

// Key is the store reference that holds a user's budget.
func Key(userID int64) string { return "pace#" + strconv.FormatInt(userID, 10) }

func (p *Pacer) perMinute() int { return cmp(p.PerMinute, DefaultPerMinute) }
func (p *Pacer) perHour() int   { return cmp(p.PerHour, DefaultPerHour) }

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits for d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// budget is a user's stored budget: no write before blocked (retry-after),
// and the slots granted in the last hour, in time order.
type budget struct {
	blocked time.Time
	slots   []time.Time
}

// encode writes "1;<blocked>;<first slot>,<gap>,<gap>…" with times in unix
// milliseconds and gaps in milliseconds, all base 36: 450 slots fit in a
// few kilobytes.
func (b budget) encode() string {
	var s strings.Builder
	s.WriteString("1;")
	s.WriteString(strconv.FormatInt(ms(b.blocked), 36))
	s.WriteString(";")
	prev := int64(0)
	for i, t := range b.slots {
		if i > 0 {
			s.WriteString(",")
		}
		s.WriteString(strconv.FormatInt(ms(t)-prev, 36))
		prev = ms(t)
	}
	return s.String()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func decode(v string) (budget, error) {
	var b budget
	if v == "" {
		return b, nil
	}
	parts := strings.Split(v, ";")
	if len(parts) != 3 || parts[0] != "1" {
		return b, fmt.Errorf("%w: %.40q", ErrBadState, v)
	}
	blocked, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil {
		return b, fmt.Errorf("%w: %.40q", ErrBadState, v)
	}
	if blocked != 0 {
		b.blocked = time.UnixMilli(blocked)
	}
	if parts[2] == "" {
		return b, nil
	}
	at := int64(0)
	for _, g := range strings.Split(parts[2], ",") {
		gap, err := strconv.ParseInt(g, 36, 64)
		if err != nil || (len(b.slots) > 0 && gap < 0) {
			return b, fmt.Errorf("%w: %.40q", ErrBadState, v)
		}
		at += gap
		b.slots = append(b.slots, time.UnixMilli(at))
	}
	return b, nil
}

// update applies change to the user's stored budget with compare-and-swap,
// retrying when another writer got there first.
func (p *Pacer) update(ctx context.Context, userID int64, change func(b *budget, now time.Time)) (budget, time.Time, error) {
	key := Key(userID)
	for attempt := 0; attempt < 200; attempt++ {
		if err := ctx.Err(); err != nil {
			return budget{}, time.Time{}, err
		}
		old, err := p.Store.GetRef(ctx, key)
		if err != nil && !errors.Is(err, jobs.ErrNotFound) {
			return budget{}, time.Time{}, fmt.Errorf("read %s: %w", key, err)
		}
		b, err := decode(old)
		if err != nil {
			return budget{}, time.Time{}, fmt.Errorf("read %s: %w", key, err)
		}
		now := p.now()
		change(&b, now)
		if old == "" {
			_, err = p.Store.PutRef(ctx, key, b.encode(), 0)
		} else {
			err = p.Store.SwapRef(ctx, key, old, b.encode())
		}
		switch {
		case err == nil:
			return b, now, nil
		case !errors.Is(err, jobs.ErrConflict) && !errors.Is(err, jobs.ErrExists):
			return budget{}, time.Time{}, fmt.Errorf("write %s: %w", key, err)
		}
		if attempt >= 3 { // busy: step aside for a moment before trying again
			if err := p.sleep(ctx, time.Duration(rand.IntN(10*attempt)+1)*time.Millisecond); err != nil {
				return budget{}, time.Time{}, err
			}
		}
	}
	return budget{}, time.Time{}, fmt.Errorf("%s: %w", key, ErrContention)
}

// Reserve takes the user's next write slot and returns how long to wait for
// it (0: write now). The slot is spent even if the caller never writes.
func (p *Pacer) Reserve(ctx context.Context, userID int64) (time.Duration, error) {
	d, _, err := p.reserve(ctx, userID, -1)
	return d, err
}

// reserve is Reserve, taking no slot (ok false) when the slot is more than
// limit away; limit < 0: no limit.
func (p *Pacer) reserve(ctx context.Context, userID int64, limit time.Duration) (wait time.Duration, ok bool, err error) {
	perMinute, perHour := p.perMinute(), p.perHour()
	var slot time.Time
	ok = true
	_, now, err := p.update(ctx, userID, func(b *budget, now time.Time) {
		slot = now
		if b.blocked.After(slot) {
			slot = b.blocked
		}
		if n := len(b.slots); n > 0 {
			// Slots are granted in order, so only windows ending at the new
			// slot can overflow.
			if last := b.slots[n-1]; last.After(slot) {
				slot = last
			}
			if n >= perMinute {
				slot = later(slot, b.slots[n-perMinute].Add(time.Minute))
			}
			if n >= perHour {
				slot = later(slot, b.slots[n-perHour].Add(time.Hour))
			}
		}
		// Stored to the millisecond; every bound above already is, so only
		// now's fraction is dropped.
		slot = time.UnixMilli(slot.UnixMilli())
		if ok = limit < 0 || slot.Sub(now) <= limit; !ok {
			return // too far away: the budget stays as it was
		}
		b.slots = append(b.slots, slot)
		keep := max(perMinute, perHour)
		cut := 0
		for cut < len(b.slots)-1 && (len(b.slots)-cut > keep || !b.slots[cut].After(slot.Add(-time.Hour))) {
			cut++
		}
		b.slots = b.slots[cut:]
	})
	if err != nil || !ok {
		return 0, false, err
	}
	return max(0, slot.Sub(now)), true, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Wait takes the user's next write slot and sleeps until it. Before each
// sleep it calls hold (when not nil) with the sleep's length, and gives up
// with hold's error: a writer holding a lease extends it over the wait. When
// a penalty arrives while it sleeps (another writer was told to retry
// after), it takes a new slot after the penalty.
func (p *Pacer) Wait(ctx context.Context, userID int64, hold func(wait time.Duration) error) error {
	_, err := p.wait(ctx, userID, -1, hold)
	return err
}

// WaitWithin is Wait for a writer that may wait at most limit: when the
// user's next slot is further away it takes none (the budget is left for
// writers that can wait) and returns false. A step's own status-comment
// writes use it, so a busy user's budget never eats the step's timeout.
func (p *Pacer) WaitWithin(ctx context.Context, userID int64, limit time.Duration, hold func(wait time.Duration) error) (bool, error) {
	return p.wait(ctx, userID, max(0, limit), hold)
}

// wait is Wait and WaitWithin: limit < 0 is no limit.
func (p *Pacer) wait(ctx context.Context, userID int64, limit time.Duration, hold func(wait time.Duration) error) (bool, error) {
	deadline := p.now().Add(limit)
	for {
		left := time.Duration(-1)
		if limit >= 0 {
			left = max(0, deadline.Sub(p.now()))
		}
		d, ok, err := p.reserve(ctx, userID, left)
		if err != nil || !ok {
			return false, err
		}
		if d == 0 {
			return true, nil
		}
		if hold != nil {
			if err := hold(d); err != nil {
				return false, err
			}
		}
		if err := p.sleep(ctx, d); err != nil {
			return false, err
		}
		v, err := p.Store.GetRef(ctx, Key(userID))
		if err != nil && !errors.Is(err, jobs.ErrNotFound) {
			return false, fmt.Errorf("read %s: %w", Key(userID), err)
		}
		b, err := decode(v)
		if err != nil {
			return false, fmt.Errorf("read %s: %w", Key(userID), err)
		}
		if !b.blocked.After(p.now()) {
			return true, nil
		}
	}
}

// Penalize stops every writer of the user for retryAfter (a minute when 0,
// as GitHub asks when a secondary limit answer has no retry-after header).
func (p *Pacer) Penalize(ctx context.Context, userID int64, retryAfter time.Duration) error {
	if retryAfter <= 0 {
		retryAfter = time.Minute
	}
	var until time.Time
	_, _, err := p.update(ctx, userID, func(b *budget, now time.Time) {
		until = later(b.blocked, now.Add(retryAfter))
		b.blocked = until
	})
	if err != nil {
		return err
	}
	if p.Logger != nil {
		p.Logger.Info("github asked to slow down: user's writes paused", "user_id", userID, "until", until)
	}
	return nil
}
