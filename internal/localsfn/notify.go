package localsfn

import (
	"context"
	"time"
)

// StatusChange is the detail of EventBridge's "Step Functions Execution
// Status Change" event (source aws.states).
type StatusChange struct {
	ExecutionArn    string         `json:"executionArn"`
	StateMachineArn string         `json:"stateMachineArn"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	StartDate       int64          `json:"startDate"`
	StopDate        *int64         `json:"stopDate"`
	Input           string         `json:"input"`
	InputDetails    map[string]any `json:"inputDetails"`
	Output          *string        `json:"output"`
	OutputDetails   map[string]any `json:"outputDetails"`
	Error           *string        `json:"error"`
	Cause           *string        `json:"cause"`
}

// StatusChangeDetailType and StatusChangeSource name the EventBridge event.
const (
	StatusChangeDetailType = "Step Functions Execution Status Change"
	StatusChangeSource     = "aws.states"
)

// notifyChange tells Options.Notify about the execution's status.
func (e *Executor) notifyChange(x *execution) {
	if e.notify == nil {
		return
	}
	d := x.describe()
	c := StatusChange{
		ExecutionArn: d.ExecutionArn, StateMachineArn: d.StateMachineArn, Name: d.Name, Status: d.Status,
		StartDate: d.StartDate.UnixMilli(), Input: d.Input, InputDetails: map[string]any{"included": true},
	}
	if d.Status != StatusRunning {
		stop := d.StopDate.UnixMilli()
		c.StopDate = &stop
	}
	if d.Status == StatusSucceeded {
		c.Output = &d.Output
		c.OutputDetails = map[string]any{"included": true}
	}
	if d.HasError {
		c.Error = &d.Error
	}
	if d.HasCause {
		c.Cause = &d.Cause
	}
	e.notify(context.WithoutCancel(e.ctx), c)
}

// StatusChangeEvent is the whole EventBridge event that carries a
// StatusChange, as AWS publishes it on the default bus.
type StatusChangeEvent struct {
	Version    string       `json:"version"`
	ID         string       `json:"id"`
	DetailType string       `json:"detail-type"`
	Source     string       `json:"source"`
	Account    string       `json:"account"`
	Time       string       `json:"time"`
	Region     string       `json:"region"`
	Resources  []string     `json:"resources"`
	Detail     StatusChange `json:"detail"`
}

// Event wraps the change in EventBridge's envelope: source aws.states,
// detail-type "Step Functions Execution Status Change", the execution ARN
// as the resource.
func (c StatusChange) Event(region, account string, at time.Time) StatusChangeEvent {
	return StatusChangeEvent{
		Version: "0", ID: newUUID(), DetailType: StatusChangeDetailType, Source: StatusChangeSource,
		Account: account, Region: region, Time: at.UTC().Format(time.RFC3339),
		Resources: []string{c.ExecutionArn}, Detail: c,
	}
}
