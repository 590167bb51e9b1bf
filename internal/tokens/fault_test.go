package tokens_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// flakyStore fails the next Puts: before writing (the store was unreachable)
// or after writing (the write landed but the answer was lost).
type flakyStore struct {
	tokens.Store
	mu           sync.Mutex
	failBefore   int
	failAfter    int
	puts, failed int
}

func (f *flakyStore) Put(ctx context.Context, r tokens.Record, prev int64) error {
	f.mu.Lock()
	f.puts++
	before, after := f.failBefore > 0, f.failBefore == 0 && f.failAfter > 0
	if before {
		f.failBefore--
	} else if after {
		f.failAfter--
	}
	f.mu.Unlock()
	if before {
		f.failed++
		return errors.New("injected: store unreachable")
	}
	err := f.Store.Put(ctx, r, prev)
	if after && err == nil {
		f.failed++
		return errors.New("injected: answer lost after commit")
	}
	return err
}

// cancellingRefresher cancels the caller's context as soon as GitHub has
// rotated the token, as a Lambda timing out would.
type cancellingRefresher struct {
	tokens.Refresher
	cancel context.CancelFunc
}

func (c cancellingRefresher) Refresh(ctx context.Context, rt string) (tokens.Grant, error) {
	g, err := c.Refresher.Refresh(ctx, rt)
	c.cancel()
	return g, err
}

// TestNoRotationLostOnFaults: after each fault the rotated refresh token must
// be the stored one, which the next refresh proves (GitHub refuses the old one).
func TestNoRotationLostOnFaults(t *testing.T) {
	cases := []struct {
		name       string
		failBefore int
		failAfter  int
		cancel     bool
	}{
		{"store unreachable three times", 3, 0, false},
		{"write landed but its answer was lost", 0, 1, false},
		{"caller gave up right after the rotation", 0, 0, true},
		{"caller gave up and the store failed twice", 2, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			u, _ := r.login(r.newVault(), "octocat")
			flaky := &flakyStore{Store: r.store, failBefore: c.failBefore, failAfter: c.failAfter}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var refresher tokens.Refresher = r.client
			if c.cancel {
				refresher = cancellingRefresher{r.client, cancel}
			}
			v := tokens.New(tokens.Config{Store: flaky, Keys: r.keys, Refresher: refresher, Now: r.clk.Now, Log: slog.New(slog.DiscardHandler)})
			r.clk.Advance(7*time.Hour + 56*time.Minute)
			got, err := v.Token(ctx, u.ID)
			if err != nil {
				t.Fatalf("Token under faults: %v", err)
			}
			if flaky.failed != c.failBefore+c.failAfter {
				t.Fatalf("%d faults injected, want %d", flaky.failed, c.failBefore+c.failAfter)
			}
			if who, err := r.client.User(context.Background(), got); err != nil || who.ID != u.ID {
				t.Fatalf("returned token does not work: %v", err)
			}
			// A later refresh by another process uses the stored refresh token.
			r.clk.Advance(7*time.Hour + 56*time.Minute)
			if _, err := r.newVault().Token(context.Background(), u.ID); err != nil {
				t.Fatalf("the rotation was lost: %v", err)
			}
			if n := r.gh.Count("token.refresh"); n != 2 {
				t.Fatalf("%d refreshes, want 2", n)
			}
		})
	}
}

// TestWaiterOutlivesACancelledLeader: callers in one process share the first
// caller's work; if that caller gives up, the others carry on.
func TestWaiterOutlivesACancelledLeader(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	u, _ := r.login(v, "octocat")
	bg := context.Background()
	r.clk.Advance(7*time.Hour + 56*time.Minute)
	now := r.clk.Now()
	if ok, err := r.store.Lease(bg, u.ID, "other-lambda", now, now.Add(20*time.Second)); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	leaderCtx, cancel := context.WithCancel(bg)
	leaderErr := make(chan error, 1)
	go func() {
		_, err := v.Token(leaderCtx, u.ID)
		leaderErr <- err
	}()
	time.Sleep(30 * time.Millisecond) // the leader is polling the lease
	waiter := make(chan error, 1)
	go func() {
		_, err := v.Token(bg, u.ID)
		waiter <- err
	}()
	time.Sleep(30 * time.Millisecond)
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	r.clk.Advance(21 * time.Second) // the other Lambda's lease runs out
	select {
	case err := <-waiter:
		if err != nil {
			t.Fatalf("waiter: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter never got a token")
	}
	if n := r.gh.Count("token.refresh"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}
