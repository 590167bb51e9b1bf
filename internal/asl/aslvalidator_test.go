package asl

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestASLValidatorAcceptsCompiledDAGs has the npm asl-validator, an
// independent implementation of the language's schema and path rules,
// check what the compiler emits for random DAGs and for a fan-out wide
// enough to need nested Parallel states.
func TestASLValidatorAcceptsCompiledDAGs(t *testing.T) {
	bin := testenv.NodeBin(t, "asl-validator")
	dir := t.TempDir()
	var files []string
	write := func(name string, w *Workflow) {
		def, err := w.Definition(arn)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := filepath.Join(dir, name+".asl.json")
		if err := os.WriteFile(p, def, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for _, n := range []int{2, 30, 300} {
		write(fmt.Sprintf("random%d", n), benchWorkflow(n))
	}
	wide := NewWorkflow("wide", Standard).ReportFailuresWith("report")
	for i := range 600 {
		wide.Step(fmt.Sprintf("s%d", i), Invoke("t"))
	}
	write("wide", wide)
	for _, f := range files {
		if out, err := exec.Command(bin, "--json-path", f).CombinedOutput(); err != nil {
			t.Errorf("asl-validator rejects %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
}

// TestASLValidatorAgreesOnQueryLanguages has asl-validator (which knows the
// JSONata language and variables) check definitions our builder emits and
// definitions our validator accepts or refuses for a field rule: it must
// agree on each.
func TestASLValidatorAgreesOnQueryLanguages(t *testing.T) {
	bin := testenv.NodeBin(t, "asl-validator")
	dir := t.TempDir()
	built := func() string {
		task := NewTask("Call", "arn:aws:states:::lambda:invoke").
			Arguments(map[string]any{"FunctionName": "f", "Payload": map[string]any{"n": Expr("$states.input.n")}}).
			Assign(map[string]any{"result": Expr("$states.result.Payload")}).
			Output(Expr("$states.result.Payload")).
			TimeoutExpr(Expr("$states.input.timeout")).
			CatchTo([]string{"States.ALL"}, Catch{Output: Expr("$states.errorOutput"), Assign: map[string]any{"failed": true}}, NewFail("Failed", "E", Expr("$string($failed)")))
		items := NewMap("Each", Path{}).Items(Expr("$states.input.list")).MaxConcurrencyExpr(Expr("2")).
			ItemProcessor(NewPass("Item").Output(Expr("$states.input * 2")))
		choice := NewChoice("Check").
			WhenRule(Rule{Condition: Cond(Expr("$result.ok")), Assign: map[string]any{"ok": true}}, NewSucceed("Done")).
			Otherwise(NewWait("Later", WaitSecondsExpr(Expr("1"))).Next(NewSucceed("Finally")))
		m, err := NewStateMachine(Standard, Sequence(task, items, choice)).QueryLanguage(JSONata).Build()
		if err != nil {
			t.Fatal(err)
		}
		js, _ := m.JSON()
		return string(js)
	}()
	tests := []struct {
		name, def string
		valid     bool
	}{
		{"built JSONata machine", built, true},
		{"JSONPath machine with Assign and $name references", machine(`"A":{"Type":"Pass","Assign":{"x.$":"$.a"},"Next":"B"},"B":{"Type":"Pass","Parameters":{"x.$":"$x"},"End":true}`), true},
		{"JSONata state in a JSONPath machine", machine(`"A":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}`), true},
		{"InputPath in a JSONata state", jsonataMachine(`"A":{"Type":"Pass","InputPath":"$.a","End":true}`), false},
		{"Parameters in a JSONata state", jsonataMachine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Parameters":{"a":1},"End":true}`), false},
		{"ResultPath in a JSONata state", jsonataMachine(`"A":{"Type":"Pass","ResultPath":"$.r","End":true}`), false},
		{"Arguments in a JSONPath state", machine(`"A":{"Type":"Task","Resource":` + fnARN + `,"Arguments":{"a":1},"End":true}`), false},
		{"Output in a JSONPath state", machine(`"A":{"Type":"Pass","Output":{"a":1},"End":true}`), false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ours := ParseAndValidate([]byte(tc.def), Standard)
			if (ours == nil) != tc.valid {
				t.Fatalf("our validator: valid=%v, want %v: %v", ours == nil, tc.valid, ours)
			}
			p := filepath.Join(dir, fmt.Sprintf("case%d.asl.json", i))
			if err := os.WriteFile(p, []byte(tc.def), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "--json-path", p).CombinedOutput()
			if (err == nil) != tc.valid {
				t.Errorf("asl-validator: valid=%v, want %v\n%s\n%s", err == nil, tc.valid, out, tc.def)
			}
		})
	}
}
