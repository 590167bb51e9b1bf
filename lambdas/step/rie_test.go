package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-github/v62/github"

	awsjobs "github.com/sbalswa/ai3-mvp/internal/aws/jobs"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys/kmstest"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ai3/oauth-client-secret-Ab12Cd"

var awsCreds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")

// awsJSON serves an AWS JSON-protocol API: each request's X-Amz-Target and
// body are recorded and answer gives the response.
type awsJSON struct {
	mu    sync.Mutex
	calls []string
}

func (a *awsJSON) serve(t *testing.T, answer func(target string, body []byte) (int, string)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		target := r.Header.Get("X-Amz-Target")
		a.mu.Lock()
		a.calls = append(a.calls, target+" "+string(body))
		a.mu.Unlock()
		status, out := answer(target, body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (a *awsJSON) seen(prefix string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// TestStepLambdasUnderRIE runs the step, workflow-run and finalizer Lambdas
// under aws-lambda-rie against dynalite (jobs and tokens), a KMS double,
// Secrets Manager, Step Functions and credentials-Lambda doubles and the
// GitHub stand-in: a github.actions step dispatches as the user and waits,
// the workflow_run webhook completes its task token, and the status change
// ends the job and writes the final comment.
func TestStepLambdasUnderRIE(t *testing.T) {
	ctx := context.Background()
	endpoint := testenv.Dynalite(t)
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: awsCreds})
	if err := awsjobs.CreateTable(ctx, db, "jobs"); err != nil {
		t.Fatal(err)
	}
	waitTable(t, db, "jobs")
	createTable(t, db, "tokens")
	kmsd := kmstest.New(t)
	keys := kmskeys.Keys{Client: kms.New(kms.Options{Region: "us-east-1", BaseEndpoint: aws.String(kmsd.URL), Credentials: awsCreds}), KeyID: kmsd.KeyID}
	gh := githubdouble.New(t)
	gh.InstallApp(77)
	grant := gh.IssueUserToken("alice")
	pr, err := gh.CreatePull("octo/app", sandbox.PullOptions{Title: "feat: lint", Head: "feature-x", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := (&githubapp.Minter{AppID: gh.AppID(), APIURL: gh.APIURL(),
		Key: func(context.Context) ([]byte, error) { return gh.AppPrivateKey(), nil }}).InstallationToken(ctx, 77)
	if err != nil {
		t.Fatal(err)
	}
	v := tokens.New(tokens.Config{Store: &vault.TokenStore{Client: db, Table: "tokens"}, Keys: keys})
	if err := v.Save(ctx, tokens.User{ID: 1001, Login: "alice"}, tokens.Grant{AccessToken: grant.AccessToken, RefreshToken: grant.RefreshToken,
		AccessExpiresAt: grant.Expiry, RefreshExpiresAt: grant.RefreshExpiry}); err != nil {
		t.Fatal(err)
	}
	var sm, sfnd, creds awsJSON
	smURL := sm.serve(t, func(string, []byte) (int, string) {
		return 200, fmt.Sprintf(`{"ARN":%q,"SecretString":"client-secret"}`, secretARN)
	})
	sfnURL := sfnd.serve(t, func(string, []byte) (int, string) { return 200, `{}` })
	credURL := creds.serve(t, func(string, []byte) (int, string) {
		body, _ := json.Marshal(map[string]any{"token": inst.Token, "expires_at": inst.ExpiresAt})
		resp, _ := json.Marshal(map[string]any{"statusCode": 200, "body": string(body)})
		return 200, string(resp)
	})
	store := awsjobs.New(db, "jobs", awsjobs.Options{})
	statusID, err := gh.CommentAs("octo/app", pr, "alice", "queued")
	if err != nil {
		t.Fatal(err)
	}
	j := &jobs.Job{ID: "ci-rie1", Workflow: "ci", Thread: jobs.Thread{Repo: "octo/app", Kind: jobs.PullThread, Number: pr},
		Ref: "feature-x", User: jobs.User{ID: 1001, Login: "alice"}, InstallationID: 77, Status: jobs.Queued,
		Lock: "lock#octo/app#ci", StatusCommentID: statusID,
		Steps: map[string]*jobs.Step{"lint": {Status: jobs.Pending}}}
	if err := store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutRef(ctx, j.Lock, j.ID, 0); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_ENDPOINT_URL_DYNAMODB=" + endpoint, "AWS_ENDPOINT_URL_KMS=" + kmsd.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + smURL,
		"AWS_ENDPOINT_URL_SFN=" + sfnURL, "AWS_ENDPOINT_URL_LAMBDA=" + credURL,
		"JOBS_TABLE=jobs", "USER_TOKENS_TABLE=tokens", "ARCHIVE_BUCKET=ai3-payloads", "TOKENS_KMS_KEY_ID=" + kmsd.KeyID, "CREDENTIALS_FUNCTION=ai3-credentials",
		"GITHUB_API_URL=" + gh.APIURL(), "GITHUB_URL=" + gh.URL, "GITHUB_CLIENT_ID=Iv1.test", "OAUTH_CLIENT_SECRET_ARN=" + secretARN,
		"BOT_HANDLE=ai3-mvp",
	}
	step := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: env, Isolated: true})
	run := testenv.StartLambda(t, testenv.LambdaSpec{Package: "../workflow-run", Env: env, Isolated: true})
	fin := testenv.StartLambda(t, testenv.LambdaSpec{Package: "../finalizer", Env: env, Isolated: true})

	payload := fmt.Sprintf(`{"workflow":"ci","step":"lint","kind":"github.actions","workflow_file":"ci.yml","inputs":{"job":"lint"},
		"execution":"arn:aws:states:us-east-1:111122223333:execution:ai3-ci:ci-rie1","TaskToken":"tt-1","steps":{},"input":%s}`, jobs.InputOf(j).JSON())
	if out := step.Invoke(t, []byte(payload)); !strings.Contains(string(out), "run_id") {
		t.Fatalf("step: %s\n%s", out, step.Logs())
	}
	runs := gh.Runs()
	if len(runs) != 1 || runs[0].Actor != "alice" || fmt.Sprint(runs[0].Inputs["job"]) != "lint" {
		t.Fatalf("runs %+v", runs)
	}
	runURL := fmt.Sprintf("%s/octo/app/actions/runs/%d", gh.URL, runs[0].ID)
	if out := step.Invoke(t, []byte(`{"step":"lint","kind":"teleport","input":{"job":{"id":"ci-rie1"}}}`)); !strings.Contains(string(out), `"errorType":"InputError"`) {
		t.Errorf("an unknown kind: %s", out)
	}

	// The double runs the workflow and sends its workflow_run webhooks.
	var hook []byte
	deadline := time.Now().Add(30 * time.Second)
	for hook == nil && time.Now().Before(deadline) {
		for _, w := range gh.Webhooks() {
			if w.Event == "workflow_run" && strings.Contains(string(w.Payload), `"action":"completed"`) {
				hook = w.Payload
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if hook == nil {
		t.Fatal("the run never completed")
	}
	detail, _ := json.Marshal(events.Envelope{DeliveryID: "d-1", Event: "workflow_run", Action: "completed", HookID: "1",
		Repository: "octo/app", ReceivedAt: time.Now().UTC(), PayloadComplete: true, Payload: hook})
	ev := fmt.Sprintf(`{"version":"0","id":"e1","detail-type":"workflow_run","source":"ai3.github","account":"111122223333","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":%s}`, detail)
	if out := run.Invoke(t, []byte(ev)); strings.Contains(string(out), "errorMessage") {
		t.Fatalf("workflow-run: %s\n%s", out, run.Logs())
	}
	if got := sfnd.seen("AWSStepFunctions.SendTaskSuccess"); len(got) != 1 || !strings.Contains(got[0], `"taskToken":"tt-1"`) {
		t.Fatalf("SendTaskSuccess calls %v\n%s", got, run.Logs())
	}

	change := `{"version":"0","id":"e2","detail-type":"Step Functions Execution Status Change","source":"aws.states","account":"111122223333",
		"time":"2026-01-01T00:01:00Z","region":"us-east-1","resources":[],"detail":{"executionArn":"arn:aws:states:us-east-1:111122223333:execution:ai3-ci:ci-rie1",
		"stateMachineArn":"arn:aws:states:us-east-1:111122223333:stateMachine:ai3-ci","name":"ci-rie1","status":"SUCCEEDED","startDate":1767225600000,"stopDate":1767225660000}}`
	if out := fin.Invoke(t, []byte(change)); strings.Contains(string(out), "errorMessage") {
		t.Fatalf("finalizer: %s\n%s", out, fin.Logs())
	}
	got, err := store.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != jobs.Succeeded || got.Steps["lint"].Status != jobs.Succeeded {
		t.Errorf("job %s, lint %s", got.Status, got.Steps["lint"].Status)
	}
	if _, err := store.GetRef(ctx, j.Lock); err == nil {
		t.Error("the finaliser left the job's lock held")
	}
	c, err := github.NewClient(nil).WithAuthToken(grant.AccessToken).WithEnterpriseURLs(gh.APIURL(), gh.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	comment, _, err := c.Issues.GetComment(ctx, "octo", "app", statusID)
	if err != nil {
		t.Fatal(err)
	}
	body := comment.GetBody()
	if !strings.Contains(body, "succeeded") || !strings.Contains(body, "console.aws.amazon.com") || !strings.Contains(body, runURL) {
		t.Errorf("final comment:\n%s", body)
	}
	for _, w := range gh.Writes() {
		if w.Token != "user" || w.Login != "alice" {
			t.Errorf("a write not made with alice's token: %+v", w)
		}
	}
	// The comment writes took slots of alice's budget in the jobs table,
	// shared by the three Lambdas.
	if budget, err := store.GetRef(ctx, pace.Key(1001)); err != nil || budget == "" {
		t.Errorf("no write budget of alice's in the jobs table: %q, %v", budget, err)
	}
	for _, l := range []*testenv.Lambda{step, run, fin} {
		if strings.Contains(l.Logs(), grant.AccessToken) || strings.Contains(l.Logs(), inst.Token) || strings.Contains(l.Logs(), "client-secret") || strings.Contains(l.Logs(), "tt-1") {
			t.Error("a Lambda logged a token, the client secret or a task token")
		}
	}
}

func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitTable(t, db, name)
}

func waitTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	if err := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}
