package localsfn

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// passChain builds an n-state chain of Pass states, each with Parameters.
func passChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Parameters":{"step":%d,"id.$":"$.id","data.$":"$.data"},%s}`, i, i, next)
	}
	b.WriteString(`}}`)
	return b.String()
}

// BenchmarkPassChain measures state transitions per second through a
// 100-state Pass chain with Parameters (EXPRESS: no history, no database).
// Run with -cpu=1 for the one-core figure.
func BenchmarkPassChain(b *testing.B) {
	ex := newTestExecutor(b, Options{})
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, "chain", []byte(passChain(100)), Express)
	if err != nil {
		b.Fatal(err)
	}
	input := `{"id":"abc","data":{"k":[1,2,3],"s":"text"}}`
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Input: input})
		if err != nil {
			b.Fatal(err)
		}
		d, err := ex.WaitExecution(ctx, out.ExecutionArn)
		if err != nil || d.Status != StatusSucceeded {
			b.Fatalf("%v %v", d, err)
		}
		n++
	}
	b.ReportMetric(float64(n*100)/time.Since(start).Seconds(), "transitions/s")
}

// waitingWorkflow is 10 states: build 100 items, an inline Map over them,
// six Pass states, then a Wait that holds the execution.
const waitingWorkflow = `{"StartAt":"Init","States":{
  "Init":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 100, 1)","id.$":"$.id"},"Next":"Map"},
  "Map":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"n.$":"$$.Map.Item.Value"},
    "ItemProcessor":{"StartAt":"Item","States":{"Item":{"Type":"Pass","Parameters":{"double.$":"States.MathAdd($.n, $.n)"},"End":true}}},
    "ResultSelector":{"count.$":"States.ArrayLength($)"},"ResultPath":"$.mapped","Next":"P1"},
  "P1":{"Type":"Pass","ResultPath":"$.p1","Result":1,"Next":"P2"},
  "P2":{"Type":"Pass","ResultPath":"$.p2","Result":2,"Next":"P3"},
  "P3":{"Type":"Pass","ResultPath":"$.p3","Result":3,"Next":"P4"},
  "P4":{"Type":"Pass","ResultPath":"$.p4","Result":4,"Next":"P5"},
  "P5":{"Type":"Pass","ResultPath":"$.p5","Result":5,"Next":"P6"},
  "P6":{"Type":"Pass","OutputPath":"$.mapped","Next":"Hold"},
  "Hold":{"Type":"Wait","Seconds":60,"Next":"Done"},
  "Done":{"Type":"Succeed"}}}`

// BenchmarkWaitingExecutions starts 10,000 EXPRESS executions of
// waitingWorkflow, lets each run its Map of 100 items and park in the Wait
// state, and reports the memory they hold while waiting. Run with -benchtime=1x.
func BenchmarkWaitingExecutions(b *testing.B) {
	for b.Loop() {
		benchWaiting(b, Express, 10000, nil)
	}
}

// BenchmarkWaitingExecutionsDurable does the same with 1,000 STANDARD
// executions kept in SQLite (history and checkpoints written as they run).
func BenchmarkWaitingExecutionsDurable(b *testing.B) {
	for b.Loop() {
		db, err := OpenDB(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		benchWaiting(b, Standard, 1000, db)
		db.Close()
	}
}

func benchWaiting(b *testing.B, typ string, executions int, db *sql.DB) {
	clock := NewFakeClock(testEpoch)
	ex := newTestExecutor(b, Options{Clock: clock, DB: db})
	defer ex.Close()
	ctx := context.Background()
	arn, err := ex.CreateStateMachine(ctx, "waiting", []byte(waitingWorkflow), typ)
	if err != nil {
		b.Fatal(err)
	}
	before := heapAndStacks()
	arns := make([]string, executions)
	for i := range arns {
		out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Input: fmt.Sprintf(`{"id":%d}`, i)})
		if err != nil {
			b.Fatal(err)
		}
		arns[i] = out.ExecutionArn
	}
	waits := executions
	if typ == Express {
		waits *= 2 // each also holds its five-minute limit timer
	}
	clock.BlockUntil(waits)
	held := heapAndStacks() - before
	b.ReportMetric(float64(held)/float64(executions), "B/execution")
	b.ReportMetric(float64(held)/(1<<20), "MB-total")
	clock.Advance(time.Minute)
	for _, a := range arns {
		d, err := ex.WaitExecution(ctx, a)
		if err != nil || d.Status != StatusSucceeded || d.Output != `{"count":100}` {
			b.Fatalf("%+v %v", d, err)
		}
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
