package asl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const fn = "arn:aws:lambda:us-east-1:000000000000:function:f"

func TestBuilderChainsChoiceBranchesAfterwards(t *testing.T) {
	a := NewPass("A")
	yes := NewPass("Yes")
	no := NewPass("No")
	join := NewSucceed("Join")
	choice := NewChoice("Pick").
		When(And(StringEquals("$.env", "prod"), Not(IsNull("$.ref", true))), yes).
		Otherwise(no)
	m, err := NewStateMachine(Standard, Sequence(a, choice.Afterwards(), join)).Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.States.Get("Yes").(*Pass).Next; got != "Join" {
		t.Errorf("Yes continues with %q, want Join", got)
	}
	if got := m.States.Get("No").(*Pass).Next; got != "Join" {
		t.Errorf("No continues with %q, want Join", got)
	}
	rule, _ := json.Marshal(m.States.Get("Pick").(*Choice).Choices[0])
	want := `{"And":[{"Variable":"$.env","StringEquals":"prod"},{"Not":{"Variable":"$.ref","IsNull":true}}],"Next":"Yes"}`
	if string(rule) != want {
		t.Errorf("rule\n got %s\nwant %s", rule, want)
	}
}

func TestBuilderReportsEveryMistakeWithTheStateName(t *testing.T) {
	a := NewTask("A", fn).ResultPath(P("$.x[*]")).Timeout(5).Heartbeat(5)
	b := NewPass("B")
	a.Next(b)
	a.Next(NewPass("C")) // A already continues with B
	dup := NewPass("B")  // a second state called B
	b.Next(NewChoice("Empty").Otherwise(dup))
	_, err := NewStateMachine(Express, a).Build()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{
		`States["A"]: ResultPath: path "$.x[*]"`,
		`States["A"]: already continues with "B"`,
		`States["A"]: HeartbeatSeconds (5) must be smaller`,
		`States["Empty"]: Choice has no rules`,
		`States["B"]: duplicate state name`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestBuilderParallelMapWaitFailRaw(t *testing.T) {
	when := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	par := NewParallel("Both").
		Branch(NewTask("Left", fn), NewWait("Right", WaitUntil(when))).
		ResultPath(P("$.both")).
		Catch([]string{"States.ALL"}, P("$.error"), NewFail("Failed", "", "").ErrorPath("$.error.Error").CausePath("$.error.Cause"))
	each := NewMap("Each", P("$.items")).MaxConcurrency(2).ToleratedFailureCount(1).
		ItemProcessor(NewLambdaInvoke("Item", fn, map[string]any{"item.$": "$"}))
	raw := NewRaw("Raw", json.RawMessage(`{"Type":"Pass","Result":{"b":1,"a":2},"End":true}`))
	m, err := NewStateMachine(Standard, Sequence(par, each, raw, NewSucceed("Done"))).Timeout(60).Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"Timestamp": "2030-01-02T03:04:05Z"`,
		`"ProcessorConfig": {`,
		`"Raw": {`, // raw state's Next set, End removed
		`"Next": "Done",` + "\n" + `      "Result"`,
		`"ErrorPath": "$.error.Error"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("definition lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"End": true,`+"\n"+`      "Next"`) {
		t.Errorf("raw state kept End next to Next")
	}
	// Building twice gives identical bytes.
	m2, _ := NewStateMachine(Standard, Sequence(par, each, raw, NewSucceed("Done2"))).Timeout(60).Build()
	_ = m2
	again, _ := m.JSON()
	if string(again) != string(out) {
		t.Error("JSON is not deterministic")
	}
}

func TestBuilderRejectsStateSharedByBranches(t *testing.T) {
	shared := NewPass("Shared")
	_, err := NewStateMachine(Standard, NewParallel("P").Branch(shared, shared)).Build()
	if err == nil || !strings.Contains(err.Error(), "used in two branches") {
		t.Fatalf("got %v, want the shared state refused", err)
	}
}

func TestBuilderValidatesRawState(t *testing.T) {
	raw := NewRaw("Raw", json.RawMessage(`{"Type":"Pass","Reslt":1,"End":true}`))
	_, err := NewStateMachine(Standard, raw).Build()
	if err == nil || !strings.Contains(err.Error(), `unknown field "Reslt"`) {
		t.Fatalf("got %v, want the raw state's typo reported", err)
	}
}

func TestBuilderSyncAndCallbackResources(t *testing.T) {
	cb := NewLambdaInvoke("Wait", fn, map[string]any{"token.$": "$$.Task.Token"}).WaitForTaskToken()
	job := NewTask("Job", "arn:aws:states:::states:startExecution").Sync().
		Parameters(map[string]any{"StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:x"})
	if _, err := NewStateMachine(Standard, cb.Next(job)).Build(); err != nil {
		t.Fatalf("STANDARD: %v", err)
	}
	_, err := NewStateMachine(Express, NewLambdaInvoke("Wait", fn, map[string]any{"token.$": "$$.Task.Token"}).WaitForTaskToken().
		Next(NewTask("Job", "arn:aws:states:::states:startExecution").Sync())).Build()
	if err == nil || strings.Count(err.Error(), "EXPRESS machines cannot use") != 2 {
		t.Fatalf("EXPRESS: got %v, want both tasks refused", err)
	}
}
