// Package webhooktest holds the contract suites that every adapter of the
// webhook package's ports must pass, so the AWS and embedded adapters cannot
// drift apart.
package webhooktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// base is a fixed instant the claim suite measures leases and TTLs from.
var base = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func claimAt(key, token string, at time.Time) webhook.Claim {
	return webhook.Claim{Key: key, Token: token, At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(24 * time.Hour)}
}

// ClaimStore runs the ClaimStore contract against stores made by open; each
// subtest gets a fresh, empty store.
func ClaimStore(t *testing.T, open func(t *testing.T) webhook.ClaimStore) {
	ctx := context.Background()
	mustClaim := func(t *testing.T, s webhook.ClaimStore, c webhook.Claim, want webhook.Outcome) {
		t.Helper()
		got, err := s.Claim(ctx, c)
		if err != nil {
			t.Fatalf("Claim(%s by %s at %s): %v", c.Key, c.Token, c.At.Format(time.TimeOnly), err)
		}
		if got != want {
			t.Fatalf("Claim(%s by %s at %s) = %s, want %s", c.Key, c.Token, c.At.Format(time.TimeOnly), got, want)
		}
	}

	t.Run("first claim acquires, a second attempt in the lease is in progress", func(t *testing.T) {
		s := open(t)
		mustClaim(t, s, claimAt("1/d1", "a", base), webhook.Acquired)
		mustClaim(t, s, claimAt("1/d1", "b", base.Add(30*time.Second)), webhook.InProgress)
	})
	t.Run("keys are independent", func(t *testing.T) {
		s := open(t)
		mustClaim(t, s, claimAt("1/d1", "a", base), webhook.Acquired)
		mustClaim(t, s, claimAt("2/d1", "b", base), webhook.Acquired)
		mustClaim(t, s, claimAt("1/d2", "c", base), webhook.Acquired)
	})
	t.Run("finished delivery is a duplicate until its TTL ends", func(t *testing.T) {
		s := open(t)
		c := claimAt("1/d1", "a", base)
		mustClaim(t, s, c, webhook.Acquired)
		if err := s.Finish(ctx, c); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		mustClaim(t, s, claimAt("1/d1", "b", base.Add(time.Second)), webhook.Duplicate)
		mustClaim(t, s, claimAt("1/d1", "c", base.Add(23*time.Hour)), webhook.Duplicate)
		mustClaim(t, s, claimAt("1/d1", "d", base.Add(24*time.Hour+time.Second)), webhook.Acquired)
	})
	t.Run("released claim can be taken again at once", func(t *testing.T) {
		s := open(t)
		c := claimAt("1/d1", "a", base)
		mustClaim(t, s, c, webhook.Acquired)
		if err := s.Release(ctx, c); err != nil {
			t.Fatalf("Release: %v", err)
		}
		mustClaim(t, s, claimAt("1/d1", "b", base.Add(time.Second)), webhook.Acquired)
	})
	t.Run("expired lease is taken over and the crashed holder loses it", func(t *testing.T) {
		s := open(t)
		old := claimAt("1/d1", "crashed", base)
		mustClaim(t, s, old, webhook.Acquired)
		next := claimAt("1/d1", "next", old.LeaseUntil) // the lease ends at LeaseUntil
		mustClaim(t, s, next, webhook.Acquired)
		if err := s.Finish(ctx, old); !errors.Is(err, webhook.ErrNotHolder) {
			t.Fatalf("Finish by the old holder = %v, want ErrNotHolder", err)
		}
		if err := s.Release(ctx, old); err != nil {
			t.Fatalf("Release by the old holder: %v", err)
		}
		mustClaim(t, s, claimAt("1/d1", "third", next.At.Add(time.Second)), webhook.InProgress)
		if err := s.Finish(ctx, next); err != nil {
			t.Fatalf("Finish by the new holder: %v", err)
		}
		mustClaim(t, s, claimAt("1/d1", "fourth", next.At.Add(time.Hour)), webhook.Duplicate)
	})
	t.Run("finish without holding fails and changes nothing", func(t *testing.T) {
		s := open(t)
		if err := s.Finish(ctx, claimAt("1/d1", "nobody", base)); !errors.Is(err, webhook.ErrNotHolder) {
			t.Fatalf("Finish of an unclaimed key = %v, want ErrNotHolder", err)
		}
		mustClaim(t, s, claimAt("1/d1", "a", base), webhook.Acquired)
	})
	t.Run("release after finish keeps the delivery done", func(t *testing.T) {
		s := open(t)
		c := claimAt("1/d1", "a", base)
		mustClaim(t, s, c, webhook.Acquired)
		if err := s.Finish(ctx, c); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		// Release only frees a claim that is still processing.
		if err := s.Release(ctx, c); err != nil {
			t.Fatalf("Release: %v", err)
		}
		mustClaim(t, s, claimAt("1/d1", "b", base.Add(time.Second)), webhook.Duplicate)
	})
	t.Run("concurrent claims: exactly one acquires", func(t *testing.T) {
		s := open(t)
		const n = 40
		var wg sync.WaitGroup
		outcomes := make([]webhook.Outcome, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				outcomes[i], errs[i] = s.Claim(ctx, claimAt("1/race", fmt.Sprint("t", i), base))
			})
		}
		wg.Wait()
		acquired := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("claim %d: %v", i, errs[i])
			}
			switch outcomes[i] {
			case webhook.Acquired:
				acquired++
			case webhook.InProgress:
			default:
				t.Fatalf("claim %d = %s, want acquired or in_progress", i, outcomes[i])
			}
		}
		if acquired != 1 {
			t.Fatalf("%d of %d concurrent claims acquired, want exactly 1", acquired, n)
		}
	})
}
