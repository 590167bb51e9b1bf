package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestAlertUnderRIE feeds the built Lambda an SQS batch of DLQ messages (one
// from EventBridge's DLQ, one from a Lambda async DLQ, one with a garbage
// body) and checks each was logged with its reason and counted.
func TestAlertUnderRIE(t *testing.T) {
	fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: []string{"AWS_REGION=us-east-1"}})
	event, err := os.ReadFile("testdata/sqs_dlq_event.json")
	if err != nil {
		t.Fatal(err)
	}
	out := fn.Invoke(t, event)
	var resp struct {
		BatchItemFailures []any `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("answer %s (%v), want no batch item failures\n%s", out, err, fn.Logs())
	}
	reasons, metrics := 0, 0
	for _, line := range fn.JSONLines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %s", line)
		}
		if m["msg"] == "event dead-lettered" {
			reasons++
			if r, _ := m["reason"].(string); r == "" {
				t.Errorf("alert without a reason: %s", line)
			}
		}
		if _, ok := m["_aws"]; ok && m["DeadLetters"] == 1.0 {
			metrics++
		}
	}
	if reasons != 3 || metrics != 3 {
		t.Fatalf("%d alert lines and %d metrics, want 3 each; stdout:\n%s", reasons, metrics, fn.Logs())
	}
	if !strings.Contains(fn.Logs(), "Rate Exceeded") {
		t.Fatal("the EventBridge error message is not in the logs")
	}
}
