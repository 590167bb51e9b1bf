package localsfn

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestExpressRefusesCallbacks(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"T","States":{"T":{"Type":"Task",
	  "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}}}]}}}`
	_, err := ex.CreateStateMachine(context.Background(), "x", []byte(def), Express)
	var de *DefinitionError
	if !errors.As(err, &de) || de.State != "T" {
		t.Fatalf("want a DefinitionError naming state T, got %v", err)
	}
	if _, err := ex.CreateStateMachine(context.Background(), "x", []byte(def), Standard); err != nil {
		t.Fatalf("STANDARD machines may wait for tokens: %v", err)
	}
}

func TestExpressTimesOutAfterFiveMinutes(t *testing.T) {
	clock := NewFakeClock(testEpoch)
	ex := newTestExecutor(t, Options{Clock: clock})
	ctx := context.Background()
	arn, _ := ex.CreateStateMachine(ctx, "slow", []byte(waitHour), Express)
	out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	clock.BlockUntil(2) // the five-minute limit and the Wait
	clock.Advance(5 * time.Minute)
	if d := wait(t, ex, out.ExecutionArn); d.Status != StatusTimedOut {
		t.Errorf("status %s, want TIMED_OUT", d.Status)
	}
}

func TestStopDurableExecutionNotRunningHere(t *testing.T) {
	dir := t.TempDir()
	log := &invocationLog{path: filepath.Join(dir, "calls.log")}
	clock := NewFakeClock(testEpoch)
	ex, db := openExecutor(t, filepath.Join(dir, "sfn.db"), clock, log)
	defer db.Close()
	arn := start(t, ex, "durable", durableDef, `{}`)
	clock.BlockUntil(1)
	ex.Close() // the process stops; the execution stays RUNNING in the database

	ex2, err := New(context.Background(), Options{DB: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer ex2.Close()
	if err := ex2.StopExecution(context.Background(), arn, "Ops", "cleanup"); err != nil {
		t.Fatal(err)
	}
	d, err := ex2.DescribeExecution(context.Background(), arn)
	if err != nil || d.Status != StatusAborted || d.Error != "Ops" || d.Cause != "cleanup" {
		t.Fatalf("%+v %v", d, err)
	}
	if n, _ := ex2.Resume(context.Background()); n != 0 {
		t.Errorf("a stopped execution must not resume, resumed %d", n)
	}
}

func TestExpressRunsAgainAfterRestart(t *testing.T) {
	dir := t.TempDir()
	log := &invocationLog{path: filepath.Join(dir, "calls.log")}
	def := `{"StartAt":"Count","States":{
	  "Count":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:count","Parameters":{"step":"count1"},"Next":"Wait"},
	  "Wait":{"Type":"Wait","Seconds":60,"End":true}}}`
	clock := NewFakeClock(testEpoch)
	ex, db := openExecutor(t, filepath.Join(dir, "sfn.db"), clock, log)
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, "fast", []byte(def), Express)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	clock.BlockUntil(2) // five-minute limit + Wait
	ex.Close()
	db.Close()

	ex, db = openExecutor(t, filepath.Join(dir, "sfn.db"), NewAutoClock(testEpoch), log)
	defer db.Close()
	defer ex.Close()
	if n, err := ex.Resume(ctx); err != nil || n != 1 {
		t.Fatalf("resumed %d, %v", n, err)
	}
	if d := wait(t, ex, out.ExecutionArn); d.Status != StatusSucceeded {
		t.Fatalf("%+v", d)
	}
	if got := log.count(t, "count1"); got != 2 {
		t.Errorf("an EXPRESS execution runs again from the start after a restart: count1 ran %d times, want 2", got)
	}
}
