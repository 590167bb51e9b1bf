package events

import (
	"encoding/json"
	"slices"
)

// Handler names that rules deliver to. A handler subscribes under one of
// these names (its Name()).
const (
	TargetStub        = "stub"         // logs every event
	TargetComment     = "comment"      // mentions and commands
	TargetWorkflowRun = "workflow_run" // resumes workflow steps waiting on GitHub Actions
	// TargetAppAuthorization deletes a user's stored token when they revoke
	// the app; it is tokens.RevocationTarget (tokens imports this package, so
	// the name is repeated here and a test keeps the two equal).
	TargetAppAuthorization = "app_authorization"
)

// Rule routes envelopes to one target. It is the single definition used by
// both shapes: Pulumi renders it with EventPattern into an EventBridge rule,
// and the embedded bus evaluates Matches.
type Rule struct {
	Name        string   // rule name, unique, also the EventBridge rule's name suffix
	Target      string   // name of the handler that receives matching events
	DetailTypes []string // GitHub event names (detail-type); empty matches every event
}

// Rules returns ai3's routing rules, in a fixed order.
func Rules() []Rule {
	return []Rule{
		{Name: "all-to-stub", Target: TargetStub},
		{Name: "comments", Target: TargetComment, DetailTypes: []string{"commit_comment", "issue_comment", "pull_request_review_comment"}},
		{Name: "workflow-runs", Target: TargetWorkflowRun, DetailTypes: []string{"workflow_run"}},
		{Name: "app-authorizations", Target: TargetAppAuthorization, DetailTypes: []string{"github_app_authorization"}},
	}
}

// Matches reports whether the rule routes env to its target: the event name
// is one of DetailTypes, or DetailTypes is empty.
func (r Rule) Matches(env *Envelope) bool {
	return len(r.DetailTypes) == 0 || slices.Contains(r.DetailTypes, env.Event)
}

// EventPattern renders the rule as an EventBridge event pattern (deterministic
// JSON): source is always Source, detail-type lists DetailTypes when set.
func (r Rule) EventPattern() string {
	type pattern struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type,omitempty"`
	}
	p := pattern{Source: []string{Source}}
	if len(r.DetailTypes) > 0 {
		p.DetailType = slices.Sorted(slices.Values(r.DetailTypes))
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // a struct of string slices always marshals
	}
	return string(b)
}

// Targets returns the names of the handlers that rules route env to, each
// once, in rule order.
func Targets(rules []Rule, env *Envelope) []string {
	var out []string
	for _, r := range rules {
		if r.Matches(env) && !slices.Contains(out, r.Target) {
			out = append(out, r.Target)
		}
	}
	return out
}
