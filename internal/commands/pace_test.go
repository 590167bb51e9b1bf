package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// pacer records the users whose writes waited for a slot; with fail set it
// refuses them (the store is down).
type pacer struct {
	mu    sync.Mutex
	waits []int64
	fail  error
}

func (p *pacer) Wait(_ context.Context, userID int64, _ func(time.Duration) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits = append(p.waits, userID)
	return p.fail
}

func (p *pacer) count(id int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, w := range p.waits {
		if w == id {
			n++
		}
	}
	return n
}

// TestRepliesAsTheUserArePaced: a reply and a run's status comment written
// with the user's token each take a slot of that user's budget first; a
// retried delivery whose reply exists takes none; a refusal, written by the
// installation, takes none of the user's.
func TestRepliesAsTheUserArePaced(t *testing.T) {
	r := newRig(t)
	p := &pacer{}
	r.h.Pacer, r.deps.Pacer = p, p
	alice := r.login("alice")

	ping := r.say("alice", "@ai3-mvp ping")
	if err := r.handle(ping); err != nil {
		t.Fatal(err)
	}
	if n := p.count(alice); n != 1 {
		t.Fatalf("ping: %d paced writes for alice, want 1", n)
	}
	if err := r.handle(ping); err != nil { // the bus retries; the reply exists
		t.Fatal(err)
	}
	if n := p.count(alice); n != 1 {
		t.Fatalf("retried ping: %d paced writes, want still 1", n)
	}

	if err := r.handle(r.say("alice", "@ai3-mvp run checks")); err != nil {
		t.Fatal(err)
	}
	if n := p.count(alice); n != 2 || len(r.bodies("kind=status")) != 1 {
		t.Fatalf("run: %d paced writes (want 2), %d status comments", n, len(r.bodies("kind=status")))
	}

	stranger := r.gh.EnsureUser("mallory").ID // no login: the installation answers
	if err := r.handle(r.say("mallory", "@ai3-mvp run checks")); err != nil {
		t.Fatal(err)
	}
	if ws := r.bodies("can't run"); len(ws) != 1 || ws[0].Token != "installation" {
		t.Fatalf("refusal: %+v, want one reply by the installation", ws)
	}
	if n := p.count(stranger); n != 0 {
		t.Errorf("a refusal by the installation spent %d of mallory's slots", n)
	}
}

// TestReplyWaitsForItsSlot: when the budget cannot be read the reply is not
// written and the delivery fails, so the bus retries it later.
func TestReplyWaitsForItsSlot(t *testing.T) {
	r := newRig(t)
	p := &pacer{fail: errors.New("store unavailable")}
	r.h.Pacer = p
	r.login("alice")
	env := r.say("alice", "@ai3-mvp ping")
	if err := r.handle(env); err == nil {
		t.Fatal("the reply went out without a slot")
	}
	if n := len(r.bodies("pong")); n != 0 {
		t.Fatalf("%d pongs written without a slot", n)
	}
	p.fail = nil
	if err := r.handle(env); err != nil {
		t.Fatal(err)
	}
	if n := len(r.bodies("pong")); n != 1 {
		t.Fatalf("%d pongs after the retry, want 1", n)
	}
}
