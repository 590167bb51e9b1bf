package steps_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// record creates a job of alice's with steps a and b, pending.
func (e *env) record(id string) *jobs.Job {
	e.t.Helper()
	j := newJob(id, "demo", []string{"a", "b"}, e.gh.addComment(e.t, e.gh.pr, "queued"), e.gh.pr)
	if err := e.store.Create(e.ctx, j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// setStep stores a new state of one step of the job.
func (e *env) setStep(id, step string, s jobs.Status) {
	e.t.Helper()
	j, err := e.store.Get(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	j.Steps[step].Status = s
	if err := e.store.Update(e.ctx, j); err != nil {
		e.t.Fatal(err)
	}
}

// commentWritesOf counts the writes of a comment.
func commentWritesOf(e *env, id int64) int {
	return writesBy(e.gh.Writes(), "alice", fmt.Sprintf("/issues/comments/%d", id))
}

// TestReporterLease: while another live writer holds a comment, Publish
// leaves the change to it; a lease whose holder died (its deadline passed)
// is taken over, written, and released.
func TestReporterLease(t *testing.T) {
	e := newEnv(t)
	j := e.record("demo-lease")
	e.setStep(j.ID, "a", jobs.Succeeded)
	key := "comment#" + j.ID
	if _, err := e.store.PutRef(e.ctx, key, fmt.Sprintf("lambda-7 %d", time.Now().Add(time.Minute).UnixNano()), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reporter().Publish(e.ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if n := commentWritesOf(e, j.StatusCommentID); n != 0 {
		t.Fatalf("%d writes while another writer holds the comment", n)
	}
	dead, _ := e.store.GetRef(e.ctx, key)
	if err := e.store.SwapRef(e.ctx, key, dead, fmt.Sprintf("lambda-7 %d", time.Now().Add(-time.Second).UnixNano())); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reporter().Publish(e.ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if n := commentWritesOf(e, j.StatusCommentID); n != 1 {
		t.Errorf("%d writes after the holder's lease expired, want 1", n)
	}
	if !strings.Contains(row(e.gh.comment(t, j.StatusCommentID), "a"), "succeeded") {
		t.Errorf("the comment does not show the change: %s", e.gh.comment(t, j.StatusCommentID))
	}
	if _, err := e.store.GetRef(e.ctx, key); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("the lease was not released: %v", err)
	}
	if got, _ := e.store.Get(e.ctx, j.ID); got.Rendered != got.Version {
		t.Errorf("Rendered %d, Version %d: the comment is not marked current", got.Rendered, got.Version)
	}
}

// TestReporterHoldsTheCommentOverItsPacingWait: a writer waiting a minute
// for the user's next slot keeps the comment (its lease is extended over
// the wait, so no other writer takes it over as dead); the changes made
// meanwhile are left to it and go into its one write.
func TestReporterHoldsTheCommentOverItsPacingWait(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	var during func()
	e := newEnv(t, func(_ *env, d *steps.Deps) {
		d.Now = clock.Now
		d.Pacer = &pace.Pacer{Store: d.Store, PerMinute: 1, Now: clock.Now, Sleep: func(_ context.Context, w time.Duration) error {
			clock.Advance(w)
			during()
			return nil
		}}
	})
	j := e.record("demo-wait")
	// The minute's one slot is spent: the next write waits a minute.
	if _, err := (&pace.Pacer{Store: e.store, PerMinute: 1, Now: clock.Now}).Reserve(e.ctx, 1001); err != nil {
		t.Fatal(err)
	}
	e.setStep(j.ID, "a", jobs.Succeeded)
	waited := false
	during = func() {
		if waited {
			return
		}
		waited = true
		// 105 s after the lease was taken, past what it alone (90 s)
		// covers, the write still to come: another writer finds the
		// comment held and leaves its change to the holder.
		clock.Advance(45 * time.Second)
		e.setStep(j.ID, "b", jobs.Succeeded)
		if err := e.svc.Reporter().Publish(e.ctx, j.ID); err != nil {
			t.Error(err)
		}
		if n := commentWritesOf(e, j.StatusCommentID); n != 0 {
			t.Errorf("%d writes by another writer during the holder's wait", n)
		}
	}
	if err := e.svc.Reporter().Publish(e.ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if !waited {
		t.Fatal("the write never waited for its slot")
	}
	if n := commentWritesOf(e, j.StatusCommentID); n != 1 {
		t.Errorf("%d writes, want the held one only", n)
	}
	c := e.gh.comment(t, j.StatusCommentID)
	if !strings.Contains(row(c, "a"), "succeeded") || !strings.Contains(row(c, "b"), "succeeded") {
		t.Errorf("the one write should show both changes:\n%s", c)
	}
}
