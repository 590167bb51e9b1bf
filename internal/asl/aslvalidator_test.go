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
