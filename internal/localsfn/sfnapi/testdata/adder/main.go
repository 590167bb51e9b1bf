// Command adder is a tiny Lambda function for rie_test.go: it adds the
// numbers a and b of its event and answers {"sum": a+b}. It fails the way a
// Go handler fails, with the error's type name as the runtime's errorType:
// {"fail": true} returns errors.New (errorType "errorString"), and a negative
// number returns a *NegativeError (errorType "NegativeError").
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

// event is what the function is invoked with.
type event struct {
	A    int  `json:"a"`
	B    int  `json:"b"`
	Fail bool `json:"fail"`
}

// result is what it answers.
type result struct {
	Sum int `json:"sum"`
}

// NegativeError is returned for a negative number, so a state machine can
// catch it by name.
type NegativeError struct{ N int }

func (e *NegativeError) Error() string { return fmt.Sprintf("%d is negative", e.N) }

func handle(_ context.Context, ev event) (result, error) {
	if ev.Fail {
		return result{}, errors.New("asked to fail")
	}
	for _, n := range []int{ev.A, ev.B} {
		if n < 0 {
			return result{}, &NegativeError{N: n}
		}
	}
	return result{Sum: ev.A + ev.B}, nil
}

func main() { lambda.Start(handle) }
