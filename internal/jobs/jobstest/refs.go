package jobstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

func runRefs(t *testing.T, ctx context.Context, fresh freshFunc) {
	getRef := func(t *testing.T, s jobs.Store, key, want string) {
		t.Helper()
		got, err := s.GetRef(ctx, key)
		if want == "" {
			if !errors.Is(err, jobs.ErrNotFound) {
				t.Fatalf("GetRef(%s) = %q, %v; want ErrNotFound", key, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("GetRef(%s) = %q, %v; want %q", key, got, err, want)
		}
	}

	t.Run("putref: the first wins, the next learns the holder", func(t *testing.T) {
		s, _ := fresh(t)
		getRef(t, s, "lock/octo/app", "")
		if held, err := s.PutRef(ctx, "lock/octo/app", "job-1", 0); err != nil {
			t.Fatalf("PutRef = %q, %v", held, err)
		}
		held, err := s.PutRef(ctx, "lock/octo/app", "job-2", time.Hour)
		if !errors.Is(err, jobs.ErrExists) || held != "job-1" {
			t.Fatalf("second PutRef = %q, %v; want job-1, ErrExists", held, err)
		}
		getRef(t, s, "lock/octo/app", "job-1")
		if _, err := s.PutRef(ctx, "lock/octo/lib", "job-2", 0); err != nil {
			t.Fatalf("PutRef of another key: %v", err)
		}
		getRef(t, s, "lock/octo/lib", "job-2")
	})

	t.Run("one of many concurrent putrefs wins", func(t *testing.T) {
		s, _ := fresh(t)
		const racers = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		holders := map[string]int{}
		for i := range racers {
			wg.Go(func() {
				me := fmt.Sprintf("job-%d", i)
				held, err := s.PutRef(ctx, "lock/octo/app", me, time.Hour)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, me)
				case errors.Is(err, jobs.ErrExists):
					holders[held]++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 || holders[winners[0]] != racers-1 {
			t.Fatalf("winners %v, refused callers saw holders %v; want one winner all others saw", winners, holders)
		}
		getRef(t, s, "lock/octo/app", winners[0])
	})

	t.Run("swapref compares and swaps; empty value deletes", func(t *testing.T) {
		s, _ := fresh(t)
		if _, err := s.PutRef(ctx, "k", "v1", 0); err != nil {
			t.Fatal(err)
		}
		if err := s.SwapRef(ctx, "k", "wrong", "v2"); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("SwapRef with a wrong old = %v, want ErrConflict", err)
		}
		getRef(t, s, "k", "v1")
		if err := s.SwapRef(ctx, "k", "v1", "v2"); err != nil {
			t.Fatal(err)
		}
		getRef(t, s, "k", "v2")
		if err := s.SwapRef(ctx, "k", "v1", "v3"); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("SwapRef with the replaced old = %v, want ErrConflict", err)
		}
		if err := s.SwapRef(ctx, "k", "wrong", ""); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("delete with a wrong old = %v, want ErrConflict", err)
		}
		getRef(t, s, "k", "v2")
		if err := s.SwapRef(ctx, "k", "v2", ""); err != nil {
			t.Fatal(err)
		}
		getRef(t, s, "k", "")
		if err := s.SwapRef(ctx, "k", "v2", "v3"); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("SwapRef of an absent key = %v, want ErrConflict", err)
		}
		if err := s.SwapRef(ctx, "k", "", "v3"); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("SwapRef of an absent key from \"\" = %v, want ErrConflict", err)
		}
		getRef(t, s, "k", "")
		if _, err := s.PutRef(ctx, "k", "again", 0); err != nil {
			t.Fatalf("PutRef after delete: %v", err)
		}
		getRef(t, s, "k", "again")
	})

	t.Run("refs with a ttl expire; swaps keep the ttl", func(t *testing.T) {
		s, clock := fresh(t)
		if _, err := s.PutRef(ctx, "short", "a", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutRef(ctx, "forever", "f", 0); err != nil {
			t.Fatal(err)
		}
		clock.Advance(30 * time.Second)
		if err := s.SwapRef(ctx, "short", "a", "b"); err != nil {
			t.Fatal(err)
		}
		getRef(t, s, "short", "b")
		clock.Advance(29 * time.Second)
		getRef(t, s, "short", "b")
		clock.Advance(2 * time.Second) // 61 s after the put
		getRef(t, s, "short", "")
		if err := s.SwapRef(ctx, "short", "b", "c"); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("SwapRef of an expired ref = %v, want ErrConflict", err)
		}
		if err := s.SwapRef(ctx, "short", "b", ""); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("delete of an expired ref = %v, want ErrConflict", err)
		}
		if held, err := s.PutRef(ctx, "short", "new", time.Minute); err != nil {
			t.Fatalf("PutRef over an expired ref = %q, %v", held, err)
		}
		getRef(t, s, "short", "new")
		clock.Advance(365 * 24 * time.Hour)
		getRef(t, s, "forever", "f")
	})

	t.Run("bad refs are refused", func(t *testing.T) {
		s, _ := fresh(t)
		if _, err := s.PutRef(ctx, "", "v", 0); err == nil {
			t.Error("PutRef of an empty key succeeded")
		}
		if _, err := s.PutRef(ctx, "k", "", 0); err == nil {
			t.Error("PutRef of an empty value succeeded")
		}
		if _, err := s.PutRef(ctx, "k", "v", -time.Second); err == nil {
			t.Error("PutRef with a negative ttl succeeded")
		}
		if _, err := s.GetRef(ctx, ""); err == nil {
			t.Error("GetRef of an empty key succeeded")
		}
		if err := s.SwapRef(ctx, "", "a", "b"); err == nil {
			t.Error("SwapRef of an empty key succeeded")
		}
		getRef(t, s, "k", "")
	})
}
