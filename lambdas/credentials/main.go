// Command credentials is the credential manager Lambda: the only function
// whose role may read the GitHub App private key. Other functions invoke it
// (API-Gateway-v2-shaped payload) for installation tokens, which it mints
// only for GITHUB_INSTALLATION_ID (the organization's installation) and,
// when TOKEN_PERMISSIONS is set ("issues=write,members=read"), only within
// those permissions.
package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/aws/appcreds"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

func main() {
	log := slog.New(tokens.RedactingHandler(slog.NewJSONHandler(os.Stdout, nil)))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	appID, err := strconv.ParseInt(os.Getenv("GITHUB_APP_ID"), 10, 64)
	if err != nil {
		log.Error("GITHUB_APP_ID must be the App's numeric id", "err", err)
		os.Exit(1)
	}
	installation, err := strconv.ParseInt(os.Getenv("GITHUB_INSTALLATION_ID"), 10, 64)
	if err != nil || installation <= 0 {
		log.Error("GITHUB_INSTALLATION_ID must be the numeric id of the App's installation on the organization", "err", err)
		os.Exit(1)
	}
	allowed, err := appcreds.ParsePermissions(os.Getenv("TOKEN_PERMISSIONS"))
	if err != nil {
		log.Error("TOKEN_PERMISSIONS", "err", err)
		os.Exit(1)
	}
	minter := &githubapp.Minter{
		AppID:  appID,
		Key:    appcreds.Secret(secretsmanager.NewFromConfig(cfg), os.Getenv("GITHUB_APP_KEY_SECRET_ARN")),
		APIURL: os.Getenv("GITHUB_API_URL"),
	}
	lambda.Start(appcreds.Handler{Tokens: minter, Installation: installation, Allowed: allowed, Log: log}.Handle)
}
