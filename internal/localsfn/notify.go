package localsfn

import (
	"time"
)

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
