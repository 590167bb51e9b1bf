package jobstest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// freshFunc returns an empty store and the clock it reads.
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

	t.Run("list of more jobs than one read batch keeps the order", func(t *testing.T) {
		s, _ := fresh(t)
		const n = 120 // DynamoDB reads at most 100 items a batch
		for i := range n {
			if err := s.Create(ctx, Sample(fmt.Sprintf("job-%03d", i), "octo/app", i, T0.Add(time.Duration(i)*time.Second))); err != nil {
				t.Fatal(err)
			}
		}
		for _, limit := range []int{105, 500} {
			got, err := s.List(ctx, limit, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != min(limit, n) {
				t.Fatalf("List(%d) = %d jobs, want %d", limit, len(got), min(limit, n))
			}
			for k, j := range got {
				if want := fmt.Sprintf("job-%03d", n-1-k); j.ID != want {
					t.Fatalf("List(%d)[%d] = %s, want %s", limit, k, j.ID, want)
				}
			}
		}
	})

	t.Run("list of an empty store is empty", func(t *testing.T) {
		s, _ := fresh(t)
		got, err := s.List(ctx, 10, time.Time{})
		if err != nil || len(got) != 0 {
			t.Fatalf("List = %d jobs, %v; want none", len(got), err)
		}
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
