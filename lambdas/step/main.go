// Command step is the Lambda of the logical task "step" (ai3-step) that
// every step of every workflow invokes: it runs the payload's step kind with
// progress around it, and takes the workflows' failure reports. A kind's
// error type is the ASL error name Retry and Catch match (TransientError is
// retried).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sbalswa/ai3-mvp/lambdas/internal/stepwire"
)

func main() {
	w, err := stepwire.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("wire the step Lambda", "err", err)
		os.Exit(1)
	}
	lambda.Start(w.Service.Step)
}
