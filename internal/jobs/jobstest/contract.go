// Package jobstest is the contract every jobs.Store adapter must meet. Run it
// from each adapter's tests (SQLite, DynamoDB on dynalite) so the two cannot
// drift.
package jobstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// T0 is the time the clock handed to open starts at.
var T0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Run checks the Store contract. open must return an empty store whose clock
// (for a zero CreatedAt and for the ttl of references) is now; the suite
// moves now to expire references.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) jobs.Store) {
	ctx := context.Background()
	fresh := func(t *testing.T) (jobs.Store, *testenv.Clock) {
		clock := testenv.NewClock(T0)
		return open(t, clock.Now), clock
	}

	t.Run("create sets version 1 and every field round-trips", func(t *testing.T) {
		s, _ := fresh(t)
		j := Sample("job-1", "octo/app", 7, T0.Add(-time.Minute+123456789))
		j.Version = 42 // ignored: a new job is version 1
		if err := s.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
		if j.Version != 1 {
			t.Fatalf("after Create, j.Version = %d, want 1", j.Version)
		}
		mustEqual(t, mustGet(t, s, "job-1"), j)
	})

	t.Run("create of a taken id is ErrExists and changes nothing", func(t *testing.T) {
		s, _ := fresh(t)
		first := Sample("job-1", "octo/app", 7, T0)
		if err := s.Create(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := Sample("job-1", "octo/other", 9, T0.Add(time.Hour))
		second.Workflow = "other"
		if err := s.Create(ctx, second); !errors.Is(err, jobs.ErrExists) {
			t.Fatalf("second Create = %v, want ErrExists", err)
		}
		mustEqual(t, mustGet(t, s, "job-1"), first)
		if _, err := s.Latest(ctx, "octo/other", 9); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("the refused job is the thread's latest (err %v)", err)
		}
	})

	t.Run("create fills a zero CreatedAt from the store's clock", func(t *testing.T) {
		s, _ := fresh(t)
		j := Sample("job-1", "octo/app", 7, time.Time{})
		if err := s.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
		if !j.CreatedAt.Equal(T0) {
			t.Fatalf("CreatedAt = %v, want the store's now %v", j.CreatedAt, T0)
		}
		if got := mustGet(t, s, "job-1"); !got.CreatedAt.Equal(T0) {
			t.Fatalf("stored CreatedAt = %v, want %v", got.CreatedAt, T0)
		}
	})

	t.Run("bad jobs are refused and nothing is stored", func(t *testing.T) {
		s, _ := fresh(t)
		noRepo := Sample("job-1", "", 7, T0)
		for name, j := range map[string]*jobs.Job{"nil": nil, "no id": Sample("", "octo/app", 7, T0), "no repo": noRepo} {
			if err := s.Create(ctx, j); err == nil {
				t.Errorf("Create of a job with %s succeeded", name)
			}
			if err := s.Update(ctx, j); err == nil {
				t.Errorf("Update of a job with %s succeeded", name)
			}
		}
		if _, err := s.Get(ctx, "job-1"); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("Get after refused creates = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, ""); err == nil {
			t.Error("Get of an empty id succeeded")
		}
		if _, err := s.Latest(ctx, "", 7); err == nil {
			t.Error("Latest of an empty repository succeeded")
		}
		if got, err := s.List(ctx, 10, time.Time{}); err != nil || len(got) != 0 {
			t.Fatalf("List after refused creates = %d jobs, %v; want none", len(got), err)
		}
		for _, limit := range []int{0, -1} {
			if _, err := s.List(ctx, limit, time.Time{}); err == nil {
				t.Errorf("List with limit %d succeeded", limit)
			}
		}
	})

	t.Run("get of an absent job is ErrNotFound", func(t *testing.T) {
		s, _ := fresh(t)
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	})

	t.Run("jobs handed in and out are copies", func(t *testing.T) {
		s, _ := fresh(t)
		j := Sample("job-1", "octo/app", 7, T0)
		if err := s.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
		want := j.Clone()
		scribble(j) // the caller's job after Create
		scribble(mustGet(t, s, "job-1"))
		latest, err := s.Latest(ctx, "octo/app", 7)
		if err != nil {
			t.Fatal(err)
		}
		scribble(latest)
		listed, err := s.List(ctx, 1, time.Time{})
		if err != nil || len(listed) != 1 {
			t.Fatalf("List = %d jobs, %v", len(listed), err)
		}
		scribble(listed[0])
		mustEqual(t, mustGet(t, s, "job-1"), want)
	})

	t.Run("update with the read version writes and bumps it", func(t *testing.T) {
		s, _ := fresh(t)
		if err := s.Create(ctx, Sample("job-1", "octo/app", 7, T0)); err != nil {
			t.Fatal(err)
		}
		j := mustGet(t, s, "job-1")
		j.Status = jobs.Running
		j.Steps["test"].Status = jobs.Succeeded
		j.Args["extra"] = "yes"
		if err := s.Update(ctx, j); err != nil {
			t.Fatal(err)
		}
		if j.Version != 2 {
			t.Fatalf("after Update, j.Version = %d, want 2", j.Version)
		}
		mustEqual(t, mustGet(t, s, "job-1"), j)
		j.Status = jobs.Succeeded
		if err := s.Update(ctx, j); err != nil || j.Version != 3 {
			t.Fatalf("second Update = %v, version %d; want nil, 3", err, j.Version)
		}
		mustEqual(t, mustGet(t, s, "job-1"), j)
	})

	t.Run("stale update is ErrConflict and changes nothing", func(t *testing.T) {
		s, _ := fresh(t)
		if err := s.Create(ctx, Sample("job-1", "octo/app", 7, T0)); err != nil {
			t.Fatal(err)
		}
		a, b := mustGet(t, s, "job-1"), mustGet(t, s, "job-1")
		a.Status = jobs.Running
		if err := s.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
		b.Status = jobs.Failed
		if err := s.Update(ctx, b); !errors.Is(err, jobs.ErrConflict) {
			t.Fatalf("stale Update = %v, want ErrConflict", err)
		}
		if b.Version != 1 {
			t.Fatalf("a refused Update changed j.Version to %d", b.Version)
		}
		mustEqual(t, mustGet(t, s, "job-1"), a)
		ghost := Sample("ghost", "octo/app", 7, T0)
		ghost.Version = 1
		if err := s.Update(ctx, ghost); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("Update of an absent job = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, "ghost"); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("Update of an absent job created it (Get: %v)", err)
		}
	})

	t.Run("concurrent read-modify-writes lose no update", func(t *testing.T) {
		s, _ := fresh(t)
		if err := s.Create(ctx, Sample("job-1", "octo/app", 7, T0)); err != nil {
			t.Fatal(err)
		}
		const writers = 20
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				if err := Increment(ctx, s, "job-1", "counter"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		j := mustGet(t, s, "job-1")
		if j.Args["counter"] != strconv.Itoa(writers) || j.Version != 1+writers {
			t.Fatalf("counter = %q at version %d, want %d at %d", j.Args["counter"], j.Version, writers, 1+writers)
		}
	})

	t.Run("latest is the newest job of its thread", func(t *testing.T) {
		s, _ := fresh(t)
		for _, j := range []*jobs.Job{
			Sample("old", "octo/app", 7, T0.Add(-3*time.Minute)),
			Sample("newest", "octo/app", 7, T0.Add(-time.Minute)),
			Sample("middle", "octo/app", 7, T0.Add(-2*time.Minute)),
			Sample("other-number", "octo/app", 8, T0),
			Sample("other-number-17", "octo/app", 17, T0),
			Sample("other-repo", "octo/lib", 7, T0.Add(time.Minute)),
		} {
			if err := s.Create(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		latest := func(repo string, number int) string {
			t.Helper()
			j, err := s.Latest(ctx, repo, number)
			if err != nil {
				t.Fatalf("Latest(%s, %d): %v", repo, number, err)
			}
			return j.ID
		}
		if id := latest("octo/app", 7); id != "newest" {
			t.Fatalf("Latest(octo/app, 7) = %s, want newest", id)
		}
		if id := latest("octo/app", 8); id != "other-number" {
			t.Fatalf("Latest(octo/app, 8) = %s, want other-number", id)
		}
		if _, err := s.Latest(ctx, "octo/app", 1); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("Latest of a thread without jobs = %v, want ErrNotFound", err)
		}
		if _, err := s.Latest(ctx, "octo/ap", 7); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("Latest of a repository without jobs = %v, want ErrNotFound", err)
		}
		// Writing an older job does not make it the latest; Latest hands
		// out the newest job's current version.
		old := mustGet(t, s, "old")
		old.Status = jobs.Running
		if err := s.Update(ctx, old); err != nil {
			t.Fatal(err)
		}
		newest := mustGet(t, s, "newest")
		newest.Status = jobs.Succeeded
		if err := s.Update(ctx, newest); err != nil {
			t.Fatal(err)
		}
		got, err := s.Latest(ctx, "octo/app", 7)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, got, newest)
	})

	runLists(t, ctx, fresh)
	runRefs(t, ctx, fresh)
	runShapes(t, ctx, fresh)
}

// Increment adds one to the integer in Args[key] of job id with a
// read-modify-write, retrying on ErrConflict (what every job writer does).
func Increment(ctx context.Context, s jobs.Store, id, key string) error {
	for {
		j, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(j.Args[key])
		if j.Args == nil {
			j.Args = map[string]string{}
		}
		j.Args[key] = strconv.Itoa(n + 1)
		err = s.Update(ctx, j)
		if errors.Is(err, jobs.ErrConflict) {
			continue
		}
		return err
	}
}

// Sample returns a job on repo's issue or pull request number with every
// field set (Version 0: not yet created).
func Sample(id, repo string, number int, created time.Time) *jobs.Job {
	return &jobs.Job{
		ID:       id,
		Workflow: "deploy",
		Thread: jobs.Thread{
			Repo: repo, Kind: jobs.PullThread, Number: number, CommentID: 4242,
		},
		HeadSHA:         "3f9a1c2d4e5f60718293a4b5c6d7e8f901234567",
		Ref:             "feature-x",
		User:            jobs.User{ID: 1001, Login: "alice"},
		InstallationID:  77,
		Args:            map[string]string{"environment": "staging"},
		DeliveryID:      "d-" + id,
		StatusCommentID: 9001,
		ExecutionARN:    "arn:aws:states:us-east-1:123456789012:execution:deploy:" + id,
		Status:          jobs.Queued,
		Steps: map[string]*jobs.Step{
			"build": {Status: jobs.Succeeded, Attempts: 1, StartedAt: created.Add(time.Second), FinishedAt: created.Add(time.Minute),
				Link: "https://github.com/" + repo + "/actions/runs/1", Detail: "success"},
			"test": {Status: jobs.Pending},
		},
		Lock:      "deploy/" + repo,
		Rendered:  0,
		CreatedAt: created,
		UpdatedAt: created,
	}
}

// scribble changes every part of j a shared reference could leak through.
func scribble(j *jobs.Job) {
	j.Status = jobs.Aborted
	j.Args["environment"] = "production"
	j.Args["injected"] = "x"
	j.Steps["build"].Status = jobs.Failed
	j.Steps["injected"] = &jobs.Step{}
	j.Thread.Number = 666
}

func mustGet(t *testing.T, s jobs.Store, id string) *jobs.Job {
	t.Helper()
	j, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return j
}

// mustEqual compares jobs by their JSON encoding: times compare as instants
// written to the nanosecond, whatever their Location.
func mustEqual(t *testing.T, got, want *jobs.Job) {
	t.Helper()
	if err := same(got, want); err != nil {
		t.Fatal(err)
	}
}

func same(got, want *jobs.Job) error {
	g, err := json.Marshal(normal(got))
	if err != nil {
		return err
	}
	w, err := json.Marshal(normal(want))
	if err != nil {
		return err
	}
	if string(g) != string(w) {
		return fmt.Errorf("job differs:\n got %s\nwant %s", g, w)
	}
	return nil
}

// normal returns a copy of j with its times in UTC.
func normal(j *jobs.Job) *jobs.Job {
	if j == nil {
		return nil
	}
	c := j.Clone()
	c.CreatedAt, c.UpdatedAt, c.FinishedAt = utc(c.CreatedAt), utc(c.UpdatedAt), utc(c.FinishedAt)
	steps := maps.Clone(c.Steps)
	for name, st := range steps {
		st.StartedAt, st.FinishedAt = utc(st.StartedAt), utc(st.FinishedAt)
		steps[name] = st
	}
	c.Steps = steps
	return c
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
