// Package sfnexec is the embedded adapter of the jobs.Executor port: it runs
// each workflow's state machine on internal/localsfn, in process.
package sfnexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// Executor runs jobs on a *localsfn.Executor. Workflows map a workflow name
// to its state machine's ARN (see Deploy).
type Executor struct {
	X        *localsfn.Executor
	Machines map[string]string
}

// New returns an Executor over x with no workflows yet.
func New(x *localsfn.Executor) *Executor {
	return &Executor{X: x, Machines: map[string]string{}}
}

// Deploy registers (or replaces) workflow's state machine from its compiled
// ASL. Call it before the executor is shared; it is not synchronised with Start.
func (e *Executor) Deploy(ctx context.Context, workflow string, definition []byte, machineType string) error {
	arn, err := e.X.CreateStateMachine(ctx, workflow, definition, machineType)
	if err != nil {
		return fmt.Errorf("deploy workflow %s: %w", workflow, err)
	}
	e.Machines[workflow] = arn
	return nil
}

// Start implements jobs.Executor.
func (e *Executor) Start(ctx context.Context, workflow, name string, input json.RawMessage) (string, error) {
	arn, ok := e.Machines[workflow]
	if !ok {
		return "", fmt.Errorf("start %s: workflow %q has no state machine: %w", name, workflow, jobs.ErrNotFound)
	}
	out, err := e.X.StartExecution(ctx, localsfn.StartExecutionInput{StateMachineArn: arn, Name: name, Input: string(input)})
	if errors.Is(err, localsfn.ErrExecutionAlreadyExists) {
		// An ended execution of this name: ours when its input is ours.
		if x := jobs.ExecutionARN(arn, name); x != "" {
			if d, derr := e.X.DescribeExecution(ctx, x); derr == nil && jobs.SameJSON([]byte(d.Input), input) {
				return x, nil
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("start %s: %w", name, portError(err))
	}
	return out.ExecutionArn, nil
}

// Stop implements jobs.Executor.
func (e *Executor) Stop(ctx context.Context, arn, errName, cause string) error {
	if err := e.X.StopExecution(ctx, arn, errName, cause); err != nil {
		return fmt.Errorf("stop %s: %w", arn, portError(err))
	}
	return nil
}

// SendTaskSuccess implements jobs.Executor.
func (e *Executor) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	if len(output) == 0 {
		output = json.RawMessage("{}") // as the AWS adapter sends
	}
	if err := e.X.SendTaskSuccess(ctx, token, output); err != nil {
		return fmt.Errorf("send task success: %w", portError(err))
	}
	return nil
}

// SendTaskFailure implements jobs.Executor.
func (e *Executor) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	if err := e.X.SendTaskFailure(ctx, token, errName, cause); err != nil {
		return fmt.Errorf("send task failure: %w", portError(err))
	}
	return nil
}

// Describe implements jobs.Executor.
func (e *Executor) Describe(ctx context.Context, arn string) (*jobs.Execution, error) {
	d, err := e.X.DescribeExecution(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", arn, portError(err))
	}
	x := &jobs.Execution{ARN: d.ExecutionArn, Status: d.Status, Error: d.Error, Cause: d.Cause, Start: d.StartDate}
	if d.Output != "" {
		x.Output = json.RawMessage(d.Output)
	}
	if !d.StopDate.Equal(time.Time{}) {
		x.Stop = d.StopDate
	}
	return x, nil
}

// portError adds the jobs sentinel matching a localsfn error, keeping both.
func portError(err error) error {
	switch {
	case errors.Is(err, localsfn.ErrExecutionAlreadyExists):
		return errors.Join(jobs.ErrExecutionExists, err)
	case errors.Is(err, localsfn.ErrTaskDoesNotExist):
		return errors.Join(jobs.ErrTaskNotFound, err)
	case errors.Is(err, localsfn.ErrExecutionDoesNotExist), errors.Is(err, localsfn.ErrStateMachineDoesNotExist):
		return errors.Join(jobs.ErrNotFound, err)
	}
	return err
}
