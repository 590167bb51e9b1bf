package localsfn

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// A DISTRIBUTED Map's iterations are child executions: the parent's history
// shows the Map Run (MapRunStarted, then MapRunFailed with the failure)
// and none of the iterations' events.
func TestHistoryDistributedMapRunFailed(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	def := `{"StartAt":"Prep","States":{
	  "Prep":{"Type":"Pass","Next":"Each"},
	  "Each":{"Type":"Map","Label":"Batch","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
	    "StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"Bad","Cause":"item failed"}}},"End":true}}}`
	d := runDef(t, ex, def, `[1,2]`)
	assertFailed(t, d, "Bad")
	events, err := ex.GetExecutionHistory(context.Background(), d.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "MapStateEntered", "MapStateStarted",
		"MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"}
	if got := eventTypes(events); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	run := events[5]
	if arn, _ := run.Details["mapRunArn"].(string); !strings.HasPrefix(arn, "arn:aws:states:us-east-1:000000000000:mapRun:test/Batch:") {
		t.Errorf("mapRunArn %q", arn)
	}
	failed := events[6]
	if failed.Details["error"] != "Bad" || failed.Details["cause"] != "item failed" || failed.PreviousEventID != run.ID {
		t.Errorf("MapRunFailed %+v", failed)
	}
	if events[7].PreviousEventID != failed.ID {
		t.Errorf("MapStateFailed follows %d, want the MapRunFailed event %d", events[7].PreviousEventID, failed.ID)
	}
}

// An inline Map whose failing attempt is retried records no MapStateFailed
// for that attempt: the next MapStateStarted follows the failed iteration's
// last state event, as in AWS's recorded histories.
func TestHistoryMapRetryLinks(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","MaxConcurrency":1,
	  "ItemProcessor":{"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"Bad"}}},
	  "Retry":[{"ErrorEquals":["Bad"],"MaxAttempts":1,"IntervalSeconds":1}],"End":true}}}`
	d := runDef(t, ex, def, `[1]`)
	assertFailed(t, d, "Bad")
	events, err := ex.GetExecutionHistory(context.Background(), d.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ExecutionStarted", "MapStateEntered",
		"MapStateStarted", "MapIterationStarted", "FailStateEntered", "MapIterationFailed",
		"MapStateStarted", "MapIterationStarted", "FailStateEntered", "MapIterationFailed",
		"MapStateFailed", "ExecutionFailed"}
	if got := eventTypes(events); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if events[6].PreviousEventID != events[4].ID || events[10].PreviousEventID != events[8].ID {
		t.Errorf("retry MapStateStarted follows %d (want %d), MapStateFailed follows %d (want %d)",
			events[6].PreviousEventID, events[4].ID, events[10].PreviousEventID, events[8].ID)
	}
}
