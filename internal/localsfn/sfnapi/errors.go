package sfnapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// apiError is an error answer: AWS's exception name (__type) and message.
type apiError struct {
	Type    string
	Message string
	Status  int // default 400
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// toAPIError maps the executor's errors to the API's exceptions; subject,
// when known, is what the message names (an ARN, a name), as AWS's do.
func toAPIError(err error, subject string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var de *localsfn.DefinitionError
	if errors.As(err, &de) {
		return invalidDefinition(definitionMessage(de))
	}
	for _, m := range []struct {
		err  error
		typ  string
		text string
	}{
		{localsfn.ErrExecutionDoesNotExist, "ExecutionDoesNotExist", "Execution Does Not Exist"},
		{localsfn.ErrExecutionAlreadyExists, "ExecutionAlreadyExists", "Execution Already Exists"},
		{localsfn.ErrStateMachineDoesNotExist, "StateMachineDoesNotExist", "State Machine Does Not Exist"},
		{localsfn.ErrStateMachineAlreadyExists, "StateMachineAlreadyExists", "State Machine Already Exists"},
		{localsfn.ErrTaskDoesNotExist, "TaskDoesNotExist", "Task Does Not Exist"},
		{localsfn.ErrTaskTimedOut, "TaskTimedOut", "Task Timed Out"},
		{localsfn.ErrInvalidOutput, "InvalidOutput", "Invalid Output"},
		{localsfn.ErrInvalidExecutionInput, "InvalidExecutionInput", "Invalid Execution Input"},
		{localsfn.ErrInvalidName, "InvalidName", "Invalid Name"},
		{localsfn.ErrUnsupported, "InvalidDefinition", "Invalid State Machine Definition"},
	} {
		if errors.Is(err, m.err) {
			if subject == "" {
				subject = detail(err, m.err)
			}
			return &apiError{Type: m.typ, Message: m.text + ": '" + subject + "'"}
		}
	}
	if errors.Is(err, localsfn.ErrClosed) {
		return &apiError{Type: "ServiceUnavailable", Status: http.StatusServiceUnavailable, Message: "the executor is shutting down"}
	}
	return &apiError{Type: "InternalFailure", Status: http.StatusInternalServerError, Message: err.Error()}
}

// detail is the executor's message without the sentinel's own name.
func detail(err, sentinel error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
	return strings.TrimSpace(msg)
}

func invalidDefinition(msg string) *apiError {
	return &apiError{Type: "InvalidDefinition", Message: "Invalid State Machine Definition: '" + msg + "'"}
}

// definitionMessage renders an executor DefinitionError as AWS's
// diagnostics do: CODE: message at /States/<state>.
func definitionMessage(de *localsfn.DefinitionError) string {
	msg := "SCHEMA_VALIDATION_FAILED: " + de.Msg
	if de.State != "" {
		msg += " at /States/" + de.State
	}
	return msg
}

// validation collects the request's constraint violations, worded as
// AWS's ValidationException words them.
type validation []string

func (v *validation) required(field string, ok bool) {
	if !ok {
		*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", field))
	}
}

func (v *validation) length(field, value string, lo, hi int) {
	n := len([]rune(value))
	switch {
	case n < lo:
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", value, field, lo))
	case n > hi:
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", clip(value), field, hi))
	}
}

func (v *validation) between(field string, value *int, lo, hi int) {
	if value != nil && (*value < lo || *value > hi) {
		*v = append(*v, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value between %d and %d", *value, field, lo, hi))
	}
}

func (v *validation) oneOf(field, value string, allowed ...string) {
	if value == "" {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", value, field, strings.Join(allowed, ", ")))
}

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	plural := "s"
	if len(v) == 1 {
		plural = ""
	}
	return &apiError{Type: "ValidationException", Message: fmt.Sprintf("%d validation error%s detected: %s", len(v), plural, strings.Join(v, "; "))}
}

// clip keeps echoed values short, as AWS does not echo megabytes back.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
