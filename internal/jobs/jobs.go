// Package jobs holds ai3's job records — one per `@ai3-mvp run <workflow>` —
// and the two ports a job needs: Store, where jobs, per-repository locks and
// small references live (DynamoDB in AWS, SQLite embedded), and Executor,
// which runs the workflow's state machine (AWS Step Functions or the embedded
// executor). It imports no adapter; internal/aws and internal/local implement
// the ports, and jobstest and executortest hold their contract suites.
package jobs

import (
	"encoding/json"
	"errors"
	"time"
)

// Status is a job's or a step's state.
type Status string

// Job and step states. A job is Queued until its execution starts, Running
// until the execution ends, then one of the final states. Steps move
// Pending → Running (→ Retrying → Running …) → Succeeded | Failed | Skipped,
// or Waiting while they hold a task token.
const (
	Queued    Status = "queued"
	Pending   Status = "pending"
	Running   Status = "running"
	Waiting   Status = "waiting"
	Retrying  Status = "retrying"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	TimedOut  Status = "timed_out"
	Aborted   Status = "aborted"
	Skipped   Status = "skipped"
)

// Final reports whether s is a state a job or step never leaves.
func (s Status) Final() bool {
	switch s {
	case Succeeded, Failed, TimedOut, Aborted, Skipped:
		return true
	}
	return false
}

// ThreadKind says where the command was written, and so where replies go.
type ThreadKind string

// Thread kinds: an issue or pull request conversation, a pull request review
// comment thread, a commit.
const (
	IssueThread  ThreadKind = "issue"
	PullThread   ThreadKind = "pull_request"
	ReviewThread ThreadKind = "review_comment"
	CommitThread ThreadKind = "commit"
)

// Thread is where a job was asked for and where its status comment lives.
type Thread struct {
	Repo   string     `json:"repo"`             // "owner/name"
	Kind   ThreadKind `json:"kind"`             // issue, pull_request, review_comment, commit
	Number int        `json:"number,omitempty"` // issue or pull request number (0 on commits)
	// CommitSHA is the commit of a commit comment.
	CommitSHA string `json:"commit_sha,omitempty"`
	// CommentID is the comment that asked (for reactions and review replies).
	CommentID int64 `json:"comment_id,omitempty"`
}

// User is the person who asked for the job; every GitHub write of the job is
// made with their token.
type User struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
}

// Job is the record of one workflow run. Version increments on every write;
// Store.Update writes only over the version it was read at.
type Job struct {
	ID             string            `json:"id"`
	Workflow       string            `json:"workflow"`
	Thread         Thread            `json:"thread"`
	HeadSHA        string            `json:"head_sha,omitempty"` // pull requests: the head commit when asked
	Ref            string            `json:"ref,omitempty"`      // the git ref the workflow runs at
	User           User              `json:"user"`
	InstallationID int64             `json:"installation_id"`
	Args           map[string]string `json:"args,omitempty"`
	DeliveryID     string            `json:"delivery_id"` // the webhook delivery that asked
	// StatusCommentID is the comment that shows the job's progress.
	StatusCommentID int64  `json:"status_comment_id,omitempty"`
	ExecutionARN    string `json:"execution_arn,omitempty"`
	Status          Status `json:"status"`
	// Steps holds each step's state by step name.
	Steps map[string]*Step `json:"steps,omitempty"`
	// Error and Cause say why a failed, timed-out or aborted job ended.
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
	// Lock is the concurrency key the job holds while active ("" for none).
	Lock string `json:"lock,omitempty"`
	// Rendered is the Version whose status comment was last written, so a
	// slower writer never puts an older state over a newer one.
	Rendered   int64     `json:"rendered,omitempty"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Step is one workflow step's state inside a Job.
type Step struct {
	Status     Status    `json:"status"`
	Attempts   int       `json:"attempts,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Link points at what the step ran (an Actions run, a deployment).
	Link string `json:"link,omitempty"`
	// Detail is one line for the status comment (a conclusion, who approved).
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`
	// TaskToken is held while the step waits for a callback.
	TaskToken string `json:"task_token,omitempty"`
}

// Clone returns a deep copy of j (the stores hand out copies).
func (j *Job) Clone() *Job {
	if j == nil {
		return nil
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(err) // a Job always marshals
	}
	var c Job
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}

// Errors of the ports, tested with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict: the record changed since it was read (Update) or the
	// reference does not hold the expected value (SwapRef).
	ErrConflict = errors.New("changed since read")
	// ErrExecutionExists: an execution of that name exists with another input.
	ErrExecutionExists = errors.New("execution already exists")
	// ErrTaskNotFound: the task token is unknown, already completed, or its
	// execution ended.
	ErrTaskNotFound = errors.New("task does not exist")
)
