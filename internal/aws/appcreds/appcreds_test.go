package appcreds_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/aws/appcreds"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")

const secretARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ai3/github-app-key-AbCdEf"

// secretsDouble answers secretsmanager.GetSecretValue on the JSON 1.1 wire,
// checking the request the way the service would.
func secretsDouble(t *testing.T, value []byte) (*httptest.Server, *int) {
	calls := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		var in struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch {
		case r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue",
			r.Header.Get("Content-Type") != "application/x-amz-json-1.1",
			!strings.Contains(r.Header.Get("Authorization"), "/secretsmanager/aws4_request"):
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"InvalidRequestException","message":"bad wire request"}`)
		case in.SecretId != secretARN:
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"ARN": secretARN, "Name": "ai3/github-app-key", "SecretString": string(value),
				"VersionId": "v1", "VersionStages": []string{"AWSCURRENT"}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// lambdaDouble answers the Lambda Invoke REST call by running the
// credentials handler, as the real function would.
func lambdaDouble(t *testing.T, h appcreds.Handler, function string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/2015-03-31/functions/"+function+"/invocations" ||
			!strings.Contains(r.Header.Get("Authorization"), "/lambda/aws4_request") {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(404)
			io.WriteString(w, `{"Type":"User","message":"Function not found: `+r.URL.Path+`"}`)
			return
		}
		if it := r.Header.Get("X-Amz-Invocation-Type"); it != "" && it != "RequestResponse" {
			t.Errorf("invocation type %q, want a synchronous invoke", it)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Version != "2.0" {
			t.Errorf("payload is not API-Gateway-v2-shaped: %v %+v", err, req)
		}
		resp, err := h.Handle(r.Context(), req)
		if err != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInvokeCredentialsFunction(t *testing.T) {
	gh := githubdouble.New(t)
	gh.InstallApp(77)
	sm, smCalls := secretsDouble(t, gh.AppPrivateKey())
	key := appcreds.Secret(secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(sm.URL), Credentials: creds}), secretARN)
	minter := &githubapp.Minter{AppID: gh.AppID(), Key: key, APIURL: gh.APIURL()}
	fn := lambdaDouble(t, appcreds.Handler{Tokens: minter, Installation: 77}, "ai3-credentials")
	lc := lambda.New(lambda.Options{Region: "eu-west-1", BaseEndpoint: aws.String(fn.URL), Credentials: creds})
	client := &appcreds.Client{Lambda: lc, Function: "ai3-credentials"}
	ctx := context.Background()

	tok, err := client.InstallationToken(ctx, 77)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, "ghs_") || time.Until(tok.ExpiresAt) < 50*time.Minute {
		t.Fatalf("token %+v", tok)
	}
	again, err := client.InstallationToken(ctx, 77)
	if err != nil || again != tok {
		t.Fatalf("second call: %+v %v, want the cached token", again, err)
	}
	if gh.Count("installation_token") != 1 || *smCalls != 1 {
		t.Fatalf("mints %d, secret reads %d; want 1 each", gh.Count("installation_token"), *smCalls)
	}
	// The token works for the installation's reads.
	gh.SetMembership("acme", "octocat", "active", "member")
	ic, err := githubapp.InstallationClient(client, 77, gh.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	if m, _, err := ic.Organizations.GetOrgMembership(ctx, "octocat", "acme"); err != nil || m.GetState() != "active" {
		t.Fatalf("membership through the minted token: %v", err)
	}
}

func TestInvokeErrors(t *testing.T) {
	gh := githubdouble.New(t)
	gh.InstallApp(77)
	sm, _ := secretsDouble(t, gh.AppPrivateKey())
	smClient := secretsmanager.New(secretsmanager.Options{Region: "eu-west-1", BaseEndpoint: aws.String(sm.URL), Credentials: creds})
	cases := []struct {
		name     string
		secretID string
		function string
		install  int64
		want     string
	}{
		{"another installation than the organization's", secretARN, "ai3-credentials", 9999, "HTTP 403"},
		{"secret missing", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:other", "ai3-credentials", 77, "HTTP 502"},
		{"function missing", secretARN, "nope", 77, "ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			minter := &githubapp.Minter{AppID: gh.AppID(), Key: appcreds.Secret(smClient, c.secretID), APIURL: gh.APIURL()}
			fn := lambdaDouble(t, appcreds.Handler{Tokens: minter, Installation: 77}, "ai3-credentials")
			lc := lambda.New(lambda.Options{Region: "eu-west-1", BaseEndpoint: aws.String(fn.URL), Credentials: creds})
			_, err := (&appcreds.Client{Lambda: lc, Function: c.function}).InstallationToken(context.Background(), c.install)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatal("the error carries the App key")
			}
		})
	}
}

func TestHandlerRoutes(t *testing.T) {
	h := appcreds.Handler{Tokens: &stubTokens{}, Installation: 5}
	cases := []struct {
		method, path string
		want         int
	}{
		{"POST", "/installations/5/token", 200},
		{"POST", "/installations/6/token", 403}, // not the organization's installation
		{"GET", "/installations/5/token", 404},
		{"POST", "/installations/x/token", 400},
		{"POST", "/installations/-3/token", 400},
		{"POST", "/other", 404},
	}
	for _, c := range cases {
		var req events.APIGatewayV2HTTPRequest
		req.RawPath, req.RequestContext.HTTP.Method = c.path, c.method
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != c.want {
			t.Errorf("%s %s = %d %v, want %d", c.method, c.path, resp.StatusCode, err, c.want)
		}
	}
}

// stubTokens records the permissions each token was minted with.
type stubTokens struct {
	mu    sync.Mutex
	asked []map[string]string
}

func (s *stubTokens) ScopedToken(_ context.Context, id int64, perms map[string]string) (githubapp.InstallationToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, perms)
	return githubapp.InstallationToken{Token: "ghs_stub", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

// TestHandlerPermissions: a caller gets the permissions it asks for, within
// what the deployment allows; asking for nothing gets the allowed set, and
// asking beyond it is refused with 403 and mints nothing. The client sends
// its permissions over the Lambda invoke.
func TestHandlerPermissions(t *testing.T) {
	allowed := map[string]string{"members": "read", "issues": "write", "metadata": "read"}
	cases := []struct {
		name   string
		asked  map[string]string
		status int
		minted map[string]string
	}{
		{"nothing asked: the allowed set", nil, 200, allowed},
		{"a subset", map[string]string{"members": "read"}, 200, map[string]string{"members": "read"}},
		{"read of a write permission", map[string]string{"issues": "read"}, 200, map[string]string{"issues": "read"}},
		{"write of a read permission", map[string]string{"members": "write"}, 403, nil},
		{"a permission not allowed", map[string]string{"administration": "write"}, 403, nil},
		{"a level that is not one", map[string]string{"issues": "admin"}, 403, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stub := &stubTokens{}
			fn := lambdaDouble(t, appcreds.Handler{Tokens: stub, Installation: 5, Allowed: allowed}, "ai3-credentials")
			lc := lambda.New(lambda.Options{Region: "eu-west-1", BaseEndpoint: aws.String(fn.URL), Credentials: creds})
			_, err := (&appcreds.Client{Lambda: lc, Function: "ai3-credentials", Permissions: c.asked}).InstallationToken(context.Background(), 5)
			switch {
			case c.status == 200 && (err != nil || len(stub.asked) != 1 || !maps.Equal(stub.asked[0], c.minted)):
				t.Fatalf("err %v, minted %v; want %v", err, stub.asked, c.minted)
			case c.status == 403 && (err == nil || !strings.Contains(err.Error(), "HTTP 403") || len(stub.asked) != 0):
				t.Fatalf("err %v, minted %v; want 403 and nothing minted", err, stub.asked)
			}
		})
	}
}

func TestParsePermissions(t *testing.T) {
	got, err := appcreds.ParsePermissions(" issues=write, members=read ")
	if err != nil || !maps.Equal(got, map[string]string{"issues": "write", "members": "read"}) {
		t.Fatalf("= %v, %v", got, err)
	}
	for _, bad := range []string{"issues", "issues=admin", "=read"} {
		if _, err := appcreds.ParsePermissions(bad); err == nil {
			t.Errorf("ParsePermissions(%q) succeeded", bad)
		}
	}
	if got, err := appcreds.ParsePermissions(""); got != nil || err != nil {
		t.Fatalf("empty = %v, %v; want nil", got, err)
	}
}
