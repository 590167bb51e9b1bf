package jobs

import (
	"context"
	"encoding/json"
	"time"
)

// Store keeps jobs and small references. Implementations return copies:
// changing a returned Job changes nothing stored.
type Store interface {
	// Create stores a new job at Version 1 (j.Version is set, and a zero
	// j.CreatedAt is set to the store's clock); ErrExists when the id is
	// taken. A job needs an ID and a Thread.Repo.
	Create(ctx context.Context, j *Job) error
	// Get returns the job, or ErrNotFound.
	Get(ctx context.Context, id string) (*Job, error)
	// Update writes j over the stored job if the stored Version equals
	// j.Version, then sets j.Version to the new version; ErrConflict
	// otherwise, ErrNotFound when there is no such job.
	Update(ctx context.Context, j *Job) error
	// Latest returns the newest job asked for on the thread (repo and
	// issue/PR number), or ErrNotFound.
	Latest(ctx context.Context, repo string, number int) (*Job, error)
	// List returns up to limit (> 0) jobs, newest first, optionally only
	// those created strictly before the given time (pagination: pass the
	// last CreatedAt of a page); zero before lists from the newest.
	List(ctx context.Context, limit int, before time.Time) ([]*Job, error)

	// PutRef creates key = value (a lock, an index entry); when key exists
	// it returns the stored value and ErrExists. A ttl > 0 lets the store
	// forget the reference after it. Key and value must not be empty ("" is
	// SwapRef's delete).
	PutRef(ctx context.Context, key, value string, ttl time.Duration) (string, error)
	// GetRef returns key's value, or ErrNotFound.
	GetRef(ctx context.Context, key string) (string, error)
	// SwapRef replaces key's value old with value (value "" deletes the
	// key), keeping its ttl; ErrConflict when the stored value is not old
	// (or key is absent).
	SwapRef(ctx context.Context, key, old, value string) error
}

// Execution describes one state machine execution.
type Execution struct {
	ARN    string          `json:"arn"`
	Status string          `json:"status"` // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
	Start  time.Time       `json:"start"`
	Stop   time.Time       `json:"stop,omitzero"`
}

// Executor runs workflows' state machines.
type Executor interface {
	// Start starts an execution of workflow's state machine named name.
	// Starting again with the same name and input returns the same ARN,
	// also after that execution ended (Step Functions answers a running
	// STANDARD execution's ARN and ExecutionAlreadyExists for an ended one;
	// the adapters look the ended one up, so a retried start that comes
	// after its execution finished is not mistaken for a refusal); with
	// another input it fails with ErrExecutionExists. EXPRESS executions
	// are not idempotent by name, in AWS or locally.
	Start(ctx context.Context, workflow, name string, input json.RawMessage) (arn string, err error)
	// Stop aborts a running execution with an error name and cause.
	Stop(ctx context.Context, arn, errName, cause string) error
	// SendTaskSuccess completes a waiting task; ErrTaskNotFound when the
	// token is unknown or done.
	SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error
	// SendTaskFailure fails a waiting task with an error name and cause.
	SendTaskFailure(ctx context.Context, token, errName, cause string) error
	// Describe returns the execution's state; ErrNotFound when unknown.
	Describe(ctx context.Context, arn string) (*Execution, error)
}
