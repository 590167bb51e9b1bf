// Command finalizer is the Lambda target of Step Functions' "Step Functions
// Execution Status Change" events for ai3's state machines: it ends the job
// named like the execution (succeeded, failed with the failing step, error
// and cause, timed out, aborted), releases its lock and writes the final
// status comment. A scheduled rule (every five minutes) also invokes it to
// reconcile the newest jobs: those whose status event was lost, EXPRESS jobs
// that went silent, and final states not yet on their comments
// (steps.Finalizer.Reconcile).
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
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("wire the finalizer Lambda", "err", err)
		os.Exit(1)
	}
	lambda.Start(w.Service.Finalizer().HandleEvent)
}
