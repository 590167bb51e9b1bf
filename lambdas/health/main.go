// Command health runs on an EventBridge schedule: it emits the Heartbeat
// metric and checks that the archive bucket, the event bus and the marks
// table answer. Environment (names only, no secrets): ARCHIVE_BUCKET,
// EVENT_BUS_NAME, MARKS_TABLE. IAM: s3:ListBucket (HeadBucket),
// events:DescribeEventBus, dynamodb:DescribeTable.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sbalswa/ai3-mvp/internal/aws/archive"
	"github.com/sbalswa/ai3-mvp/internal/aws/bus"
	"github.com/sbalswa/ai3-mvp/internal/aws/marks"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
)

func main() {
	log := slog.New(monitor.ContextHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)})
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	checks := map[string]monitor.Check{
		"archive": archive.New(s3.NewFromConfig(cfg), os.Getenv("ARCHIVE_BUCKET"), archive.Options{}).Check,
		"bus":     bus.New(eventbridge.NewFromConfig(cfg), os.Getenv("EVENT_BUS_NAME"), bus.Options{}).Check,
		"marks":   marks.New(dynamodb.NewFromConfig(cfg), os.Getenv("MARKS_TABLE"), marks.Options{}).Check,
	}
	h := monitor.NewHealth(log, monitor.NewEMF(os.Stdout, monitor.Namespace), checks)
	lambda.Start(monitor.ScheduledHandler(h))
}
