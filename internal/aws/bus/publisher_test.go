package bus

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
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/publishertest"
)

const busName = "ai3-dev-bus"

// fakeEventBridge checks each request against the PutEvents wire format and
// answers from a script: each answer is used once, then the last repeats.
type fakeEventBridge struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	calls   int
	got     []*events.Envelope
	answers []answer
}

type answer struct {
	status int
	body   string // "" means: accept every entry
}

func accepted(n int) string {
	entries := make([]string, n)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"EventId":"11111111-2222-3333-4444-%012d"}`, i)
	}
	return `{"FailedEntryCount":0,"Entries":[` + strings.Join(entries, ",") + `]}`
}

func newFake(t *testing.T, answers ...answer) *fakeEventBridge {
	f := &fakeEventBridge{t: t, answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEventBridge) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	wireErr := func(format string, args ...any) {
		t.Errorf("wire: "+format, args...)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ValidationException","message":"test server rejected the request"}`)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		wireErr("%s %s, want POST /", r.Method, r.URL.Path)
		return
	}
	if r.Header.Get("X-Amz-Target") == "AWSEvents.DescribeEventBus" {
		f.describe(w, r)
		return
	}
	if got := r.Header.Get("X-Amz-Target"); got != "AWSEvents.PutEvents" {
		wireErr("X-Amz-Target = %q", got)
		return
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		wireErr("Content-Type = %q", got)
		return
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/events/aws4_request") {
		wireErr("Authorization %q is not SigV4 for service events", auth)
		return
	}
	var body struct {
		Entries []struct {
			Source, DetailType, Detail, EventBusName string
			Time                                     *float64
		}
	}
	raw, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		wireErr("body %s: %v", raw, err)
		return
	}
	if len(body.Entries) != 1 {
		wireErr("%d entries, want 1", len(body.Entries))
		return
	}
	e := body.Entries[0]
	var env events.Envelope
	if err := json.Unmarshal([]byte(e.Detail), &env); err != nil {
		wireErr("Detail is not an envelope: %v", err)
		return
	}
	if e.Source != events.Source || e.DetailType != env.Event || e.EventBusName != busName || (e.Time == nil) != env.ReceivedAt.IsZero() {
		wireErr("entry Source=%q DetailType=%q EventBusName=%q Time=%v, want %q, %q, %q, time set iff received_at is", e.Source, e.DetailType, e.EventBusName, e.Time, events.Source, env.Event, busName)
		return
	}
	if e.Time != nil && int64(*e.Time) != env.ReceivedAt.Unix() {
		wireErr("entry Time %v is not received_at %v", *e.Time, env.ReceivedAt)
		return
	}
	f.mu.Lock()
	a := answer{status: 200}
	if f.calls < len(f.answers) {
		a = f.answers[f.calls]
	} else if len(f.answers) > 0 {
		a = f.answers[len(f.answers)-1]
	}
	f.calls++
	if a.status == 200 && a.body == "" {
		f.got = append(f.got, &env)
		a.body = accepted(1)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func client(url string) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		RetryMaxAttempts: 1,
	})
}

func fastOpts() Options { return Options{MaxAttempts: 3, RetryDelay: time.Millisecond} }

func TestPublisherContract(t *testing.T) {
	publishertest.Run(t, func(t *testing.T) publishertest.Harness {
		f := newFake(t)
		return publishertest.Harness{
			Publisher: New(client(f.srv.URL), busName, fastOpts()),
			Received: func(t *testing.T, n int) []*events.Envelope {
				f.mu.Lock()
				defer f.mu.Unlock()
				if len(f.got) < n {
					t.Fatalf("EventBridge received %d envelopes, want %d", len(f.got), n)
				}
				return append([]*events.Envelope(nil), f.got...)
			},
			Break: f.srv.Close,
		}
	})
}

func partial(code, msg string) answer {
	return answer{200, fmt.Sprintf(`{"FailedEntryCount":1,"Entries":[{"ErrorCode":%q,"ErrorMessage":%q}]}`, code, msg)}
}

func TestPartialFailures(t *testing.T) {
	env := &events.Envelope{DeliveryID: "d-1", Event: "push", HookID: "1", ReceivedAt: time.Now(), PayloadComplete: true, Payload: json.RawMessage(`{}`)}
	tests := []struct {
		name      string
		answers   []answer
		wantErr   string // "" means success
		wantCalls int
		wantGot   int
	}{
		{"accepted", nil, "", 1, 1},
		{"transient then accepted", []answer{partial("InternalFailure", "try again"), {200, ""}}, "", 2, 1},
		{"throttled entry twice then accepted", []answer{partial("ThrottlingException", "slow"), partial("ThrottlingException", "slow"), {200, ""}}, "", 3, 1},
		{"transient every time", []answer{partial("InternalFailure", "down")}, "InternalFailure: down", 3, 0},
		{"permanent entry error", []answer{partial("MalformedDetail", "bad detail")}, "MalformedDetail: bad detail", 1, 0},
		{"failed count without entries", []answer{{200, `{"FailedEntryCount":1,"Entries":[]}`}}, "entry rejected", 1, 0},
		{"service error", []answer{{400, `{"__type":"ResourceNotFoundException","message":"Event bus ai3-dev-bus does not exist."}`}}, "ResourceNotFoundException", 1, 0},
		{"server error", []answer{{500, `{"__type":"InternalException","message":"oops"}`}}, "InternalException", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.answers...)
			err := New(client(f.srv.URL), busName, fastOpts()).Publish(context.Background(), env)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "d-1")) {
				t.Fatalf("Publish = %v, want an error naming d-1 and %q", err, tt.wantErr)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.calls != tt.wantCalls || len(f.got) != tt.wantGot {
				t.Fatalf("%d PutEvents calls, %d accepted; want %d, %d", f.calls, len(f.got), tt.wantCalls, tt.wantGot)
			}
		})
	}
}

func TestOversizedEntryIsRefusedBeforeSending(t *testing.T) {
	f := newFake(t)
	env := &events.Envelope{DeliveryID: "big", Event: "push", HookID: "1", ReceivedAt: time.Now(), PayloadComplete: true,
		Payload: json.RawMessage(`{"x":"` + strings.Repeat("a", MaxEntrySize) + `"}`)}
	err := New(client(f.srv.URL), busName, fastOpts()).Publish(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "over EventBridge") {
		t.Fatalf("Publish = %v, want a size error", err)
	}
	if f.calls != 0 {
		t.Fatalf("oversized entry was sent (%d calls)", f.calls)
	}
}

func TestCancelledWhileRetrying(t *testing.T) {
	f := newFake(t, partial("InternalFailure", "down"))
	ctx, cancel := context.WithCancel(context.Background())
	p := New(client(f.srv.URL), busName, Options{MaxAttempts: 5, RetryDelay: time.Hour})
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := p.Publish(ctx, &events.Envelope{DeliveryID: "c", Event: "push", HookID: "1"}); err == nil || ctx.Err() == nil {
		t.Fatalf("Publish = %v after cancellation", err)
	}
}

// describe answers DescribeEventBus for busName only.
func (f *fakeEventBridge) describe(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.t.Errorf("DescribeEventBus body: %v", err)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if in.Name != busName {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"ResourceNotFoundException","message":"Event bus %s does not exist."}`, in.Name)
		return
	}
	fmt.Fprintf(w, `{"Name":%q,"Arn":"arn:aws:events:eu-west-1:111122223333:event-bus/%s"}`, busName, busName)
}

func TestCheck(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	if err := New(client(f.srv.URL), busName, Options{}).Check(ctx); err != nil {
		t.Fatalf("Check of an existing bus: %v", err)
	}
	if err := New(client(f.srv.URL), "gone", Options{}).Check(ctx); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("Check of a missing bus = %v", err)
	}
}
