package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys/kmstest"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ai3/oauth-client-secret-Ab12Cd"

var awsCreds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")

// TestWebFlowThroughTheLambdas runs the oauth-login and oauth-callback
// binaries under aws-lambda-rie against dynalite, a KMS double that enforces
// encryption contexts, a Secrets Manager double and the GitHub double, and
// walks a browser through the whole login.
func TestWebFlowThroughTheLambdas(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	ctx := context.Background()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: awsCreds})
	createTable(t, db, "states")
	createTable(t, db, "tokens")
	kmsd := kmstest.New(t)
	gh := githubdouble.New(t)
	gh.SignIn("octocat")
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != secretARN {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no such secret"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": secretARN, "SecretString": gh.ClientSecret})
	}))
	t.Cleanup(sm.Close)
	const redirect = "https://ai3.example/oauth/callback"
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_ENDPOINT_URL_DYNAMODB=" + endpoint, "AWS_ENDPOINT_URL_KMS=" + kmsd.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + sm.URL,
		"GITHUB_URL=" + gh.URL, "GITHUB_CLIENT_ID=" + gh.ClientID, "OAUTH_CLIENT_SECRET_ARN=" + secretARN,
		"OAUTH_REDIRECT_URL=" + redirect, "OAUTH_STATES_TABLE=states", "USER_TOKENS_TABLE=tokens", "TOKENS_KMS_KEY_ID=" + kmsd.KeyID,
	}
	login := startLambda(t, "../oauth-login", env)
	callback := startLambda(t, ".", env)

	resp := login.invoke(t, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/oauth/login"})
	loc := first(resp.MultiValueHeaders["Location"])
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, gh.URL+"/login/oauth/authorize?") {
		t.Fatalf("login Lambda: %d %q\n%s", resp.StatusCode, loc, login.Logs())
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authz, err := noRedirect.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	authz.Body.Close()
	back, err := url.Parse(authz.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), redirect+"?") {
		t.Fatalf("GitHub redirected to %q", authz.Header.Get("Location"))
	}
	// The login bound itself to this browser with a __Host- cookie (the
	// redirect URL is https, as API Gateway serves).
	cookie := (&http.Response{Header: http.Header{"Set-Cookie": resp.MultiValueHeaders["Set-Cookie"]}}).Cookies()
	if len(cookie) != 1 || cookie[0].Name != oauth.SecureCookieName || !cookie[0].Secure || !cookie[0].HttpOnly || cookie[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("login Lambda set cookies %v, want one __Host- cookie, Secure, HttpOnly, SameSite=Lax", resp.MultiValueHeaders["Set-Cookie"])
	}
	cbEvent := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/oauth/callback",
		QueryStringParameters: map[string]string{"code": back.Query().Get("code"), "state": back.Query().Get("state")}}
	// Another browser (no cookie) is refused: login CSRF.
	if r := callback.invoke(t, cbEvent); r.StatusCode != 400 || !strings.Contains(r.Body, "not started in this browser") {
		t.Fatalf("callback without the login cookie: %d %s", r.StatusCode, r.Body)
	}
	resp = login.invoke(t, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/oauth/login"})
	cookie = (&http.Response{Header: http.Header{"Set-Cookie": resp.MultiValueHeaders["Set-Cookie"]}}).Cookies()
	authz, err = noRedirect.Get(first(resp.MultiValueHeaders["Location"]))
	if err != nil {
		t.Fatal(err)
	}
	authz.Body.Close()
	back, _ = url.Parse(authz.Header.Get("Location"))
	cbEvent.QueryStringParameters = map[string]string{"code": back.Query().Get("code"), "state": back.Query().Get("state")}
	cbEvent.Headers = map[string]string{"Cookie": cookie[0].Name + "=" + cookie[0].Value}
	resp = callback.invoke(t, cbEvent)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "@octocat") {
		t.Fatalf("callback Lambda: %d %s\n%s", resp.StatusCode, resp.Body, callback.Logs())
	}
	if resp = callback.invoke(t, cbEvent); resp.StatusCode != 400 || !strings.Contains(resp.Body, "already used") {
		t.Fatalf("replayed callback: %d %s", resp.StatusCode, resp.Body)
	}

	// Another function opens the sealed token through KMS and it works on GitHub.
	oc := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID, ClientSecret: gh.ClientSecret})
	v := tokens.New(tokens.Config{Store: &vault.TokenStore{Client: db, Table: "tokens"},
		Keys:      kmskeys.Keys{Client: kms.New(kms.Options{Region: "us-east-1", BaseEndpoint: aws.String(kmsd.URL), Credentials: awsCreds}), KeyID: kmsd.KeyID},
		Refresher: oc})
	u := gh.AddUser("octocat")
	tok, err := v.Token(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := oc.User(ctx, tok); err != nil || who.Login != "octocat" {
		t.Fatalf("stored token: %v", err)
	}
	for _, l := range []lambdaProc{login, callback} {
		if strings.Contains(l.Logs(), tok) || strings.Contains(l.Logs(), gh.ClientSecret) {
			t.Fatal("a Lambda logged a token or the client secret")
		}
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

type lambdaProc struct{ *testenv.Lambda }

// startLambda builds the Lambda in dir and runs it under aws-lambda-rie.
func startLambda(t *testing.T, dir string, env []string) lambdaProc {
	t.Helper()
	return lambdaProc{testenv.StartLambda(t, testenv.LambdaSpec{Package: dir, Env: env})}
}

func (l lambdaProc) invoke(t *testing.T, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	body, _ := json.Marshal(ev)
	raw := l.Invoke(t, body)
	var out events.APIGatewayProxyResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("Lambda answered %s: %v\n%s", raw, err, l.Logs())
	}
	return out
}
