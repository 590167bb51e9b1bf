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
// a rule that rejects one of them is wrong. All of them are checked, the
// JSONata and variables (Assign) cases included; each one must also encode
// back to JSON that parses to the same encoding (nothing lost).
func TestConformanceDefinitionsAreValid(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	checked, modern := 0, 0
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
			modern++
		}
		checked++
		m, err := ParseAndValidate(c.Definition, Standard)
		if err != nil {
			t.Errorf("%s: AWS ran this definition, the validator rejects it: %v", filepath.Base(f), err)
			continue
		}
		once, err := m.JSON()
		if err != nil {
			t.Errorf("%s: encode: %v", filepath.Base(f), err)
			continue
		}
		again, err := ParseAndValidate(once, Standard)
		if err != nil {
			t.Errorf("%s: re-encoded definition rejected: %v\n%s", filepath.Base(f), err, once)
			continue
		}
		if twice, _ := again.JSON(); string(twice) != string(once) {
			t.Errorf("%s: encoding is not stable:\n%s\n%s", filepath.Base(f), once, twice)
		}
	}
	if checked < 150 || modern < 42 {
		t.Errorf("checked %d cases (%d with JSONata or Assign), want all 150 (42 of them JSONata or variables)", checked, modern)
	}
}
