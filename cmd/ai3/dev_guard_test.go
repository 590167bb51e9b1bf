package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// guardSecret is the webhook secret of the servers these tests start.
const guardSecret = "guard-webhook-secret"

// startGuardDev runs `ai3 dev` in sandbox mode with guardSecret.
func startGuardDev(t *testing.T) *testenv.Dev {
	t.Helper()
	if testing.Short() {
		t.Skip("starts ai3 dev")
	}
	return testenv.StartDev(t, testenv.BuildAI3(t), t.TempDir(), "WEBHOOK_SECRET="+guardSecret)
}

// headerClient is an HTTP client for the SDK that adds headers to every
// request and, when host is set, sends that Host: what a proxy, a tunnel or
// a rebound DNS name makes of a request.
type headerClient struct {
	header http.Header
	host   string
}

func (c headerClient) Do(r *http.Request) (*http.Response, error) {
	for k, vs := range c.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if c.host != "" {
		r.Host = c.host
	}
	return http.DefaultClient.Do(r)
}

// sfnClient is the real Step Functions client of aws-sdk-go-v2 pointed at
// the server's /sfn with static credentials; via, when not nil, sends its
// requests. It keeps the SDK's retries: they take up a reused connection
// the transport closed under a read (aws/aws-sdk-go-v2#2737), and a 403 is
// not retried.
func sfnClient(baseURL string, via aws.HTTPClient) *sfn.Client {
	o := sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(baseURL + "/sfn"),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	if via != nil {
		o.HTTPClient = via
	}
	return sfn.New(o)
}

// TestDevServesSfnAPI: `ai3 dev` serves the Step Functions API at /sfn to
// the SDK on this machine, with every workflow of workflows/ registered at
// start-up.
func TestDevServesSfnAPI(t *testing.T) {
	d := startGuardDev(t)
	out, err := sfnClient(d.URL, nil).ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{})
	if err != nil {
		t.Fatalf("ListStateMachines from loopback: %v\n%s", err, d.Logs())
	}
	var names []string
	for _, m := range out.StateMachines {
		names = append(names, aws.ToString(m.Name))
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(workflows.Names()))
	if !slices.Equal(names, want) {
		t.Fatalf("state machines %v, want the workflows %v", names, want)
	}
	if !strings.Contains(d.Stdout.String(), "/sfn") || !strings.Contains(d.Stdout.String(), "local only") {
		t.Fatalf("the start-up text does not say the Step Functions API is local only:\n%s", d.Stdout)
	}
}

// TestDevOperatorEndpointsRefuseForwarded: a request that reached `ai3 dev`
// through a proxy or tunnel (one of the headers they add), or that names
// another host (a DNS-rebound page), is refused 403 on /sfn and /api/…,
// with a message and nothing else; the same request without them is
// answered. /webhook answers through the same headers as before.
func TestDevOperatorEndpointsRefuseForwarded(t *testing.T) {
	d := startGuardDev(t)
	ctx := context.Background()
	type variant struct {
		name   string
		header http.Header
		host   string
	}
	var variants []variant
	for _, h := range proxyHeaders {
		variants = append(variants, variant{name: h, header: http.Header{h: {"203.0.113.7"}}})
	}
	variants = append(variants, variant{name: "Host of another site", host: "rebound.example:80"})

	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			via := headerClient{header: v.header, host: v.host}
			_, err := sfnClient(d.URL, via).ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden || !strings.Contains(err.Error(), "AccessDeniedException") {
				t.Errorf("/sfn ListStateMachines answered %v, want 403 AccessDeniedException", err)
			}
			for _, path := range []string{"/api/jobs", "/api/jobs/some-job", "/api/deliveries", "/sfn/",
				"/sandbox/control/writes", "/sandbox/control/info", "/sandbox/control/runs"} {
				req, _ := http.NewRequest("GET", d.URL+path, nil)
				code, body := do(t, via, req)
				if code != http.StatusForbidden || !strings.Contains(body, "this machine only") || strings.Contains(body, "203.0.113.7") {
					t.Errorf("GET %s answered %d %s, want 403 saying it is local only", path, code, body)
				}
			}
			// The sandbox's control routes post as anyone: local only too.
			req, _ := http.NewRequest("POST", d.URL+"/sandbox/control/comments",
				strings.NewReader(`{"repo":"ai3-sandbox/app","issue":1,"user":"alice","body":"@ai3-mvp run deploy"}`))
			if code, body := do(t, via, req); code != http.StatusForbidden {
				t.Errorf("POST /sandbox/control/comments answered %d %s, want 403", code, body)
			}
			// The webhook is what a tunnel is for: it answers as it did.
			for i, signed := range []bool{true, false} {
				want := http.StatusOK
				if !signed {
					want = http.StatusUnauthorized
				}
				if code := postPing(t, d.URL, via, fmt.Sprintf("guard-%s-%d", strings.ReplaceAll(v.name, " ", "-"), i), signed); code != want {
					t.Errorf("/webhook (signed %v) through %s answered %d, want %d", signed, v.name, code, want)
				}
			}
		})
	}
	// From this machine, directly, the same routes answer.
	if _, err := sfnClient(d.URL, nil).ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil {
		t.Fatalf("/sfn from loopback: %v", err)
	}
	for path, want := range map[string]int{"/api/jobs": 200, "/api/jobs/some-job": 404, "/api/deliveries": 200, "/sandbox/control/writes": 200} {
		if code := d.JSON(t, "GET", path, nil, nil); code != want {
			t.Errorf("GET %s from loopback answered %d, want %d", path, code, want)
		}
	}
	if !strings.Contains(d.Logs(), "operator endpoint refused") || strings.Contains(d.Logs(), "203.0.113.7") {
		t.Errorf("the refusals are not logged, or the log holds a forwarded address:\n%s", d.Logs())
	}
}

// do sends r with c and returns the status and body.
func do(t *testing.T, c headerClient, r *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postPing posts GitHub's ping event to /webhook through c, signed with
// guardSecret or not at all.
func postPing(t *testing.T, base string, c headerClient, delivery string, signed bool) int {
	t.Helper()
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	req, _ := http.NewRequest("POST", base+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	if signed {
		req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte(guardSecret), body))
	}
	code, _ := do(t, c, req)
	return code
}

// TestDevJobHistoryHidesTaskTokens: a deploy run through the sandbox waits
// on its approval step; GET /api/jobs/{id} answers the job with its
// execution history, and neither holds a task token: none of those the
// execution issued, read through /sfn GetExecutionHistory from this
// machine (and live: a heartbeat with the approval's is accepted), occurs
// anywhere in the answer.
func TestDevJobHistoryHidesTaskTokens(t *testing.T) {
	d := startGuardDev(t)
	ctx := context.Background()
	var pr struct{ Number int }
	if code := d.JSON(t, "POST", "/sandbox/control/pulls", map[string]any{"repo": "ai3-sandbox/demo", "title": "feat: ship it", "user": "alice",
		"head": "feature-alice", "additions": 10, "deletions": 2}, &pr); code != 200 {
		t.Fatalf("open pull request: %d", code)
	}
	if code := d.JSON(t, "POST", "/sandbox/control/comments", map[string]any{"repo": "ai3-sandbox/demo", "issue": pr.Number, "user": "alice",
		"body": "@ai3-mvp run deploy smoke_url=" + d.URL + "/healthz"}, nil); code != 200 {
		t.Fatalf("comment: %d", code)
	}
	// Wait for the deploy job's approval step to wait.
	type jobView struct {
		ID           string `json:"id"`
		Workflow     string `json:"workflow"`
		ExecutionARN string `json:"execution_arn"`
		Steps        map[string]struct {
			Status    string `json:"status"`
			TaskToken string `json:"task_token"`
		} `json:"steps"`
	}
	var job jobView
	var raw []byte
	deadline := time.Now().Add(60 * time.Second)
	for {
		var list struct{ Jobs []jobView }
		d.JSON(t, "GET", "/api/jobs", nil, &list)
		for _, j := range list.Jobs {
			if j.Workflow == "deploy" {
				raw = getBody(t, d.URL+"/api/jobs/"+j.ID)
				var out struct{ Job jobView }
				if err := json.Unmarshal(raw, &out); err != nil {
					t.Fatalf("/api/jobs/%s: %v: %s", j.ID, err, raw)
				}
				job = out.Job
			}
		}
		if job.Steps["approval"].Status == "waiting" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no deploy job waiting on its approval within 60 s: %+v\n%s", job, d.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The tokens, as the Step Functions API shows them on this machine.
	c := sfnClient(d.URL, nil)
	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(job.ExecutionARN)})
	if err != nil {
		t.Fatalf("GetExecutionHistory of %s: %v", job.ExecutionARN, err)
	}
	tokens := map[string]string{} // step → token
	for _, ev := range hist.Events {
		if ev.Type != types.HistoryEventTypeTaskScheduled || ev.TaskScheduledEventDetails == nil {
			continue
		}
		var p struct {
			Payload struct {
				Step      string `json:"step"`
				TaskToken string `json:"TaskToken"`
			}
		}
		_ = json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &p)
		if p.Payload.TaskToken != "" {
			tokens[p.Payload.Step] = p.Payload.TaskToken
		}
	}
	approval := tokens["approval"]
	if approval == "" {
		t.Fatalf("no approval token in the execution history through /sfn: %v", tokens)
	}
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(approval)}); err != nil {
		t.Fatalf("the approval's token from /sfn is not live: %v", err)
	}

	// Read again now the tokens are known: the answer holds none of them.
	raw = getBody(t, d.URL+"/api/jobs/"+job.ID)
	for step, tok := range tokens {
		if strings.Contains(string(raw), tok) {
			t.Errorf("GET /api/jobs/%s shows the task token of step %s:\n%s", job.ID, step, raw)
		}
	}
	var out struct {
		Job     jobView
		History []localsfn.Event
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.History) < len(hist.Events) || out.Job.Steps["approval"].TaskToken != heldToken ||
		!strings.Contains(string(raw), `\"TaskToken\":\"(held)\"`) {
		t.Errorf("the answer lacks the history or the held tokens (%d events, %d through /sfn):\n%s", len(out.History), len(hist.Events), raw)
	}
}

// getBody GETs url and returns the body of a 200 answer.
func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// TestLocalOnly: only a request from a loopback address, with no proxy
// header and a loopback Host, reaches the handler; the refusal is logged
// without the headers' values.
func TestLocalOnly(t *testing.T) {
	var logs bytes.Buffer
	h := localOnly(slog.New(slog.NewTextHandler(&logs, nil)), apiLocalOnly, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "served")
	}))
	cases := []struct {
		name, remote, host string
		header             http.Header
		served             bool
	}{
		{"IPv4 loopback", "127.0.0.1:5000", "127.0.0.1:3000", nil, true},
		{"IPv6 loopback", "[::1]:5000", "[::1]:3000", nil, true},
		{"localhost", "127.0.0.1:5000", "localhost:3000", nil, true},
		{"every interface", "127.0.0.1:5000", "0.0.0.0:3000", nil, true},
		{"another 127 address", "127.0.0.2:5000", "127.0.0.2:3000", nil, true},
		{"from the network", "192.0.2.10:5000", "127.0.0.1:3000", nil, false},
		{"from the network, IPv6", "[2001:db8::1]:5000", "localhost:3000", nil, false},
		{"tunnel", "127.0.0.1:5000", "127.0.0.1:3000", http.Header{"Cf-Connecting-Ip": {"198.51.100.4"}}, false},
		{"proxy, lower case", "127.0.0.1:5000", "127.0.0.1:3000", http.Header{"X-Forwarded-For": {"198.51.100.4"}}, false},
		{"empty forwarded", "127.0.0.1:5000", "127.0.0.1:3000", http.Header{"Forwarded": {""}}, false},
		{"public host name", "127.0.0.1:5000", "ai3.example.com", nil, false},
		{"no host", "127.0.0.1:5000", "", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/jobs?secret=q", nil)
			r.RemoteAddr, r.Host = c.remote, c.host
			for k, v := range c.header {
				r.Header[http.CanonicalHeaderKey(k)] = v
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if c.served && (w.Code != 200 || w.Body.String() != "served") {
				t.Fatalf("refused a local client: %d %s", w.Code, w.Body)
			}
			if !c.served && (w.Code != 403 || w.Body.String() != apiLocalOnly || w.Header().Get("Content-Type") != "application/json") {
				t.Fatalf("answered %d %s, want 403 %s", w.Code, w.Body, apiLocalOnly)
			}
		})
	}
	if strings.Contains(logs.String(), "198.51.100.4") || strings.Contains(logs.String(), "secret=q") ||
		!strings.Contains(logs.String(), "CF-Connecting-IP") {
		t.Fatalf("refusal log: %s", logs.String())
	}
}

// TestRedactHistory: tokens found in the parameters of a .waitForTaskToken
// TaskScheduled event, and those the job record holds, are hidden in every
// event that carries them; a token-shaped value anywhere else is not a
// token; the history given is not changed.
func TestRedactHistory(t *testing.T) {
	tok := strings.Repeat("Ab_-", 16)       // 64 base64url characters
	held := strings.Repeat("Zz09", 16)      // the job record's
	other := strings.Repeat("0123abcd", 8)  // token-shaped, in a plain invoke
	notTok := strings.Repeat("x", 63) + "=" // not base64url
	params, _ := json.Marshal(map[string]any{"FunctionName": "f", "Payload": map[string]any{"TaskToken": tok, "note": notTok,
		"wrapped": "token:" + held, "list": []any{tok}}})
	h := []localsfn.Event{
		{ID: 1, Type: "ExecutionStarted", DetailsKey: "executionStartedEventDetails", Details: map[string]any{"input": `{"sha":"` + other + `"}`}},
		{ID: 2, Type: "TaskScheduled", DetailsKey: "taskScheduledEventDetails", Details: map[string]any{"resource": "invoke", "parameters": `{"Payload":{"x":"` + other + `"}}`}},
		{ID: 3, Type: "TaskScheduled", DetailsKey: "taskScheduledEventDetails", Details: map[string]any{"resource": "invoke.waitForTaskToken", "parameters": string(params), "timeoutInSeconds": int64(60)}},
		{ID: 4, Type: "TaskStarted"},
		{ID: 5, Type: "TaskSucceeded", DetailsKey: "taskSucceededEventDetails", Details: map[string]any{"output": `{"echo":"` + tok + `"}`}},
		{ID: 6, Type: "TaskFailed", DetailsKey: "taskFailedEventDetails", Details: map[string]any{"cause": "token " + held + " expired",
			"nested": map[string]any{"list": []any{tok, 1.5}}}},
	}
	before, _ := json.Marshal(h)
	got, _ := json.Marshal(redactHistory(h, []string{held, "", heldToken}))
	if after, _ := json.Marshal(h); !bytes.Equal(before, after) {
		t.Fatalf("redactHistory changed its argument:\n%s", after)
	}
	for _, secret := range []string{tok, held} {
		if strings.Contains(string(got), secret) {
			t.Errorf("token %s left in %s", secret, got)
		}
	}
	for _, kept := range []string{other, notTok, `"timeoutInSeconds":60`, `token:(held)`, `\"TaskToken\":\"(held)\"`, `{\"echo\":\"(held)\"}`} {
		if !strings.Contains(string(got), kept) {
			t.Errorf("%s not in %s", kept, got)
		}
	}
	if r := redactHistory(h[:2], nil); &r[0] != &h[0] {
		t.Errorf("a history without tokens was copied")
	}
}
