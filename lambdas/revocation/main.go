// Command revocation is the Lambda target of the "app-authorizations"
// EventBridge rule: when a user revokes the GitHub App, it deletes their
// stored tokens. Environment (names only, no secrets): USER_TOKENS_TABLE,
// ARCHIVE_BUCKET (payloads too large to travel inline). IAM:
// dynamodb:DeleteItem on the table, s3:GetObject on the bucket's objects.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sbalswa/ai3-mvp/internal/aws/archive"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

func main() {
	log := slog.New(tokens.RedactingHandler(monitor.ContextHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)}))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	h := tokens.RevocationHandler{
		// Deleting needs no key: the vault gets a store only.
		Vault:   tokens.New(tokens.Config{Store: &vault.TokenStore{Client: dynamodb.NewFromConfig(cfg), Table: os.Getenv("USER_TOKENS_TABLE")}, Log: log}),
		Archive: archive.New(s3.NewFromConfig(cfg), os.Getenv("ARCHIVE_BUCKET"), archive.Options{}),
		Log:     log,
	}
	lambda.Start(monitor.EventBridgeHandler(log, h))
}
