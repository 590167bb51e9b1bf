package events

import (
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestEventPatternsGolden(t *testing.T) {
	var b strings.Builder
	for _, r := range Rules() {
		b.WriteString(r.Name + " -> " + r.Target + "\n" + r.EventPattern() + "\n")
	}
	golden := "testdata/event_patterns.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("event patterns changed (go test -update if intended):\n got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// ebMatches evaluates an EventBridge pattern of exact-match string arrays on
// the top-level fields of an event, as EventBridge does.
func ebMatches(t *testing.T, pattern string, event map[string]any) bool {
	t.Helper()
	var p map[string][]string
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		t.Fatalf("pattern %s: %v", pattern, err)
	}
	for field, allowed := range p {
		v, ok := event[field].(string)
		if !ok || !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

// The rendered patterns and Matches must agree on every event, or the two
// shapes route differently.
func TestPatternsAgreeWithMatches(t *testing.T) {
	events := []string{"issue_comment", "commit_comment", "pull_request_review_comment", "pull_request_review",
		"workflow_run", "workflow_job", "github_app_authorization", "push", "ping", "installation", "pull_request", "issues", "check_run"}
	for _, r := range Rules() {
		for _, ev := range events {
			env := &Envelope{Event: ev}
			eb := ebMatches(t, r.EventPattern(), map[string]any{"source": Source, "detail-type": ev, "detail": env})
			if eb != r.Matches(env) {
				t.Errorf("rule %s on %s: EventBridge pattern says %v, Matches says %v", r.Name, ev, eb, r.Matches(env))
			}
		}
		if ebMatches(t, r.EventPattern(), map[string]any{"source": "other", "detail-type": "push"}) {
			t.Errorf("rule %s matches events from another source", r.Name)
		}
	}
}

func TestTargets(t *testing.T) {
	tests := []struct {
		event string
		want  []string
	}{
		{"issue_comment", []string{TargetStub, TargetComment}},
		{"pull_request_review_comment", []string{TargetStub, TargetComment}},
		{"workflow_run", []string{TargetStub, TargetWorkflowRun}},
		{"ping", []string{TargetStub}},
		{"github_app_authorization", []string{TargetStub, TargetAppAuthorization}},
	}
	for _, tt := range tests {
		if got := Targets(Rules(), &Envelope{Event: tt.event}); !slices.Equal(got, tt.want) {
			t.Errorf("Targets(%s) = %v, want %v", tt.event, got, tt.want)
		}
	}
}

func TestRuleNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.Name == "" || r.Target == "" || seen[r.Name] {
			t.Errorf("rule %+v: empty or duplicate name/target", r)
		}
		seen[r.Name] = true
	}
}
