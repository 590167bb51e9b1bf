package asl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestConformanceDefinitionsAreValid runs the validator over definitions
// that real AWS Step Functions accepted and executed (../shared/asl-conformance):
// a rule that rejects one of them is wrong. Cases using JSONata or variables
// (Assign), which this package does not model, are left out.
func TestConformanceDefinitionsAreValid(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Definition json.RawMessage }
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		def := string(c.Definition)
		if strings.Contains(def, `"JSONata"`) || strings.Contains(def, `"Assign"`) {
			continue
		}
		checked++
		if _, err := ParseAndValidate(c.Definition, Standard); err != nil {
			t.Errorf("%s: AWS ran this definition, the validator rejects it: %v", filepath.Base(f), err)
		}
	}
	if checked < 100 {
		t.Errorf("only %d JSONPath cases checked, want the 100+ the folder holds", checked)
	}
}
