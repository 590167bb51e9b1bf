// Command oauth-callback is the Lambda behind GET /oauth/callback: it consumes
// the state, exchanges the code, and seals the user's tokens into the vault
// (DynamoDB + KMS). The client secret is read from Secrets Manager at start.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/aws/appcreds"
	"github.com/sbalswa/ai3-mvp/internal/aws/httpgw"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

func main() {
	ctx := context.Background()
	log := slog.New(tokens.RedactingHandler(slog.NewJSONHandler(os.Stdout, nil)))
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	secret, err := appcreds.Secret(secretsmanager.NewFromConfig(cfg), os.Getenv("OAUTH_CLIENT_SECRET_ARN"))(ctx)
	if err != nil {
		log.Error("read OAuth client secret", "err", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	client := oauth.NewClient(oauth.Config{BaseURL: os.Getenv("GITHUB_URL"), APIURL: os.Getenv("GITHUB_API_URL"),
		ClientID: os.Getenv("GITHUB_CLIENT_ID"), ClientSecret: strings.TrimSpace(string(secret))})
	v := tokens.New(tokens.Config{
		Store:     &vault.TokenStore{Client: db, Table: os.Getenv("USER_TOKENS_TABLE")},
		Keys:      kmskeys.Keys{Client: kms.NewFromConfig(cfg), KeyID: os.Getenv("TOKENS_KMS_KEY_ID")},
		Refresher: client, Log: log,
	})
	web := &oauth.Web{Client: client, Tokens: v, Log: log, RedirectURL: os.Getenv("OAUTH_REDIRECT_URL"),
		Nonces: &vault.NonceStore{Client: db, Table: os.Getenv("OAUTH_STATES_TABLE")}}
	lambda.Start(httpgw.Handler(http.HandlerFunc(web.Callback)))
}
