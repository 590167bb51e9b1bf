package sfnapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// recordedCase is the part of a ../shared/asl-conformance case this test reads.
type recordedCase struct {
	Name   string          `json:"name"`
	Def    json.RawMessage `json:"definition"`
	Input  json.RawMessage `json:"input"`
	Source struct {
		Type string `json:"state_machine_type"`
	} `json:"source"`
}

// TestConformanceThroughTheAPI runs every recorded AWS execution twice —
// in-process with Executor.Run, and through the API with the SDK
// (CreateStateMachine, StartExecution, DescribeExecution,
// GetExecutionHistory) — and requires the same results: status, output,
// error and cause, and a history the SDK reads event for event as the
// executor recorded it. (internal/localsfn's TestConformance holds the
// in-process results to AWS's recordings.)
func TestConformanceThroughTheAPI(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 150 {
		t.Fatalf("want the 150 recorded cases in %s, found %d (%v)", dir, len(files), err)
	}
	epoch := time.Date(2024, 3, 22, 21, 0, 0, 0, time.UTC)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c recordedCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(c.Name, func(t *testing.T) {
			typ := c.Source.Type
			if typ == "" {
				typ = localsfn.Standard
			}
			want := inProcess(t, c, typ, epoch)
			// a fresh executor at the same time, so $$ reads alike but for ids
			a := newAPI(t, localsfn.Options{Clock: localsfn.NewAutoClock(epoch), ExpressHistory: true})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			name := "conformance"
			created, err := a.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
				Name: aws.String(name), Definition: aws.String(string(c.Def)), RoleArn: aws.String(role), Type: types.StateMachineType(typ),
			})
			if err != nil {
				t.Fatalf("CreateStateMachine: %v", err)
			}
			started, err := a.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(string(c.Input))})
			if err != nil {
				t.Fatalf("StartExecution: %v", err)
			}
			d := a.waitDone(t, aws.ToString(started.ExecutionArn))
			got := &localsfn.ExecutionDescription{
				Status: string(d.Status), Output: aws.ToString(d.Output), Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause),
				HasError: d.Error != nil, HasCause: d.Cause != nil,
			}
			if got.Status != want.Status || !sameJSONOrEmpty(withoutIDs(got.Output), withoutIDs(want.Output)) || got.HasError != want.HasError || got.Error != want.Error ||
				got.HasCause != want.HasCause || withoutIDs(got.Cause) != withoutIDs(want.Cause) {
				t.Fatalf("through the API: %s %s %q %q\n        in-process: %s %s %q %q", got.Status, got.Output, got.Error, got.Cause, want.Status, want.Output, want.Error, want.Cause)
			}
			sdkEvents := a.history(t, aws.ToString(started.ExecutionArn))
			recorded, err := a.ex.GetExecutionHistory(ctx, aws.ToString(started.ExecutionArn))
			if err != nil {
				t.Fatal(err)
			}
			if len(sdkEvents) != len(recorded) || len(recorded) == 0 {
				t.Fatalf("SDK read %d events, the executor recorded %d", len(sdkEvents), len(recorded))
			}
			raw := rawHistory(t, a.srv.URL, aws.ToString(started.ExecutionArn))
			for j, ev := range recorded {
				s := sdkEvents[j]
				if s.Id != ev.ID || s.PreviousEventId != ev.PreviousEventID || string(s.Type) != ev.Type {
					t.Fatalf("event %d: SDK read %d/%d %s, recorded %d/%d %s", j, s.Id, s.PreviousEventId, s.Type, ev.ID, ev.PreviousEventID, ev.Type)
				}
				wantDoc := roundTrip(t, sfnapi.EventDocument(ev, true))
				delete(wantDoc, "timestamp")
				delete(raw[j], "timestamp")
				if !reflect.DeepEqual(raw[j], wantDoc) {
					t.Fatalf("event %d on the wire: %v\nrecorded: %v", j, raw[j], wantDoc)
				}
			}
		})
	}
}

// inProcess runs the case with Executor.Run, as TestConformance does.
func inProcess(t *testing.T, c recordedCase, typ string, epoch time.Time) *localsfn.ExecutionDescription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ex, err := localsfn.New(ctx, localsfn.Options{Clock: localsfn.NewAutoClock(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	d, err := ex.Run(ctx, "conformance", c.Def, typ, string(c.Input))
	if err != nil {
		t.Fatalf("in-process run: %v", err)
	}
	return d
}

func rawHistory(t *testing.T, url, arn string) []map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"executionArn": arn, "maxResults": 1000})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.GetExecutionHistory")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var doc struct{ Events []map[string]any }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("GetExecutionHistory answered %s", data)
	}
	return doc.Events
}

func roundTrip(t *testing.T, v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

func sameJSONOrEmpty(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	return sameJSON(a, b)
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// withoutIDs hides what is random per execution (execution names, UUIDs
// from States.UUID, request ids), so two runs of a case compare equal.
func withoutIDs(s string) string { return uuidPattern.ReplaceAllString(s, "<uuid>") }
