package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sbalswa/ai3-mvp/internal/aws/claims"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

const (
	secretValue = "rie-webhook-secret-7f3a"
	secretARN   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ai3/webhook-Xy12"
	table       = "ai3-claims"
	bucket      = "ai3-payloads"
	busName     = "ai3-bus"
)

// eventBridge is a PutEvents double that checks the wire request, records
// accepted entries and can be told to reject entries inside a 200 answer.
type eventBridge struct {
	t       *testing.T
	mu      sync.Mutex
	entries []map[string]any
	reject  bool
}

func (e *eventBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if got := r.Header.Get("X-Amz-Target"); got != "AWSEvents.PutEvents" {
		e.t.Errorf("EventBridge X-Amz-Target = %q", got)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		e.t.Error("EventBridge request is not SigV4-signed")
	}
	var in struct{ Entries []map[string]any }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		e.t.Errorf("PutEvents body: %v", err)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if e.reject {
		fmt.Fprint(w, `{"FailedEntryCount":1,"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"try later"}]}`)
		return
	}
	e.entries = append(e.entries, in.Entries...)
	fmt.Fprintf(w, `{"FailedEntryCount":0,"Entries":[{"EventId":"ev-%d"}]}`, len(e.entries))
}

func (e *eventBridge) accepted() []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]map[string]any(nil), e.entries...)
}

func (e *eventBridge) setReject(v bool) { e.mu.Lock(); defer e.mu.Unlock(); e.reject = v }

func secretsManager(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "secretsmanager.GetSecretValue" {
			t.Errorf("Secrets Manager X-Amz-Target = %q", got)
		}
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(secretARN)) {
			t.Errorf("GetSecretValue for %s, want %s", body, secretARN)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]string{"ARN": secretARN, "Name": "ai3/webhook", "SecretString": secretValue + "\n"})
	})
}

// TestReceiverInsideLambdaRIE runs the real receiver binary inside
// aws-lambda-rie, wired only through environment variables that name
// resources, against dynalite (DynamoDB), gofakes3 (S3) and wire-checking
// EventBridge and Secrets Manager doubles.
func TestReceiverInsideLambdaRIE(t *testing.T) {
	ddbURL := testenv.Dynalite(t)
	ctx := context.Background()

	dir := t.TempDir()

	ddb := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ddbURL), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err := claims.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	s3backend := s3mem.New()
	if err := s3backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	var s3down atomic.Bool
	s3 := gofakes3.New(s3backend).Server()
	s3srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s3down.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>down</Message></Error>`)
			return
		}
		s3.ServeHTTP(w, r)
	}))
	defer s3srv.Close()
	eb := &eventBridge{t: t}
	ebsrv := httptest.NewServer(eb)
	defer ebsrv.Close()
	smsrv := httptest.NewServer(secretsManager(t))
	defer smsrv.Close()

	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbURL, "AWS_ENDPOINT_URL_S3=" + s3srv.URL,
		"AWS_ENDPOINT_URL_EVENTBRIDGE=" + ebsrv.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + smsrv.URL,
		"CLAIMS_TABLE=" + table, "ARCHIVE_BUCKET=" + bucket, "EVENT_BUS_NAME=" + busName, "WEBHOOK_SECRET_ARN=" + secretARN,
		"ARCHIVE_S3_PATH_STYLE=true",
	}
	for _, kv := range env {
		if strings.Contains(kv, secretValue) {
			t.Fatalf("the webhook secret leaked into the Lambda environment: %s", kv)
		}
	}
	fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: env, Isolated: true})
	logs := fn.Logs

	invoke := func(ev lambdaevents.APIGatewayProxyRequest) (int, webhook.Answer) {
		t.Helper()
		body, _ := json.Marshal(ev)
		raw := fn.Invoke(t, body)
		var out lambdaevents.APIGatewayProxyResponse
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("invocation answer %s: %v\n%s", raw, err, logs())
		}
		var a webhook.Answer
		if err := json.Unmarshal([]byte(out.Body), &a); err != nil {
			t.Fatalf("proxy response body %q: %v\n%s", out.Body, err, logs())
		}
		return out.StatusCode, a
	}
	payload := `{"action":"created","installation":{"id":7},"repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"}}`
	event := func(id, sig string, b64 bool) lambdaevents.APIGatewayProxyRequest {
		ev := lambdaevents.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/webhook", Body: payload, Headers: map[string]string{
			"content-type": "application/json", "x-github-event": "issue_comment", "x-github-delivery": id,
			"x-github-hook-id": "77", "x-hub-signature-256": sig,
		}}
		if b64 {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(payload)), true
		}
		return ev
	}
	good := webhook.Sign([]byte(secretValue), []byte(payload))

	steps := []struct {
		name      string
		before    func()
		ev        lambdaevents.APIGatewayProxyRequest
		status    int
		duplicate bool
		published int
		code      string
	}{
		{"signed delivery", nil, event("rie-1", good, false), 200, false, 1, ""},
		{"redelivery is a duplicate", nil, event("rie-1", good, false), 200, true, 1, ""},
		{"base64 body", nil, event("rie-2", good, true), 200, false, 2, ""},
		{"bad signature", nil, event("rie-3", webhook.Sign([]byte("guess"), []byte(payload)), false), 401, false, 2, "bad_signature"},
		{"EventBridge rejects the entry", func() { eb.setReject(true) }, event("rie-4", good, false), 503, false, 2, "bus_unavailable"},
		{"redelivery after recovery is processed", func() { eb.setReject(false) }, event("rie-4", good, false), 200, false, 3, ""},
		{"S3 down", func() { s3down.Store(true) }, event("rie-5", good, false), 503, false, 3, "archive_unavailable"},
		{"redelivery after S3 recovers is processed", func() { s3down.Store(false) }, event("rie-5", good, false), 200, false, 4, ""},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		status, a := invoke(s.ev)
		if status != s.status || a.Duplicate != s.duplicate || a.Error != s.code {
			t.Fatalf("%s: %d %+v, want %d duplicate=%v error=%q\n%s", s.name, status, a, s.status, s.duplicate, s.code, logs())
		}
		if n := len(eb.accepted()); n != s.published {
			t.Fatalf("%s: EventBridge holds %d entries, want %d", s.name, n, s.published)
		}
	}

	entry := eb.accepted()[0]
	var detail map[string]any
	if err := json.Unmarshal([]byte(entry["Detail"].(string)), &detail); err != nil {
		t.Fatal(err)
	}
	if entry["Source"] != "ai3.github" || entry["DetailType"] != "issue_comment" || entry["EventBusName"] != busName ||
		detail["delivery_id"] != "rie-1" || detail["repository"] != "acme/widgets" {
		t.Fatalf("EventBridge entry = %v", entry)
	}
	ref, _ := detail["s3_reference"].(map[string]any)
	obj, err := s3backend.GetObject(bucket, fmt.Sprint(ref["key"]), nil)
	if err != nil {
		t.Fatalf("archived object %v: %v", ref, err)
	}
	got, _ := io.ReadAll(obj.Contents)
	if string(got) != payload {
		t.Fatalf("archived %q", got)
	}
	out := logs()
	if strings.Contains(out, secretValue) {
		t.Fatal("the webhook secret appears in the Lambda's logs")
	}
	if !strings.Contains(out, `"delivery_id":"rie-1"`) {
		t.Fatalf("Lambda logs do not carry delivery_id:\n%s", out)
	}
}

func TestWireRefusesMissingEnvironment(t *testing.T) {
	env := map[string]string{"CLAIMS_TABLE": "t", "ARCHIVE_BUCKET": "b", "EVENT_BUS_NAME": "e"}
	_, err := wire(context.Background(), nil, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET_ARN") {
		t.Fatalf("wire without WEBHOOK_SECRET_ARN = %v, want an error naming it", err)
	}
}
