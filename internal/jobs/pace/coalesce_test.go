package pace_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// setStep stores a new state of one step, retrying on conflicts, as the
// step tasks do.
func setStep(t testing.TB, s jobs.Store, id, step string, st jobs.Status) {
	t.Helper()
	for {
		j, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Steps == nil {
			j.Steps = map[string]*jobs.Step{}
		}
		j.Steps[step] = &jobs.Step{Status: st}
		err = s.Update(context.Background(), j)
		if err == nil {
			return
		}
		if !errors.Is(err, jobs.ErrConflict) {
			t.Fatal(err)
		}
	}
}

func newJob(t testing.TB, s jobs.Store, id string, user int64) {
	t.Helper()
	if err := s.Create(context.Background(), &jobs.Job{ID: id, Workflow: "w", Status: jobs.Running, Thread: jobs.Thread{Repo: "octo/app", Kind: jobs.IssueThread, Number: 1}, User: jobs.User{ID: user, Login: "u" + strconv.FormatInt(user, 10)}}); err != nil {
		t.Fatal(err)
	}
}

// recorder is a fake comment writer that records the versions it wrote.
type recorder struct {
	mu       sync.Mutex
	versions []int64
	steps    []map[string]*jobs.Step
	hold     chan struct{} // when set, the first write waits on it
	entered  chan struct{}
	fail     []error // errors returned by the first writes, in order
}

func (r *recorder) write(_ context.Context, j *jobs.Job) error {
	r.mu.Lock()
	first := len(r.versions) == 0 && r.hold != nil
	var err error
	if len(r.fail) > 0 {
		err, r.fail = r.fail[0], r.fail[1:]
	}
	r.versions = append(r.versions, j.Version)
	r.steps = append(r.steps, j.Steps)
	r.mu.Unlock()
	if first {
		close(r.entered)
		<-r.hold
	}
	return err
}

// TestCoalescerWritesNewestOnce: while one write is in flight, three more
// updates arrive; their callers return at once and the holder writes once
// more, with the newest state.
func TestCoalescerWritesNewestOnce(t *testing.T) {
	store := newMemStore()
	newJob(t, store, "j1", 1)
	rec := &recorder{hold: make(chan struct{}), entered: make(chan struct{})}
	c := &pace.Coalescer{Store: store, Write: rec.write}
	ctx := context.Background()
	done := make(chan error)
	go func() { done <- c.Update(ctx, "j1") }()
	<-rec.entered
	for _, s := range []string{"a", "b", "c"} {
		setStep(t, store, "j1", s, jobs.Succeeded)
		if err := c.Update(ctx, "j1"); err != nil {
			t.Fatal(err)
		}
	}
	close(rec.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(rec.versions) != 2 {
		t.Fatalf("wrote versions %v, want the first and then only the newest", rec.versions)
	}
	if last := rec.steps[1]; len(last) != 3 {
		t.Errorf("last write shows %d steps, want all 3", len(last))
	}
	j, _ := store.Get(ctx, "j1")
	if j.Rendered != j.Version {
		t.Errorf("Rendered = %d, Version = %d: the comment is not marked current", j.Rendered, j.Version)
	}
	if _, held := store.ref(pace.LeaseKey("j1")); held {
		t.Error("lease not released")
	}
	// Nothing new: no write.
	if err := c.Update(ctx, "j1"); err != nil || len(rec.versions) != 2 {
		t.Errorf("an Update with nothing new wrote (%v, %v)", rec.versions, err)
	}
}

// TestCoalescerRetries: a failed write is retried with doubling backoff; a
// retry-after answer pauses the user's whole budget; a write that keeps
// failing returns an error and frees the comment.
func TestCoalescerRetries(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("502 bad gateway")
	t.Run("backoff", func(t *testing.T) {
		store, clock := newMemStore(), testenv.NewClock(t0)
		newJob(t, store, "j1", 1)
		rec := &recorder{fail: []error{boom, boom}}
		var slept []time.Duration
		c := &pace.Coalescer{Store: store, Write: rec.write, Now: clock.Now, Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			clock.Advance(d)
			return nil
		}}
		if err := c.Update(ctx, "j1"); err != nil {
			t.Fatal(err)
		}
		if len(rec.versions) != 3 || len(slept) != 2 || slept[0] != time.Second || slept[1] != 2*time.Second {
			t.Errorf("writes %v, sleeps %v; want 3 writes after 1s and 2s", rec.versions, slept)
		}
	})
	t.Run("retry-after", func(t *testing.T) {
		store, clock := newMemStore(), testenv.NewClock(t0)
		newJob(t, store, "j1", 1)
		rec := &recorder{fail: []error{&pace.RetryAfterError{After: 90 * time.Second, Err: boom}}}
		p := &pace.Pacer{Store: store, Now: clock.Now, Sleep: advancing(clock)}
		c := &pace.Coalescer{Store: store, Write: rec.write, Pacer: p, Now: clock.Now, Sleep: advancing(clock)}
		if err := c.Update(ctx, "j1"); err != nil {
			t.Fatal(err)
		}
		if len(rec.versions) != 2 || clock.Now().Before(t0.Add(90*time.Second)) {
			t.Errorf("%d writes, last at %s; want the retry 90s after the refusal", len(rec.versions), clock.Now().Sub(t0))
		}
		if v, _ := store.ref(pace.Key(1)); v == "" {
			t.Error("the penalty was not stored in the user's budget")
		}
	})
	t.Run("gives up", func(t *testing.T) {
		store, clock := newMemStore(), testenv.NewClock(t0)
		newJob(t, store, "j1", 1)
		rec := &recorder{fail: []error{boom, boom, boom, boom, boom, boom}}
		c := &pace.Coalescer{Store: store, Write: rec.write, Now: clock.Now, Sleep: advancing(clock)}
		if err := c.Update(ctx, "j1"); !errors.Is(err, boom) {
			t.Errorf("Update = %v, want the write's error", err)
		}
		if len(rec.versions) != 5 {
			t.Errorf("%d tries, want 5", len(rec.versions))
		}
		if _, held := store.ref(pace.LeaseKey("j1")); held {
			t.Error("a failed Update left the comment held")
		}
		j, _ := store.Get(ctx, "j1")
		if j.Rendered == j.Version {
			t.Error("a comment never written is marked current")
		}
	})
}

// TestCoalescerLease: a live lease of another process means its holder
// writes; an expired one (a crashed holder) is taken over.
func TestCoalescerLease(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(t0)
	store := newMemStore()
	newJob(t, store, "j1", 1)
	rec := &recorder{}
	c := &pace.Coalescer{Store: store, Write: rec.write, Now: clock.Now, Owner: "me"}
	other := "lambda-7 " + strconv.FormatInt(t0.Add(time.Minute).UnixMilli(), 10)
	store.setRef(pace.LeaseKey("j1"), other)
	if err := c.Update(ctx, "j1"); err != nil || len(rec.versions) != 0 {
		t.Fatalf("wrote %v (%v) while another process holds the comment", rec.versions, err)
	}
	clock.Advance(2 * time.Minute)
	if err := c.Update(ctx, "j1"); err != nil || len(rec.versions) != 1 {
		t.Fatalf("wrote %v (%v); want the expired lease taken over and one write", rec.versions, err)
	}
	if _, held := store.ref(pace.LeaseKey("j1")); held {
		t.Error("lease not released")
	}
}

// TestCoalescerNeverGoesBack: parallel steps finish together and each asks
// for an update; the comment's writes only ever move forward and end on the
// final state.
func TestCoalescerNeverGoesBack(t *testing.T) {
	neverGoesBack(t, newMemStore())
}

func neverGoesBack(t *testing.T, store jobs.Store) {
	newJob(t, store, "j1", 1)
	rec := &recorder{}
	c := &pace.Coalescer{Store: store, Write: rec.write}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			setStep(t, store, "j1", "s"+strconv.Itoa(i), jobs.Succeeded)
			if err := c.Update(context.Background(), "j1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := 1; i < len(rec.versions); i++ {
		if rec.versions[i] <= rec.versions[i-1] {
			t.Fatalf("versions written %v go back", rec.versions)
		}
	}
	if last := rec.steps[len(rec.steps)-1]; len(last) != 20 {
		t.Errorf("last write shows %d steps, want 20", len(last))
	}
	t.Logf("20 updates, %d writes", len(rec.versions))
}
