package localsfn

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestHistoryGolden pins the full GetExecutionHistory output (event types,
// ids, previousEventId links, timestamps and details) of a deterministic
// execution. Run `go test ./internal/localsfn -run TestHistoryGolden -update`
// after an intended change and review the diff.
func TestHistoryGolden(t *testing.T) {
	ex := newTestExecutor(t, Options{Handlers: map[string]Handler{
		"greet": handler(func(in map[string]any) (any, error) { return map[string]any{"hello": in["who"]}, nil }),
	}})
	def := `{"StartAt":"Prepare","States":{
	  "Prepare":{"Type":"Pass","Parameters":{"who.$":"$.name","items":[1,2]},"Next":"Greet"},
	  "Greet":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:greet","ResultPath":"$.greeting","Next":"Branch"},
	  "Branch":{"Type":"Parallel","Branches":[{"StartAt":"Pause","States":{"Pause":{"Type":"Wait","Seconds":5,"End":true}}}],"ResultPath":null,"Next":"Each"},
	  "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"ItemProcessor":{"StartAt":"Check","States":{
	     "Check":{"Type":"Choice","Choices":[{"Variable":"$","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"},
	     "Big":{"Type":"Succeed"},"Small":{"Type":"Pass","Result":"small","End":true}}},"ResultPath":"$.sizes","Next":"Done"},
	  "Done":{"Type":"Fail","Error":"Golden.End","Cause":"the end"}}}`
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, "golden", []byte(def), Standard)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Name: "golden-1", Input: `{"name":"ai3"}`})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, ex, out.ExecutionArn)
	h, err := ex.GetExecutionHistory(ctx, out.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(map[string]any{"events": h}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "history.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("history differs from %s (run with -update after an intended change):\n%s", golden, got)
	}
}
