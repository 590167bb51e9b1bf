package localsfn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// execution is one running (or finished) execution.
type execution struct {
	ex           *Executor
	rec          *machineRecord
	arn, name    string
	inputText    string
	start        time.Time
	durable      bool // STANDARD with a database: checkpoints and history are written
	stored       bool // any execution with a database: its record is written
	hist         *history
	main         *thread
	vars         *scope
	varMu        sync.Mutex
	varBytes     int // JSON bytes of all stored variables (ExecutionVariablesLimit)
	done         chan struct{}
	ctxExecution map[string]any
	ctxMachine   map[string]any

	// finished Map iterations / Parallel branches waiting to be written
	partialMu       sync.Mutex
	pendingPartials []partialRow
	partialFlush    sync.Mutex

	mu       sync.Mutex
	status   string
	output   string
	failure  *Failure
	stopDate time.Time
	cancel   context.CancelCauseFunc
	stopWith *Failure
}

// stopCause tells a cancelled execution why it stopped.
type stopCause struct{ status string }

func (s *stopCause) Error() string { return s.status }

func newExecution(e *Executor, rec *machineRecord, arn, name, inputText string, input any, start time.Time) *execution {
	x := &execution{
		ex: e, rec: rec, arn: arn, name: name, inputText: inputText, start: start,
		durable: e.db != nil && rec.typ == Standard,
		stored:  e.db != nil,
		hist:    &history{record: rec.typ == Standard || e.expressHistory},
		main:    &thread{},
		vars:    newScope(nil, nil),
		done:    make(chan struct{}),
		status:  StatusRunning,
	}
	x.ctxExecution = map[string]any{
		"Id": arn, "Input": input, "Name": name, "RoleArn": x.roleArn(),
		"StartTime": formatTime(start), "RedriveCount": num(0),
	}
	x.ctxMachine = map[string]any{"Id": rec.arn, "Name": rec.name}
	return x
}

func (x *execution) roleArn() string {
	return fmt.Sprintf("arn:aws:iam::%s:role/ai3-local-states", x.ex.account)
}

func (x *execution) idempotent(input string) (*StartExecutionOutput, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.rec.typ == Standard && x.status == StatusRunning && x.inputText == input {
		return &StartExecutionOutput{ExecutionArn: x.arn, StartDate: x.start}, nil
	}
	return nil, fmt.Errorf("start execution %s: %w", x.name, ErrExecutionAlreadyExists)
}

func (x *execution) describe() *ExecutionDescription {
	x.mu.Lock()
	defer x.mu.Unlock()
	d := &ExecutionDescription{
		ExecutionArn: x.arn, StateMachineArn: x.rec.arn, Name: x.name, Status: x.status,
		StartDate: x.start, StopDate: x.stopDate, Input: x.inputText, Output: x.output,
	}
	if f := x.failure; f != nil {
		d.Error, d.Cause, d.HasError, d.HasCause = f.Error, f.Cause, f.HasError, f.HasCause
	}
	return d
}

// stop aborts the execution (StopExecution).
func (x *execution) stop(f *Failure) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopWith != nil {
		return
	}
	x.stopWith = f
	// Before run has started there is nothing to cancel yet: run sees
	// stopWith and cancels itself at once.
	if x.cancel != nil {
		x.cancel(&stopCause{StatusAborted})
	}
}

// run executes the machine from a state to the end and records the outcome.
func (x *execution) run(parent context.Context, at string, input any, resume *resumePoint) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	x.mu.Lock()
	x.cancel = cancel
	if x.stopWith != nil { // stopped between StartExecution and here
		cancel(&stopCause{StatusAborted})
	}
	x.mu.Unlock()
	limit := time.Duration(x.rec.machine.TimeoutSeconds) * time.Second
	if x.rec.typ == Express && (limit == 0 || limit > expressLimit) {
		limit = expressLimit // EXPRESS executions time out after five minutes
	}
	if limit > 0 {
		deadline := x.start.Add(limit)
		stop := x.ex.clock.AfterFunc(deadline.Sub(x.ex.clock.Now()), func() { cancel(&stopCause{StatusTimedOut}) })
		defer stop()
	}
	out, f := x.runMachine(ctx, x.rec.machine, at, input, x.main, x.vars, resume)
	status := StatusSucceeded
	if f != nil {
		status = StatusFailed
	}
	if f == errAborted || (f != nil && ctx.Err() != nil) {
		var sc *stopCause
		if !errors.As(context.Cause(ctx), &sc) {
			// The executor is closing: leave a durable execution RUNNING for Resume.
			close(x.done)
			return
		}
		status = sc.status
		x.mu.Lock()
		f = x.stopWith
		x.mu.Unlock()
		if status == StatusTimedOut {
			f = fail(ErrTimeout, "")
			f.HasCause = false
		}
		if f == nil {
			f = &Failure{}
		}
	}
	x.finish(status, out, f)
}

func (x *execution) finish(status string, out any, f *Failure) {
	now := x.ex.clock.Now()
	x.mu.Lock()
	x.status, x.stopDate = status, now
	if status == StatusSucceeded {
		x.output = string(encodeJSON(out))
	} else {
		x.failure = f
	}
	output := x.output
	x.mu.Unlock()
	typ := map[string]string{StatusSucceeded: "ExecutionSucceeded", StatusFailed: "ExecutionFailed", StatusTimedOut: "ExecutionTimedOut", StatusAborted: "ExecutionAborted"}[status]
	x.hist.add(x.main, now, typ, lowerFirst(typ)+"EventDetails", func() map[string]any {
		if status == StatusSucceeded {
			return map[string]any{"output": output, "outputDetails": map[string]any{"truncated": false}}
		}
		d := map[string]any{}
		if f.HasError {
			d["error"] = f.Error
		}
		if f.HasCause {
			d["cause"] = f.Cause
		}
		return d
	})
	persisted := false
	if x.stored {
		if err := finishExecution(context.WithoutCancel(x.ex.ctx), x.ex.db, x); err != nil {
			// The record stays at its last checkpoint: a restart resumes it.
			x.ex.log.Error("persist execution result", "execution", x.arn, "err", err)
		} else {
			persisted = true
		}
	}
	x.ex.notifyChange(x) // before done: whoever waits sees the notification sent
	close(x.done)
	if persisted || !x.stored {
		x.ex.forget(x)
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]+('a'-'A')) + s[1:]
}

// checkpoint records, for a durable execution, that the machine is about to
// enter state next with input: a restarted process resumes from there.
func (x *execution) checkpoint(ctx context.Context, next string, input any) error {
	if !x.durable {
		return nil
	}
	return saveCheckpoint(context.WithoutCancel(ctx), x.ex.db, x, next, input, x.ex.clock.Now())
}

// onToken records a task token issued by the current top-level state, so a
// restarted process waits for it instead of invoking the task again.
func (x *execution) onToken(ctx context.Context, token string) error {
	if !x.durable {
		return nil
	}
	return saveToken(context.WithoutCancel(ctx), x.ex.db, x.arn, token)
}
