package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	awsjobs "github.com/sbalswa/ai3-mvp/internal/aws/jobs"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys/kmstest"
	"github.com/sbalswa/ai3-mvp/internal/aws/marks"
	"github.com/sbalswa/ai3-mvp/internal/aws/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
	"github.com/sbalswa/ai3-mvp/workflows"
)

const (
	region       = "us-east-1"
	account      = "111122223333"
	org          = "octo-org"
	repo         = org + "/app"
	installation = 7
	oauthARN     = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ai3/oauth-client-secret-Ab12Cd"
	appKeyARN    = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ai3/github-app-key-Ef34Gh"
)

var awsCreds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")

// credentialsARN is the credentials Lambda as the Pulumi program names it
// to the others (CREDENTIALS_FUNCTION).
const credentialsARN = "arn:aws:lambda:us-east-1:111122223333:function:ai3-credentials"

// lambdaAPI is the Lambda Invoke API of one function: aws-lambda-rie answers
// only for the function "function", so this front accepts the function's
// real ARN, as AWS does, refuses other names (ResourceNotFoundException) and
// forwards the signed invocation to the emulator.
type lambdaAPI struct {
	rie   string
	mu    sync.Mutex
	calls int
}

func (l *lambdaAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(name, "/invocations")
	name, err := url.PathUnescape(name)
	signed := strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if r.Method != http.MethodPost || !ok || !ok2 || err != nil || name != credentialsARN || !signed {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","Message":"Function not found: %s (signed: %v)"}`, name, signed)
		return
	}
	l.mu.Lock()
	l.calls++
	l.mu.Unlock()
	resp, err := http.Post(l.rie+"/2015-03-31/functions/function/invocations", "application/json", r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "X-Amz-Function-Error"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (l *lambdaAPI) invocations() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// secretsManager is a GetSecretValue double holding some secrets; it
// records which were read and refuses the others as AWS does.
type secretsManager struct {
	values map[string]string
	mu     sync.Mutex
	reads  []string
}

func (s *secretsManager) serve(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		s.mu.Lock()
		s.reads = append(s.reads, in.SecretId)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		v, ok := s.values[in.SecretId]
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || !ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "SecretString": v})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (s *secretsManager) read() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

// TestCommentLambdaUnderRIE runs the comment Lambda under aws-lambda-rie,
// wired only by its environment, against dynalite (jobs, marks, user
// tokens), the KMS double, Secrets Manager doubles, the real credentials
// Lambda (also under aws-lambda-rie, invoked through the Lambda API), the
// embedded Step Functions API with the checks workflow deployed, and the
// GitHub double, and feeds it EventBridge events carrying the envelopes of
// webhooks the double delivered.
func TestCommentLambdaUnderRIE(t *testing.T) {
	ctx := context.Background()
	dynamo := testenv.Dynalite(t)
	db := dynamodb.New(dynamodb.Options{Region: region, BaseEndpoint: aws.String(dynamo), Credentials: awsCreds})
	if err := awsjobs.CreateTable(ctx, db, "ai3-jobs"); err != nil {
		t.Fatal(err)
	}
	if err := marks.CreateTable(ctx, db, "ai3-marks"); err != nil {
		t.Fatal(err)
	}
	createTokensTable(t, db, "ai3-user-tokens")

	gh := githubdouble.New(t, githubdouble.WithConfig(func(c *sandbox.Config) { c.Org = org; c.InstallationID = installation }))
	pr, err := gh.CreatePull(repo, sandbox.PullOptions{Title: "feat: checks from a comment", User: "alice", Head: "feature-x"})
	if err != nil {
		t.Fatal(err)
	}
	alice := gh.EnsureUser("alice") // an active member with write
	grant := gh.IssueUserToken("alice")
	gh.AddUser("mallory") // no membership, no permission

	kmsd := kmstest.New(t)
	keys := kmskeys.Keys{Client: kms.New(kms.Options{Region: region, BaseEndpoint: aws.String(kmsd.URL), Credentials: awsCreds}), KeyID: kmsd.KeyID}
	seed := tokens.New(tokens.Config{Store: &vault.TokenStore{Client: db, Table: "ai3-user-tokens"}, Keys: keys})
	if err := seed.Save(ctx, tokens.User{ID: alice.ID, Login: "alice"}, tokens.Grant{AccessToken: grant.AccessToken,
		RefreshToken: grant.RefreshToken, AccessExpiresAt: grant.Expiry, RefreshExpiresAt: grant.RefreshExpiry}); err != nil {
		t.Fatal(err)
	}

	// Only the credentials Lambda may read the App key; the comment Lambda
	// reads the OAuth client secret.
	commentSecrets := &secretsManager{values: map[string]string{oauthARN: gh.ClientSecret}}
	credSecrets := &secretsManager{values: map[string]string{appKeyARN: string(gh.AppPrivateKey())}}
	base := []string{"AWS_REGION=" + region, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true", "GITHUB_API_URL=" + gh.APIURL(), fmt.Sprintf("GITHUB_APP_ID=%d", gh.AppID())}
	creds := testenv.StartLambda(t, testenv.LambdaSpec{Package: "../credentials", Isolated: true, Env: slices.Concat(base, []string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + credSecrets.serve(t), "GITHUB_APP_KEY_SECRET_ARN=" + appKeyARN, fmt.Sprintf("GITHUB_INSTALLATION_ID=%d", installation)})})

	credAPI := &lambdaAPI{rie: creds.Endpoint()}
	credSrv := httptest.NewServer(credAPI)
	t.Cleanup(credSrv.Close)

	// S3: the payload archive, for envelopes that carry only a reference.
	s3backend := s3mem.New()
	if err := s3backend.CreateBucket("ai3-payloads"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(s3backend).Server())
	t.Cleanup(s3srv.Close)

	// Step Functions: the embedded executor behind its AWS API, with the
	// checks workflow deployed as Pulumi deploys it (task ARNs resolved).
	var stepMu sync.Mutex
	var stepInputs []string
	ex, err := localsfn.New(ctx, localsfn.Options{Region: region, Account: account, Handlers: map[string]localsfn.Handler{
		workflows.FunctionName("step"): func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			stepMu.Lock()
			stepInputs = append(stepInputs, string(in))
			stepMu.Unlock()
			return json.RawMessage(`{}`), nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	sfnSrv := httptest.NewServer(sfnapi.New(ex, sfnapi.Options{Region: region, Account: account}))
	t.Cleanup(func() { sfnSrv.Close(); ex.Close() })
	sfnc := sfn.New(sfn.Options{Region: region, BaseEndpoint: aws.String(sfnSrv.URL), Credentials: awsCreds})
	def, typ, err := workflows.Definition("checks", func(task string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, workflows.FunctionName(task))
	})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := sfnc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("ai3-checks"), Definition: aws.String(string(def)),
		Type: sfntypes.StateMachineType(typ), RoleArn: aws.String("arn:aws:iam::" + account + ":role/ai3-states")})
	if err != nil {
		t.Fatal(err)
	}
	machines, _ := json.Marshal(map[string]string{"checks": aws.ToString(sm.StateMachineArn)})

	// S3 by host name, not IP: the SDK picks path-style requests for an IP
	// endpoint by itself, so only "localhost" proves ARCHIVE_S3_PATH_STYLE.
	env := slices.Concat(base, []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamo, "AWS_ENDPOINT_URL_KMS=" + kmsd.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + commentSecrets.serve(t),
		"AWS_ENDPOINT_URL_SFN=" + sfnSrv.URL, "AWS_ENDPOINT_URL_LAMBDA=" + credSrv.URL, "AWS_ENDPOINT_URL_S3=" + strings.Replace(s3srv.URL, "127.0.0.1", "localhost", 1),
		"JOBS_TABLE=ai3-jobs", "MARKS_TABLE=ai3-marks", "USER_TOKENS_TABLE=ai3-user-tokens", "TOKENS_KMS_KEY_ID=" + kmsd.KeyID,
		"ARCHIVE_BUCKET=ai3-payloads", "ARCHIVE_S3_PATH_STYLE=true", "CREDENTIALS_FUNCTION=" + credentialsARN,
		"GITHUB_URL=" + gh.URL, "GITHUB_CLIENT_ID=" + gh.ClientID, "OAUTH_CLIENT_SECRET_ARN=" + oauthARN,
		"GITHUB_ORG=" + org, "BOT_HANDLE=ai3-mvp", "OAUTH_LOGIN_URL=https://ai3.example/oauth/login", "STATE_MACHINES=" + string(machines)})
	secrets := []string{grant.AccessToken, grant.RefreshToken, gh.ClientSecret, "PRIVATE KEY"}
	for _, kv := range env {
		for _, s := range secrets {
			if strings.Contains(kv, s) {
				t.Fatalf("a secret is in the Lambda's environment: %s", kv)
			}
		}
	}
	fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: env, Isolated: true})
	store := awsjobs.New(db, "ai3-jobs", awsjobs.Options{})
	executor := &sfnexec.Executor{API: sfnc}

	invoke := func(t *testing.T, ev []byte) string {
		t.Helper()
		return string(fn.Invoke(t, ev))
	}
	// comments returns the writes of comments on the pull request containing text.
	comments := func(text string) []sandbox.Write {
		var out []sandbox.Write
		for _, w := range gh.Writes() {
			if w.Method == http.MethodPost && strings.HasSuffix(w.Path, fmt.Sprintf("/issues/%d/comments", pr)) && strings.Contains(w.Body, text) {
				out = append(out, w)
			}
		}
		return out
	}

	var aliceEvent []byte
	var job *jobs.Job
	t.Run("an authorized run starts the workflow as alice", func(t *testing.T) {
		aliceEvent = eventOf(t, gh, "d-alice", say(t, gh, pr, "alice", "@ai3-mvp run checks"))
		if out := invoke(t, aliceEvent); out != "null" {
			t.Fatalf("answer %s\n%s\ncredentials Lambda:\n%s", out, fn.Logs(), creds.Logs())
		}
		var eyes []sandbox.Write
		for _, w := range gh.Writes() {
			if strings.HasSuffix(w.Path, "/reactions") && strings.Contains(w.Body, `"eyes"`) {
				eyes = append(eyes, w)
			}
		}
		if len(eyes) != 1 || eyes[0].Token != "user" || eyes[0].Login != "alice" {
			t.Errorf("👀 reactions %+v, want one made with alice's token", eyes)
		}
		status := comments("kind=status")
		if len(status) != 1 || status[0].Token != "user" || status[0].Login != "alice" {
			t.Fatalf("status comments %+v, want one written with alice's token\n%s", status, fn.Logs())
		}
		var err error
		if job, err = store.Latest(ctx, repo, pr); err != nil {
			t.Fatalf("the jobs table holds no job for %s#%d: %v", repo, pr, err)
		}
		if job.Workflow != "checks" || job.User.Login != "alice" || job.Ref != "feature-x" || job.StatusCommentID == 0 ||
			!strings.HasPrefix(job.ExecutionARN, "arn:aws:states:"+region+":"+account+":express:ai3-checks:"+job.ID+":") {
			t.Fatalf("job %+v", job)
		}
		x, err := executor.Describe(ctx, job.ExecutionARN)
		if err != nil {
			t.Fatalf("the executor does not know %s: %v", job.ExecutionARN, err)
		}
		if x.ARN != job.ExecutionARN {
			t.Fatalf("described %+v", x)
		}
		// The workflow really ran its steps with the job's input.
		done, err := ex.WaitExecution(ctx, job.ExecutionARN)
		if err != nil {
			t.Fatal(err)
		}
		stepMu.Lock()
		n := len(stepInputs)
		first := ""
		if n > 0 {
			first = stepInputs[0]
		}
		stepMu.Unlock()
		if n < 4 || !strings.Contains(first, job.ID) {
			t.Errorf("execution %s ran %d step invocations (first %.200s), want the four checks of job %s", done.Status, n, first, job.ID)
		}
	})
	if job == nil {
		t.FailNow()
	}

	t.Run("the same delivery again changes nothing", func(t *testing.T) {
		writes := len(gh.Writes())
		if out := invoke(t, aliceEvent); out != "null" {
			t.Fatalf("answer %s\n%s", out, fn.Logs())
		}
		if n := len(gh.Writes()); n != writes {
			t.Errorf("%d GitHub writes after the redelivery, want %d", n, writes)
		}
		out, err := sfnc.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Executions) != 1 {
			t.Errorf("%d executions, want 1", len(out.Executions))
		}
		if again, err := store.Latest(ctx, repo, pr); err != nil || again.ID != job.ID {
			t.Errorf("latest job %v, %v; want %s", again, err, job.ID)
		}
		mark, err := marks.New(db, "ai3-marks", marks.Options{}).Acquire(ctx, events.MarkKey("d-alice", events.TargetComment), time.Minute)
		if err != nil || mark != events.MarkDone {
			t.Errorf("the marks table holds %v, %v for the delivery, want it done", mark, err)
		}
	})

	t.Run("the bot's own status comment starts nothing", func(t *testing.T) {
		var own []byte
		for _, w := range gh.Webhooks() {
			if w.Event == "issue_comment" && strings.Contains(string(w.Payload), fmt.Sprintf(`"id":%d,`, job.StatusCommentID)) {
				own = w.Payload
			}
		}
		if own == nil || !strings.Contains(string(own), "@ai3-mvp") {
			t.Fatalf("no webhook for the status comment %d that mentions the bot", job.StatusCommentID)
		}
		writes := len(gh.Writes())
		if out := invoke(t, eventOf(t, gh, "d-own", own)); out != "null" {
			t.Fatalf("answer %s\n%s", out, fn.Logs())
		}
		if n := len(gh.Writes()); n != writes {
			t.Errorf("%d GitHub writes after the bot's own comment, want %d: %+v", n, writes, gh.Writes()[writes:])
		}
		// Recognised by the App it was written through (GITHUB_APP_ID), not
		// only by the marker it carries.
		if !slices.ContainsFunc(fn.JSONLines(), func(l string) bool {
			return strings.Contains(l, `"delivery_id":"d-own"`) && strings.Contains(l, "written through our App")
		}) {
			t.Errorf("the Lambda did not recognise its App's comment:\n%s", fn.Logs())
		}
	})

	t.Run("a non-member is refused with the installation token", func(t *testing.T) {
		writes := len(gh.Writes())
		if out := invoke(t, eventOf(t, gh, "d-mallory", say(t, gh, pr, "mallory", "@ai3-mvp run checks"))); out != "null" {
			t.Fatalf("answer %s\n%s", out, fn.Logs())
		}
		var refusals []sandbox.Write
		for _, w := range gh.Writes()[writes:] {
			if w.Login == "mallory" {
				t.Errorf("a write made with mallory's token: %+v", w)
			}
			if strings.Contains(w.Body, "@mallory") {
				refusals = append(refusals, w)
			}
		}
		if len(refusals) != 1 || refusals[0].Token != "installation" || refusals[0].InstallationID != installation ||
			!strings.Contains(refusals[0].Body, "not an active member of the organization") {
			t.Fatalf("refusals %+v, want one reply saying why, written with installation %d's token\n%s", refusals, installation, fn.Logs())
		}
		if latest, err := store.Latest(ctx, repo, pr); err != nil || latest.ID != job.ID {
			t.Errorf("latest job %v, %v; the refused comment made a job", latest, err)
		}
	})

	t.Run("a payload archived by reference is read from S3", func(t *testing.T) {
		payload := say(t, gh, pr, "alice", "@ai3-mvp ping")
		// The shape the receiver publishes for a payload over the inline
		// limit: only the archive reference travels.
		ev := eventOf(t, gh, "d-large", payload)
		var cw awsevents.CloudWatchEvent
		if err := json.Unmarshal(ev, &cw); err != nil {
			t.Fatal(err)
		}
		env, err := events.Decode(cw.Detail)
		if err != nil {
			t.Fatal(err)
		}
		env.Payload, env.PayloadComplete = nil, false
		cw.Detail, _ = json.Marshal(env)
		ev, _ = json.Marshal(cw)

		writes := len(gh.Writes())
		if out := invoke(t, ev); !strings.Contains(out, "errorMessage") || !strings.Contains(out, env.S3Reference.Key) {
			t.Fatalf("a reference to a missing object answered %s, want an error naming its key", out)
		}
		if n := len(gh.Writes()); n != writes {
			t.Fatalf("%d GitHub writes for an unreadable payload, want %d", n, writes)
		}
		if _, err := s3backend.PutObject(env.S3Reference.Bucket, env.S3Reference.Key, map[string]string{"Content-Type": "application/json"},
			bytes.NewReader(payload), int64(len(payload)), nil); err != nil {
			t.Fatal(err)
		}
		// EventBridge retries the failed delivery: now it is answered.
		if out := invoke(t, ev); out != "null" {
			t.Fatalf("answer %s\n%s", out, fn.Logs())
		}
		if got := comments("pong"); len(got) != 1 {
			t.Errorf("pong replies %+v, want one", got)
		}
	})

	t.Run("an event that is not ai3's is an error and changes nothing", func(t *testing.T) {
		writes := len(gh.Writes())
		ev := strings.Replace(string(aliceEvent), `"source":"ai3.github"`, `"source":"aws.s3"`, 1)
		if out := invoke(t, []byte(ev)); !strings.Contains(out, "errorMessage") || !strings.Contains(out, "ai3.github") {
			t.Errorf("answer %s, want an error naming the expected source", out)
		}
		if n := len(gh.Writes()); n != writes {
			t.Errorf("%d GitHub writes, want %d", n, writes)
		}
	})

	t.Run("secrets stay in Secrets Manager and out of the logs", func(t *testing.T) {
		if got := commentSecrets.read(); len(got) != 1 || got[0] != oauthARN {
			t.Errorf("the comment Lambda read secrets %v, want the OAuth client secret once", got)
		}
		if got := credSecrets.read(); len(got) != 1 || got[0] != appKeyARN {
			t.Errorf("the credentials Lambda read secrets %v, want the App key once", got)
		}
		if n := credAPI.invocations(); n == 0 || gh.Count("installation_token") != n {
			t.Errorf("%d invocations of the credentials Lambda minted %d installation tokens, want as many and some", n, gh.Count("installation_token"))
		}
		logs := fn.Logs() + creds.Logs()
		for _, s := range append(secrets, "ghs_", "ghu_", "ghr_") {
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold %.8q…", s)
			}
		}
		t.Logf("durations (ms) reported by aws-lambda-rie — comment: %v; credentials: %v", reported(fn.Logs()), reported(creds.Logs()))
		if !strings.Contains(fn.Logs(), `"delivery_id":"d-mallory"`) {
			t.Errorf("the comment Lambda's lines do not carry delivery_id:\n%s", fn.Logs())
		}
	})
}

// reported lists the Duration of each REPORT line the emulator printed.
func reported(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if _, rest, ok := strings.Cut(l, "\tDuration: "); ok && strings.HasPrefix(l, "REPORT ") {
			d, _, _ := strings.Cut(rest, " ms")
			out = append(out, d)
		}
	}
	return out
}

// say posts body as login on the pull request and returns the payload of
// the issue_comment webhook the double delivered for it.
func say(t *testing.T, gh *githubdouble.Server, pr int, login, body string) []byte {
	t.Helper()
	before := len(gh.Webhooks())
	id, err := gh.CommentAs(repo, pr, login, body)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`"id":%d,`, id)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, w := range gh.Webhooks()[before:] {
			if w.Event == "issue_comment" && strings.Contains(string(w.Payload), want) {
				return w.Payload
			}
		}
	}
	t.Fatalf("the double delivered no issue_comment webhook for comment %d", id)
	return nil
}

// eventOf is the EventBridge event the receiver's envelope of payload
// becomes on its way to the comments rule's target.
func eventOf(t *testing.T, gh *githubdouble.Server, delivery string, payload []byte) []byte {
	t.Helper()
	now := time.Now().UTC()
	env, err := events.NewEnvelope(events.Delivery{ID: delivery, Event: "issue_comment", HookID: "4711", ReceivedAt: now, Body: payload},
		events.Ref{Bucket: "ai3-payloads", Key: now.Format("2006/01/02") + "/issue_comment/4711/" + delivery + ".json"})
	if err != nil {
		t.Fatal(err)
	}
	if env.InstallationID != installation || env.Repository != repo {
		t.Fatalf("envelope %+v", env)
	}
	detail, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := json.Marshal(awsevents.CloudWatchEvent{Version: "0", ID: "ev-" + delivery, DetailType: env.Event, Source: events.Source,
		AccountID: account, Time: now, Region: region, Resources: []string{}, Detail: detail})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func createTokensTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(vault.KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(vault.KeyAttribute), KeyType: types.KeyTypeHash}},
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
