// Package sfnexec is the AWS adapter of the jobs.Executor port: AWS Step
// Functions through aws-sdk-go-v2's sfn client (or any server speaking its
// API, such as ai3's embedded one).
package sfnexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// API is the part of the sfn client the adapter uses.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, opts ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Executor starts workflows' state machines, whose ARNs Machines maps by
// workflow name (the Pulumi program passes them as STATE_MACHINES).
type Executor struct {
	API      API
	Machines map[string]string
}

// ParseMachines decodes the STATE_MACHINES JSON object (workflow → ARN).
func ParseMachines(s string) (map[string]string, error) {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("state machines %q: %w", s, err)
	}
	return m, nil
}

// Start implements jobs.Executor.
func (e *Executor) Start(ctx context.Context, workflow, name string, input json.RawMessage) (string, error) {
	arn, ok := e.Machines[workflow]
	if !ok {
		return "", fmt.Errorf("start %s: workflow %q has no state machine: %w", name, workflow, jobs.ErrNotFound)
	}
	out, err := e.API.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String(name), Input: aws.String(string(input))})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		// An ended execution of this name: ours when its input is ours.
		if x := jobs.ExecutionARN(arn, name); x != "" {
			d, derr := e.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x)})
			if derr == nil && jobs.SameJSON([]byte(aws.ToString(d.Input)), input) {
				return x, nil
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("start %s: %w", name, portError(err))
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Stop implements jobs.Executor.
func (e *Executor) Stop(ctx context.Context, arn, errName, cause string) error {
	_, err := e.API.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: optional(errName), Cause: optional(cause)})
	if err != nil {
		return fmt.Errorf("stop %s: %w", arn, portError(err))
	}
	return nil
}

// SendTaskSuccess implements jobs.Executor.
func (e *Executor) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	if len(output) == 0 {
		output = json.RawMessage("{}")
	}
	_, err := e.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(output))})
	if err != nil {
		return fmt.Errorf("send task success: %w", portError(err))
	}
	return nil
}

// SendTaskFailure implements jobs.Executor.
func (e *Executor) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	_, err := e.API.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: optional(errName), Cause: optional(cause)})
	if err != nil {
		return fmt.Errorf("send task failure: %w", portError(err))
	}
	return nil
}

// Describe implements jobs.Executor.
func (e *Executor) Describe(ctx context.Context, arn string) (*jobs.Execution, error) {
	out, err := e.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", arn, portError(err))
	}
	x := &jobs.Execution{ARN: aws.ToString(out.ExecutionArn), Status: string(out.Status),
		Error: aws.ToString(out.Error), Cause: aws.ToString(out.Cause), Start: aws.ToTime(out.StartDate), Stop: aws.ToTime(out.StopDate)}
	if out.Output != nil {
		x.Output = json.RawMessage(*out.Output)
	}
	return x, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// portError adds the jobs sentinel matching an sfn exception, keeping both.
func portError(err error) error {
	var (
		exists   *types.ExecutionAlreadyExists
		noExec   *types.ExecutionDoesNotExist
		noSM     *types.StateMachineDoesNotExist
		noTask   *types.TaskDoesNotExist
		timedOut *types.TaskTimedOut
		badToken *types.InvalidToken
	)
	switch {
	case errors.As(err, &exists):
		return errors.Join(jobs.ErrExecutionExists, err)
	case errors.As(err, &noTask), errors.As(err, &timedOut), errors.As(err, &badToken):
		return errors.Join(jobs.ErrTaskNotFound, err)
	case errors.As(err, &noExec), errors.As(err, &noSM):
		return errors.Join(jobs.ErrNotFound, err)
	}
	return err
}
