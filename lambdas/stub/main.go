// Command stub is the Lambda target of the "all-to-stub" EventBridge rule: it
// logs every GitHub event with its delivery id (JSON on stdout) and counts it
// (EMF on stdout).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sbalswa/ai3-mvp/internal/monitor"
)

func main() {
	log := slog.New(monitor.ContextHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)})
	stub := monitor.NewStub(log, monitor.NewEMF(os.Stdout, monitor.Namespace))
	lambda.Start(monitor.EventBridgeHandler(log, stub))
}
