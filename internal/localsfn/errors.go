package localsfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Error names that Step Functions itself raises, as AWS spells them.
const (
	ErrAll                             = "States.ALL"
	ErrRuntime                         = "States.Runtime"
	ErrTimeout                         = "States.Timeout"
	ErrHeartbeatTimeout                = "States.HeartbeatTimeout"
	ErrTaskFailed                      = "States.TaskFailed"
	ErrPermissions                     = "States.Permissions"
	ErrResultPathMatchFailure          = "States.ResultPathMatchFailure"
	ErrParameterPathFailure            = "States.ParameterPathFailure"
	ErrBranchFailed                    = "States.BranchFailed"
	ErrNoChoiceMatched                 = "States.NoChoiceMatched"
	ErrIntrinsicFailure                = "States.IntrinsicFailure"
	ErrExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	ErrDataLimitExceeded               = "States.DataLimitExceeded"
	ErrItemReaderFailed                = "States.ItemReaderFailed"
	ErrResultWriterFailed              = "States.ResultWriterFailed"
	ErrQueryEvaluationError            = "States.QueryEvaluationError"
	// ErrLambdaNotFound is what the Lambda integration reports for a function
	// that does not exist (here: that has no registered handler).
	ErrLambdaNotFound = "Lambda.ResourceNotFoundException"
	// ErrLambdaUnknown is what Lambda reports when a function crashes.
	ErrLambdaUnknown = "Lambda.Unknown"
)

// PayloadLimit is the largest input, output or result a state may carry (256 KB).
const PayloadLimit = 256 * 1024

// Failure is an ASL error: a name and a cause, either of which may be absent
// (a Fail state without Error). It is what Retry and Catch match and what a
// failed execution reports.
type Failure struct {
	Error    string
	Cause    string
	HasError bool
	HasCause bool
}

// fail builds a Failure with both fields present.
func fail(name, cause string) *Failure {
	return &Failure{Error: name, Cause: cause, HasError: true, HasCause: cause != ""}
}

// String writes the failure as "Error: Cause".
func (f *Failure) String() string {
	return fmt.Sprintf("%s: %s", f.Error, f.Cause)
}

// output is the document Catch passes on: {"Error": ..., "Cause": ...}.
func (f *Failure) output() any {
	m := map[string]any{}
	if f.HasError {
		m["Error"] = f.Error
	}
	if f.HasCause {
		m["Cause"] = f.Cause
	}
	return m
}

// retriable reports whether Retry and Catch may handle the failure at all:
// States.Runtime and States.DataLimitExceeded always fail the execution.
func (f *Failure) retriable() bool {
	return f.Error != ErrRuntime && f.Error != ErrDataLimitExceeded
}

// matches applies ErrorEquals: an exact name, States.ALL (anything
// retriable), or States.TaskFailed (anything retriable but States.Timeout).
func (f *Failure) matches(errorEquals []string) bool {
	if !f.retriable() {
		return false
	}
	if slices.Contains(errorEquals, f.Error) {
		return true
	}
	if slices.Contains(errorEquals, ErrAll) {
		return true
	}
	if slices.Contains(errorEquals, ErrTaskFailed) && f.Error != ErrTimeout && f.Error != ErrHeartbeatTimeout {
		return true
	}
	return false
}

// stateRuntimeError is AWS's wording for a failure of the engine inside a state.
func stateRuntimeError(name string, state string, enteredID int64, msg string) *Failure {
	return fail(name, fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", state, enteredID, msg))
}

// TaskError lets a handler choose the ASL error name and cause it fails with,
// as a Lambda function does by raising a typed exception.
type TaskError struct {
	Name  string
	Cause string
}

// Error returns "Name: Cause".
func (e *TaskError) Error() string { return e.Name + ": " + e.Cause }

// handlerFailure turns a handler's error into the Failure a Lambda task
// reports: the error's type name becomes the ASL error (Lambda's errorType)
// and the cause is Lambda's error document {"errorMessage","errorType"}.
func handlerFailure(err error) *Failure {
	var te *TaskError
	if errors.As(err, &te) {
		return fail(te.Name, te.Cause)
	}
	name := errorType(err)
	cause, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": name})
	return fail(name, string(cause))
}

// errorType names an error the way the Lambda Go runtime fills errorType.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "error"
	}
	return t.Name()
}
