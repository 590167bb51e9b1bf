package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestStubUnderRIE runs the built Lambda under aws-lambda-rie with an
// EventBridge event and checks its stdout: a JSON log line with the delivery
// id and an EMF EventsReceived line, and nothing of the payload.
func TestStubUnderRIE(t *testing.T) {
	fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: []string{"AWS_REGION=us-east-1"}})
	event, err := os.ReadFile("testdata/eventbridge_event.json")
	if err != nil {
		t.Fatal(err)
	}
	if out := fn.Invoke(t, event); strings.Contains(string(out), "errorMessage") {
		t.Fatalf("invoke failed: %s\n%s", out, fn.Logs())
	}
	if out := fn.Invoke(t, []byte(`{"id":"x","source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)); !strings.Contains(string(out), "errorMessage") {
		t.Fatalf("a foreign event succeeded: %s", out)
	}
	var logged, metric bool
	for _, line := range fn.JSONLines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %s", line)
		}
		if m["msg"] == "event received" && m["delivery_id"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958" {
			logged = true
		}
		if _, ok := m["_aws"]; ok && m["EventsReceived"] == 1.0 && m["Event"] == "issue_comment" {
			metric = true
		}
	}
	if !logged || !metric {
		t.Fatalf("logged=%v metric=%v; stdout:\n%s", logged, metric, fn.Logs())
	}
	if strings.Contains(fn.Logs(), "SECRET_IN_PAYLOAD") {
		t.Fatal("the payload reached the logs")
	}
}
