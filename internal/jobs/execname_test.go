package jobs_test

import (
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

func TestExecutionARN(t *testing.T) {
	for _, tt := range []struct{ machine, name, want string }{
		{"arn:aws:states:eu-west-1:123456789012:stateMachine:ai3-dev-ci", "ci-7", "arn:aws:states:eu-west-1:123456789012:execution:ai3-dev-ci:ci-7"},
		{"arn:aws-us-gov:states:us-gov-west-1:1:stateMachine:m", "n", "arn:aws-us-gov:states:us-gov-west-1:1:execution:m:n"},
		{"arn:aws:states:eu-west-1:123456789012:stateMachine:m:v1", "n", ""}, // a version, not the machine
		{"arn:aws:states:eu-west-1:123456789012:activity:a", "n", ""},
		{"", "n", ""},
	} {
		if got := jobs.ExecutionARN(tt.machine, tt.name); got != tt.want {
			t.Errorf("ExecutionARN(%q, %q) = %q, want %q", tt.machine, tt.name, got, tt.want)
		}
	}
}

func TestSameJSON(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b": [1, 2], "a": 1 }`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":1}`, `{"a":1,"b":null}`, false},
		{`{"a":1}`, `not json`, false},
		{`[]`, `[]`, true},
	} {
		if got := jobs.SameJSON([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("SameJSON(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
