// Command oauth-login is the Lambda behind GET /oauth/login: it stores a state
// nonce (DynamoDB) and redirects to GitHub's authorize page.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sbalswa/ai3-mvp/internal/aws/httpgw"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

func main() {
	log := slog.New(tokens.RedactingHandler(slog.NewJSONHandler(os.Stdout, nil)))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	web := &oauth.Web{
		Client:      oauth.NewClient(oauth.Config{BaseURL: os.Getenv("GITHUB_URL"), ClientID: os.Getenv("GITHUB_CLIENT_ID")}),
		Nonces:      &vault.NonceStore{Client: dynamodb.NewFromConfig(cfg), Table: os.Getenv("OAUTH_STATES_TABLE")},
		RedirectURL: os.Getenv("OAUTH_REDIRECT_URL"),
		Log:         log,
	}
	lambda.Start(httpgw.Handler(http.HandlerFunc(web.Login)))
}
