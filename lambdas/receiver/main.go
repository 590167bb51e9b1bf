// Command receiver is the webhook receiver Lambda behind API Gateway (REST
// proxy integration). Its environment names resources only — never a secret:
//
//	CLAIMS_TABLE        DynamoDB table of delivery claims
//	ARCHIVE_BUCKET      S3 bucket of raw payloads (ARCHIVE_KMS_KEY: optional SSE-KMS key)
//	EVENT_BUS_NAME      EventBridge bus the envelopes go to
//	WEBHOOK_SECRET_ARN  Secrets Manager secret holding the webhook secret(s)
//
// AWS endpoints follow the SDK's AWS_ENDPOINT_URL_<SERVICE> variables;
// ARCHIVE_S3_PATH_STYLE=true selects path-style S3 addressing (S3 doubles).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/aws/archive"
	"github.com/sbalswa/ai3-mvp/internal/aws/bus"
	"github.com/sbalswa/ai3-mvp/internal/aws/claims"
	"github.com/sbalswa/ai3-mvp/internal/aws/secrets"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	r, err := wire(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("receiver cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(r.HandleAPIGateway)
}

func wire(ctx context.Context, log *slog.Logger, getenv func(string) string) (*webhook.Receiver, error) {
	names := map[string]string{}
	var missing []string
	for _, k := range []string{"CLAIMS_TABLE", "ARCHIVE_BUCKET", "EVENT_BUS_NAME", "WEBHOOK_SECRET_ARN"} {
		if names[k] = getenv(k); names[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	pathStyle := getenv("ARCHIVE_S3_PATH_STYLE") == "true"
	return webhook.New(ctx, webhook.Config{
		Secrets:   webhook.CacheSecrets(secrets.New(secretsmanager.NewFromConfig(cfg), names["WEBHOOK_SECRET_ARN"]), time.Minute, nil),
		Claims:    claims.New(dynamodb.NewFromConfig(cfg), names["CLAIMS_TABLE"]),
		Archive:   archive.New(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }), names["ARCHIVE_BUCKET"], archive.Options{KMSKeyID: getenv("ARCHIVE_KMS_KEY")}),
		Publisher: bus.New(eventbridge.NewFromConfig(cfg), names["EVENT_BUS_NAME"], bus.Options{}),
		Log:       log,
	})
}
