package localsfn

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// durableDef runs a task, waits an hour, runs another task, then waits for a
// task token: every kind of point a process can die at.
const durableDef = `{"StartAt":"Count1","States":{
  "Count1":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:count","Parameters":{"step":"count1","in.$":"$"},"ResultPath":"$.c1","Assign":{"first.$":"$"},"Next":"Wait"},
  "Wait":{"Type":"Wait","Seconds":3600,"Next":"Count2"},
  "Count2":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:count","Parameters":{"step":"count2"},"ResultPath":"$.c2","Next":"Approve"},
  "Approve":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"ask","Payload":{"token.$":"$$.Task.Token"}},"ResultPath":"$.approval","Next":"Done"},
  "Done":{"Type":"Pass","Parameters":{"first.$":"$first","all.$":"$"},"End":true}}}`

// invocationLog records handler invocations in a file shared by the processes.
type invocationLog struct {
	mu   sync.Mutex
	path string
}

func (l *invocationLog) handlers() map[string]Handler {
	return map[string]Handler{
		"count": handler(func(in map[string]any) (any, error) { l.add(in["step"].(string)); return in["step"], nil }),
		"ask":   handler(func(in map[string]any) (any, error) { l.add("token " + in["token"].(string)); return nil, nil }),
	}
}

func (l *invocationLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Fprintln(f, line)
	f.Sync()
}

func (l *invocationLog) lines(t *testing.T) []string {
	data, err := os.ReadFile(l.path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(data), "token ", "token:"))
}

func (l *invocationLog) count(t *testing.T, prefix string) int {
	n := 0
	for _, line := range l.lines(t) {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

func openExecutor(t *testing.T, dbPath string, clock Clock, log *invocationLog) (*Executor, *sql.DB) {
	t.Helper()
	db, err := OpenDB(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(context.Background(), Options{DB: db, Clock: clock, Handlers: log.handlers()})
	if err != nil {
		t.Fatal(err)
	}
	return ex, db
}

// TestHelperProcess is the process that gets killed in TestResumeAfterKill.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("LOCALSFN_HELPER") != "1" {
		t.Skip("helper process for TestResumeAfterKill")
	}
	clock := NewFakeClock(testEpoch)
	log := &invocationLog{path: os.Getenv("LOCALSFN_LOG")}
	ex, _ := openExecutor(t, os.Getenv("LOCALSFN_DB"), clock, log)
	arn, err := ex.CreateStateMachine(context.Background(), "durable", []byte(durableDef), Standard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.StartExecution(context.Background(), StartExecutionInput{StateMachineArn: arn, Name: "kill-me", Input: `{"n":1}`}); err != nil {
		t.Fatal(err)
	}
	clock.BlockUntil(1) // parked in the Wait state, checkpoint written
	fmt.Println("READY")
	time.Sleep(time.Minute) // killed long before this
}

func TestResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	dbPath, logPath := filepath.Join(dir, "sfn.db"), filepath.Join(dir, "calls.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "LOCALSFN_HELPER=1", "LOCALSFN_DB="+dbPath, "LOCALSFN_LOG="+logPath)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the helper process ended before reaching the Wait state")
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the helper process never reached the Wait state")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()

	log := &invocationLog{path: logPath}
	if got := log.count(t, "count1"); got != 1 {
		t.Fatalf("before the kill count1 ran %d times", got)
	}

	// A new process resumes in the Wait state, with the hour counted from
	// when the state was entered, and runs on to the task token.
	clock := NewFakeClock(testEpoch)
	ex, db := openExecutor(t, dbPath, clock, log)
	n, err := ex.Resume(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("resumed %d executions, err %v", n, err)
	}
	arn := "arn:aws:states:us-east-1:000000000000:execution:durable:kill-me"
	clock.BlockUntil(1)
	clock.Advance(time.Hour)
	deadline := time.Now().Add(30 * time.Second)
	for log.count(t, "token:") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the token task was never invoked; calls %v", log.lines(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
	token := strings.TrimPrefix(log.lines(t)[len(log.lines(t))-1], "token:")
	ex.Close() // the process stops while the task waits for its token
	db.Close()

	// A third process resumes waiting for the same token, without invoking
	// the task again, and completes when the token is answered.
	ex, db = openExecutor(t, dbPath, NewFakeClock(testEpoch.Add(time.Hour)), log)
	defer db.Close()
	defer ex.Close()
	if n, err := ex.Resume(context.Background()); err != nil || n != 1 {
		t.Fatalf("resumed %d executions, err %v", n, err)
	}
	if err := ex.SendTaskSuccess(context.Background(), token, json.RawMessage(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	d := wait(t, ex, arn)
	// $first was assigned before the first kill: variables survive restarts.
	assertOutput(t, d, `{"first":"count1","all":{"n":1,"c1":"count1","c2":"count2","approval":{"ok":true}}}`)
	for _, step := range []string{"count1", "count2", "token:"} {
		if got := log.count(t, step); got != 1 {
			t.Errorf("%s ran %d times across the restarts, want exactly once (calls %v)", step, got, log.lines(t))
		}
	}
	h, err := ex.GetExecutionHistory(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	started := 0
	for i, e := range h {
		if e.Type == "ExecutionStarted" {
			started++
		}
		if i > 0 && e.ID <= h[i-1].ID {
			t.Errorf("event ids not increasing at %d: %d after %d", i, e.ID, h[i-1].ID)
		}
	}
	if started != 1 || h[len(h)-1].Type != "ExecutionSucceeded" {
		t.Errorf("history across restarts: %v", eventTypes(h))
	}
	// The finished execution is described from the database by a fresh executor too.
	ex2, err := New(context.Background(), Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := ex2.DescribeExecution(context.Background(), arn); err != nil || d2.Status != StatusSucceeded || d2.Output != d.Output {
		t.Errorf("described from the database: %+v %v", d2, err)
	}
}

// TestCheckpointFaultLosesNothing breaks the database under a running
// execution: the execution cannot go on, but its durable record stays at the
// last good checkpoint and a restarted executor finishes it.
func TestCheckpointFaultLosesNothing(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "sfn.db")
	log := &invocationLog{path: filepath.Join(dir, "calls.log")}
	clock := NewFakeClock(testEpoch)
	ex, db := openExecutor(t, dbPath, clock, log)
	arn := start(t, ex, "durable", durableDef, `{"n":2}`)
	clock.BlockUntil(1) // in the Wait state
	db.Close()          // the fault: every later write fails
	clock.Advance(time.Hour)
	d := wait(t, ex, arn)
	if d.Status != StatusFailed || !strings.Contains(d.Cause, "checkpoint") {
		t.Fatalf("in memory: %s %s %s", d.Status, d.Error, d.Cause)
	}
	ex.Close()

	ex, db = openExecutor(t, dbPath, NewAutoClock(testEpoch.Add(time.Hour)), log)
	defer db.Close()
	defer ex.Close()
	if d, err := ex.DescribeExecution(context.Background(), arn); err != nil || d.Status != StatusRunning {
		t.Fatalf("the durable record must still say RUNNING: %+v %v", d, err)
	}
	if n, err := ex.Resume(context.Background()); err != nil || n != 1 {
		t.Fatalf("resume: %d %v", n, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for log.count(t, "token:") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the resumed token task was never invoked; calls %v", log.lines(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
	lines := log.lines(t)
	token := strings.TrimPrefix(lines[len(lines)-1], "token:")
	if err := ex.SendTaskSuccess(context.Background(), token, json.RawMessage(`true`)); err != nil {
		t.Fatal(err)
	}
	assertOutput(t, wait(t, ex, arn), `{"first":"count1","all":{"n":2,"c1":"count1","c2":"count2","approval":true}}`)
	if got := log.count(t, "count1"); got != 1 {
		t.Errorf("count1 ran %d times, want once: %v", got, log.lines(t))
	}
}

// TestResumeKeepsFinishedIterations stops the process while one Map
// iteration waits and the others are done: after the restart only the
// unfinished iteration runs again.
func TestResumeKeepsFinishedIterations(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "sfn.db")
	log := &invocationLog{path: filepath.Join(dir, "calls.log")}
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemSelector":{"step.$":"States.Format('item-{}', $$.Map.Item.Value)","v.$":"$$.Map.Item.Value"},
	  "ItemProcessor":{"StartAt":"Slow?","States":{
	    "Slow?":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericGreaterThan":2,"Next":"Hold"}],"Default":"Count"},
	    "Hold":{"Type":"Wait","Seconds":3600,"Next":"Count"},
	    "Count":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:count","End":true}}},"End":true}}}`
	clock := NewFakeClock(testEpoch)
	ex, db := openExecutor(t, dbPath, clock, log)
	arn := start(t, ex, "each", def, `[1,2,3]`)
	deadline := time.Now().Add(30 * time.Second)
	for log.count(t, "item-") < 2 || clock.Waiters() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("iterations 1 and 2 never finished: %v", log.lines(t))
		}
		time.Sleep(2 * time.Millisecond)
	}
	for { // wait until both finished iterations are recorded
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sfn_partials`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d finished iterations recorded, want 2", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	ex.Close()
	db.Close()

	clock = NewFakeClock(testEpoch)
	ex, db = openExecutor(t, dbPath, clock, log)
	defer db.Close()
	defer ex.Close()
	if n, err := ex.Resume(context.Background()); err != nil || n != 1 {
		t.Fatalf("resumed %d, %v", n, err)
	}
	clock.BlockUntil(1)
	clock.Advance(time.Hour)
	assertOutput(t, wait(t, ex, arn), `["item-1","item-2","item-3"]`)
	for _, step := range []string{"item-1", "item-2", "item-3"} {
		if got := log.count(t, step); got != 1 {
			t.Errorf("%s ran %d times, want once (calls %v)", step, got, log.lines(t))
		}
	}
}
