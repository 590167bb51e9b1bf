package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sbalswa/ai3-mvp/internal/aws/appcreds"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const keyARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ai3/app-key-x1y2z3"

// TestCredentialsLambdaUnderRIE builds this Lambda, runs it under
// aws-lambda-rie with Secrets Manager pointed at a wire-checking double, and
// fetches an installation token through the appcreds Lambda-invoke client,
// as the other functions do in AWS.
func TestCredentialsLambdaUnderRIE(t *testing.T) {
	gh := githubdouble.New(t)
	gh.InstallApp(31)
	var secretReads atomic.Int64
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secretReads.Add(1)
		var in struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != keyARN {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": keyARN, "SecretString": string(gh.AppPrivateKey())})
	}))
	t.Cleanup(sm.Close)

	fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + sm.URL,
		fmt.Sprintf("GITHUB_APP_ID=%d", gh.AppID()), "GITHUB_APP_KEY_SECRET_ARN=" + keyARN, "GITHUB_API_URL=" + gh.APIURL(),
		"GITHUB_INSTALLATION_ID=31"}})
	lc := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(fn.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	client := &appcreds.Client{Lambda: lc, Function: "function"}
	tok, err := client.InstallationToken(context.Background(), 31)
	if err != nil {
		t.Fatalf("%v\nLambda logs:\n%s", err, fn.Logs())
	}
	if !strings.HasPrefix(tok.Token, "ghs_") || gh.Count("installation_token") != 1 || secretReads.Load() != 1 {
		t.Fatalf("token %q, mints %d, secret reads %d", tok.Token[:4], gh.Count("installation_token"), secretReads.Load())
	}
	gh.InstallApp(32) // installed elsewhere too, but not the organization this deployment serves
	if _, err := (&appcreds.Client{Lambda: lc, Function: "function"}).InstallationToken(context.Background(), 32); err == nil ||
		!strings.Contains(err.Error(), "403") || gh.Count("installation_token") != 1 {
		t.Fatalf("another installation: %v (mints %d), want HTTP 403 and no mint", err, gh.Count("installation_token"))
	}
	if strings.Contains(fn.Logs(), tok.Token) || strings.Contains(fn.Logs(), "PRIVATE KEY") {
		t.Fatal("the Lambda logged a token or the key")
	}
}
