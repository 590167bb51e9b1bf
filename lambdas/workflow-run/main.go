// Command workflow-run is the Lambda target of the "workflow-runs"
// EventBridge rule: a GitHub workflow_run "completed" webhook resumes the
// github.actions step waiting on that run (its stored task token); runs ai3
// did not start and steps already ended are logged and ignored.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/lambdas/internal/stepwire"
)

func main() {
	w, err := stepwire.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("wire the workflow-run Lambda", "err", err)
		os.Exit(1)
	}
	lambda.Start(monitor.EventBridgeHandler(w.Log, w.Service.WorkflowRunHandler(w.Archive)))
}
