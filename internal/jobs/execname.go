package jobs

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// ExecutionARN is the ARN Step Functions gives the STANDARD execution name of
// the state machine machineARN ("…:stateMachine:M" → "…:execution:M:name"),
// or "" when machineARN is not a state machine's ARN.
func ExecutionARN(machineARN, name string) string {
	before, after, ok := strings.Cut(machineARN, ":stateMachine:")
	if !ok || after == "" || strings.Contains(after, ":") {
		return ""
	}
	return before + ":execution:" + after + ":" + name
}

// SameJSON reports whether a and b are equal JSON values (key order and
// spacing aside); false when either does not parse.
func SameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
