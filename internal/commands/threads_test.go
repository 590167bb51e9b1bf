package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
)

// A retried delivery must find what its first attempt wrote where that
// attempt wrote it: replies in a review thread among the pull request's
// review comments, replies and status comments on a commit among the
// commit's comments.

const commitSHA = "5e1f00d5e1f00d5e1f00d5e1f00d5e1f00d5e1f0"

// delivered waits for the webhook named event that the double sent after
// the first before webhooks, and returns its envelope.
func (r *rig) delivered(before int, event string) *events.Envelope {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, w := range r.gh.Webhooks()[before:] {
			if w.Event == event && strings.Contains(string(w.Payload), `"action":"created"`) {
				return &events.Envelope{DeliveryID: w.DeliveryID, Event: w.Event, Payload: w.Payload, PayloadComplete: true, ReceivedAt: time.Now()}
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the double delivered no %s webhook", event)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sayInReview writes a top-level review comment on the rig's pull request
// as login and returns its id and the envelope of its webhook.
func (r *rig) sayInReview(login, body string) (int64, *events.Envelope) {
	r.t.Helper()
	before := len(r.gh.Webhooks())
	id, err := r.gh.ReviewCommentAs(repo, r.pr, login, "main.go", 7, body)
	if err != nil {
		r.t.Fatal(err)
	}
	return id, r.delivered(before, "pull_request_review_comment")
}

// sayOnCommit comments on commitSHA as login and returns the envelope of the
// commit_comment webhook.
func (r *rig) sayOnCommit(login, body string) *events.Envelope {
	r.t.Helper()
	before := len(r.gh.Webhooks())
	if _, err := r.gh.CommitCommentAs(repo, commitSHA, login, body); err != nil {
		r.t.Fatal(err)
	}
	return r.delivered(before, "commit_comment")
}

// written returns the comments POSTed to paths ending in suffix that contain
// text.
func (r *rig) written(suffix, text string) []sandbox.Write {
	var out []sandbox.Write
	for _, w := range r.gh.Writes() {
		if w.Method == "POST" && strings.HasSuffix(w.Path, suffix) && strings.Contains(w.Body, text) {
			out = append(out, w)
		}
	}
	return out
}

// reviewReplies returns the replies to review comment id of the rig's pull
// request that contain text, however they were posted (POST .../pulls/{n}/
// comments with in_reply_to, as go-github does, or .../replies).
func (r *rig) reviewReplies(id int64, text string) []sandbox.Write {
	var out []sandbox.Write
	for _, w := range r.written(fmt.Sprintf("/pulls/%d/comments", r.pr), text) {
		if strings.Contains(w.Body, fmt.Sprintf(`"in_reply_to":%d`, id)) {
			out = append(out, w)
		}
	}
	return append(out, r.written(fmt.Sprintf("/pulls/%d/comments/%d/replies", r.pr, id), text)...)
}

func TestRetriedReviewReplyPostsOnce(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	id, env := r.sayInReview("alice", "@ai3-mvp ping")
	for range 3 { // the first attempt and two retries of the same delivery
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	replies := r.reviewReplies(id, "pong")
	if len(replies) != 1 {
		t.Fatalf("%d pongs in the review thread for one delivery, want 1", len(replies))
	}
	if w := replies[0]; w.Token != "user" || w.Login != "alice" {
		t.Fatalf("reply by %s/%s", w.Token, w.Login)
	}
	if n := len(r.bodies("pong")); n != 0 {
		t.Fatalf("%d pongs in the conversation, want them in the review thread only", n)
	}
}

// TestRetriedRefusalInReviewPostsOnce: the refusal of a user without a
// login is written with the installation token, and found with it too.
func TestRetriedRefusalInReviewPostsOnce(t *testing.T) {
	r := newRig(t)
	r.gh.EnsureUser("carol") // a member with write, but no stored login
	id, env := r.sayInReview("carol", "@ai3-mvp run checks")
	for range 2 {
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	replies := r.reviewReplies(id, "I can't run `run` for you")
	if len(replies) != 1 || replies[0].Token != "installation" {
		t.Fatalf("refusals in the review thread: %+v, want one by the installation", replies)
	}
}

func TestRetriedCommitReplyPostsOnce(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	env := r.sayOnCommit("alice", "@ai3-mvp ping")
	for range 3 {
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.written("/commits/"+commitSHA+"/comments", "pong")); n != 1 {
		t.Fatalf("%d pongs on the commit for one delivery, want 1", n)
	}
}

// TestRetriedCommitReplyFindsItPastOnePage: the reply is found on the
// commit's last page, behind more than a page of older comments.
func TestRetriedCommitReplyFindsItPastOnePage(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	for i := range 130 {
		if _, err := r.gh.CommitCommentAs(repo, commitSHA, "bob", fmt.Sprint("older comment ", i)); err != nil {
			t.Fatal(err)
		}
	}
	env := r.sayOnCommit("alice", "@ai3-mvp ping")
	for range 2 {
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.written("/commits/"+commitSHA+"/comments", "pong")); n != 1 {
		t.Fatalf("%d pongs on the commit for one delivery, want 1", n)
	}
}

func TestRetriedRunOnCommitPostsOneStatus(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	env := r.sayOnCommit("alice", "@ai3-mvp run checks")
	// First attempt dies after posting the status comment, before recording it.
	r.store.failUpdate = true
	if err := r.handle(env); err == nil {
		t.Fatal("the injected crash was not reported")
	}
	for range 2 {
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	status := r.written("/commits/"+commitSHA+"/comments", "kind=status")
	if len(status) != 1 {
		t.Fatalf("%d status comments on the commit, want 1", len(status))
	}
	if len(r.exec.starts) != 1 {
		t.Fatalf("executions started: %v, want one", r.exec.starts)
	}
	j, err := r.store.Get(context.Background(), r.exec.starts[0])
	if err != nil {
		t.Fatal(err)
	}
	if j.Thread.Kind != jobs.CommitThread || j.StatusCommentID == 0 || j.Ref != commitSHA || j.Status != jobs.Running {
		t.Fatalf("job %+v", j)
	}
}

// TestRetriedRunInReviewPostsOneStatus: a run asked in a review thread gets
// its status comment in the pull request's conversation (Post), where the
// retry looks for it.
func TestRetriedRunInReviewPostsOneStatus(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	_, env := r.sayInReview("alice", "@ai3-mvp run checks")
	r.store.failUpdate = true
	if err := r.handle(env); err == nil {
		t.Fatal("the injected crash was not reported")
	}
	for range 2 {
		if err := r.handle(env); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.bodies("kind=status")); n != 1 {
		t.Fatalf("%d status comments, want 1", n)
	}
	if len(r.exec.starts) != 1 {
		t.Fatalf("executions started: %v, want one", r.exec.starts)
	}
}

// A workflow that dispatches GitHub Actions cannot run at a bare commit
// (GitHub dispatches at a branch or tag): on a commit it is refused with
// the way out, and with ref= it runs at that ref.
func TestRunOnACommitNeedsABranchForActions(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	if err := r.handle(r.sayOnCommit("alice", "@ai3-mvp run ci")); err != nil {
		t.Fatal(err)
	}
	if len(r.exec.starts) != 0 {
		t.Fatalf("ci started at a commit: %v", r.exec.starts)
	}
	if ws := r.written("/commits/"+commitSHA+"/comments", "runs a workflow at a branch or tag"); len(ws) != 1 || ws[0].Login != "alice" ||
		!strings.Contains(ws[0].Body, "run ci ref=") {
		t.Fatalf("replies %+v, want one by alice saying how to give a ref", ws)
	}
	release := strings.Repeat("7e", 20)
	if err := r.gh.PushBranch(repo, "release-1", release); err != nil {
		t.Fatal(err)
	}
	if err := r.handle(r.sayOnCommit("alice", "@ai3-mvp run ci ref=release-1")); err != nil {
		t.Fatal(err)
	}
	if len(r.exec.starts) != 1 {
		t.Fatalf("executions %v, want ci at release-1", r.exec.starts)
	}
	// The job runs, and pins, release-1's commit: what ref= names.
	if j, err := r.store.Get(context.Background(), r.exec.starts[0]); err != nil || j.Ref != "release-1" || j.HeadSHA != release {
		t.Fatalf("job %+v (%v), want ref release-1 at %s", j, err, release)
	}
}

// An explicit ref= on a pull request runs that branch at its current
// commit, not the pull request's head: deploy's pinned steps compare the
// branch with the commit the job started at.
func TestRunWithRefPinsThatBranchesCommit(t *testing.T) {
	r := newRig(t)
	r.login("alice")
	main := strings.Repeat("a1", 20)
	if err := r.gh.PushBranch(repo, "main", main); err != nil {
		t.Fatal(err)
	}
	if err := r.handle(r.say("alice", "@ai3-mvp run ci ref=main")); err != nil {
		t.Fatal(err)
	}
	if len(r.exec.starts) != 1 {
		t.Fatalf("executions %v, want one", r.exec.starts)
	}
	j, err := r.store.Get(context.Background(), r.exec.starts[0])
	if err != nil || j.Ref != "main" || j.HeadSHA != main {
		t.Fatalf("job %+v (%v), want main at %s", j, err, main)
	}
}
