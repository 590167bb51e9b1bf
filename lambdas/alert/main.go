// Command alert consumes the SQS dead-letter queue of the EventBridge rule
// targets: it logs each failed event with its reason and emits the
// DeadLetters metric that the alarm watches. The event source mapping must
// report batch item failures.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sbalswa/ai3-mvp/internal/monitor"
)

func main() {
	log := slog.New(monitor.ContextHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)})
	alert := monitor.NewAlert(log, monitor.NewEMF(os.Stdout, monitor.Namespace))
	lambda.Start(monitor.SQSDeadLetterHandler(alert))
}
