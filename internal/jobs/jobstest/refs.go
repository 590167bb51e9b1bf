package jobstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

type freshFunc func(t *testing.T) (jobs.Store, *testenv.Clock)

func runLists(t *testing.T, ctx context.Context, fresh freshFunc) {
	t.Run("list pages newest first across threads", func(t *testing.T) {
		s, _ := fresh(t)
		// Created out of order, on several threads and repositories.
		for i, age := range []int{3, 1, 5, 2, 4} {
			j := Sample(fmt.Sprintf("job-%d", age), []string{"octo/app", "octo/lib"}[i%2], i, T0.Add(-time.Duration(age)*time.Minute))
			if err := s.Create(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(limit int, before time.Time) []string {
			t.Helper()
			got, err := s.List(ctx, limit, before)
			if err != nil {
				t.Fatalf("List(%d, %v): %v", limit, before, err)
			}
			var out []string
			for _, j := range got {
				out = append(out, j.ID)
			}
			return out
		}
		check := func(got []string, want ...string) {
			t.Helper()
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("List = %v, want %v", got, want)
			}
		}
		check(ids(10, time.Time{}), "job-1", "job-2", "job-3", "job-4", "job-5")
		check(ids(2, time.Time{}), "job-1", "job-2")
		page, err := s.List(ctx, 2, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		check(ids(2, page[1].CreatedAt), "job-3", "job-4")
		check(ids(2, T0.Add(-4*time.Minute)), "job-5")
		check(ids(2, T0.Add(-5*time.Minute))) // strictly before: nothing
		// Updates neither reorder nor duplicate the listing.
		j := mustGet(t, s, "job-5")
		j.Status = jobs.Running
		if err := s.Update(ctx, j); err != nil {
			t.Fatal(err)
		}
		check(ids(10, time.Time{}), "job-1", "job-2", "job-3", "job-4", "job-5")
		listed, err := s.List(ctx, 10, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, listed[4], j)
	})

	t.Run("list of an empty store is empty", func(t *testing.T) {
		s, _ := fresh(t)
		got, err := s.List(ctx, 10, time.Time{})
		if err != nil || len(got) != 0 {
			t.Fatalf("List = %d jobs, %v; want none", len(got), err)
		}
	})
}

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

func runShapes(t *testing.T, ctx context.Context, fresh freshFunc) {
	t.Run("a job with 1,000 steps round-trips", func(t *testing.T) {
		s, _ := fresh(t)
		j := Big("big", 1000)
		if err := s.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, s, "big")
		mustEqual(t, got, j)
		got.Steps["step-0999"].Status = jobs.Succeeded
		if err := s.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, mustGet(t, s, "big"), got)
	})

	t.Run("empty and nil maps read back alike and empty", func(t *testing.T) {
		s, _ := fresh(t)
		empty := Sample("empty", "octo/app", 1, T0)
		empty.Args, empty.Steps = map[string]string{}, map[string]*jobs.Step{}
		none := Sample("nil", "octo/app", 2, T0)
		none.Args, none.Steps = nil, nil
		for _, j := range []*jobs.Job{empty, none} {
			if err := s.Create(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		e, n := mustGet(t, s, "empty"), mustGet(t, s, "nil")
		if len(e.Args) != 0 || len(e.Steps) != 0 || len(n.Args) != 0 || len(n.Steps) != 0 {
			t.Fatalf("empty maps read back with entries: %v %v %v %v", e.Args, e.Steps, n.Args, n.Steps)
		}
		if (e.Args == nil) != (n.Args == nil) || (e.Steps == nil) != (n.Steps == nil) {
			t.Fatalf("empty and nil maps read back differently: args %v vs %v, steps %v vs %v", e.Args, n.Args, e.Steps, n.Steps)
		}
		// Whatever the store hands back, the usual read-modify-write works.
		if err := Increment(ctx, s, "nil", "counter"); err != nil {
			t.Fatal(err)
		}
	})
}

// Big returns a job with n steps shaped like a large workflow's (a link and
// a detail line each, half of them finished).
func Big(id string, n int) *jobs.Job {
	j := Sample(id, "octo/monorepo", 1234, T0)
	j.Steps = make(map[string]*jobs.Step, n)
	for i := range n {
		st := &jobs.Step{Status: jobs.Pending}
		if i%2 == 0 {
			st = &jobs.Step{
				Status: jobs.Succeeded, Attempts: 1 + i%3,
				StartedAt: T0.Add(time.Duration(i) * time.Second), FinishedAt: T0.Add(time.Duration(i)*time.Second + 1500*time.Millisecond),
				Link:   fmt.Sprintf("https://github.com/octo/monorepo/actions/runs/%d", 9000000000+i),
				Detail: fmt.Sprintf("package %d: 412 tests passed in %d.%ds", i, i%60, i%10),
			}
		}
		j.Steps[fmt.Sprintf("step-%04d", i)] = st
	}
	return j
}
