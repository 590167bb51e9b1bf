package workflows

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestNames(t *testing.T) {
	if got, want := Names(), []string{"checks", "ci", "deploy"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	if _, err := Get("nope"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Get(nope) = %v, want ErrUnknown", err)
	}
	if _, _, err := Definition("nope", PlaceholderARN); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Definition(nope) = %v, want ErrUnknown", err)
	}
}

// TestGolden compares each compiled workflow with testdata/<name>.asl.json
// (go test ./workflows -update rewrites them) and checks that compiling
// twice gives the same bytes.
func TestGolden(t *testing.T) {
	types := map[string]string{"checks": "EXPRESS", "ci": "STANDARD", "deploy": "STANDARD"}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			def, typ, err := Definition(name, PlaceholderARN)
			if err != nil {
				t.Fatal(err)
			}
			if typ != types[name] {
				t.Errorf("machine type %s, want %s", typ, types[name])
			}
			again, _, _ := Definition(name, PlaceholderARN)
			if !bytes.Equal(def, again) {
				t.Error("two compilations differ")
			}
			golden := filepath.Join("testdata", name+".asl.json")
			if *update {
				if err := os.WriteFile(golden, def, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./workflows -update)", err)
			}
			if !bytes.Equal(def, want) {
				t.Errorf("%s differs from the golden file; if intended, run go test ./workflows -update", name)
			}
			// The golden file is itself a valid definition of its type.
			if _, err := asl.ParseAndValidate(want, asl.MachineType(typ)); err != nil {
				t.Errorf("golden file invalid: %v", err)
			}
		})
	}
}

// TestASLValidator runs the npm asl-validator over every compiled workflow.
func TestASLValidator(t *testing.T) {
	bin := testenv.NodeBin(t, "asl-validator")
	dir := t.TempDir()
	for _, name := range Names() {
		def, _, err := Definition(name, PlaceholderARN)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".asl.json")
		if err := os.WriteFile(path, def, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--json-path", path).CombinedOutput()
		if err != nil {
			t.Errorf("asl-validator rejects %s: %v\n%s", name, err, out)
		}
	}
	// The validator must be able to fail: a broken definition is rejected.
	bad := filepath.Join(dir, "bad.asl.json")
	if err := os.WriteFile(bad, []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--json-path", bad).CombinedOutput(); err == nil {
		t.Errorf("asl-validator accepted a broken definition:\n%s", out)
	}
}

func TestWorkflowShapes(t *testing.T) {
	tests := []struct{ name, plan string }{
		{"checks", "(title | diff_size | labels | mergeable) ; summary"},
		{"ci", "lint | (unit ; integration)"},
		{"deploy", "build ; approval ; deploy_staging ; smoke_test ; deploy_production"},
	}
	for _, tt := range tests {
		w, err := Get(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.Plan()
		if err != nil {
			t.Fatal(err)
		}
		if p.String() != tt.plan {
			t.Errorf("%s plan %q, want %q", tt.name, p, tt.plan)
		}
	}
}

func TestDefinitionResolvesEveryTask(t *testing.T) {
	for _, name := range Names() {
		w, _ := Get(name)
		def, _, err := Definition(name, func(task string) string {
			return "arn:aws:lambda:eu-west-1:123456789012:function:prod-" + task
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(def), "000000000000") {
			t.Errorf("%s still has a placeholder ARN", name)
		}
		for _, task := range w.Tasks() {
			if !strings.Contains(string(def), "function:prod-"+task+`"`) {
				t.Errorf("%s: task %s not resolved", name, task)
			}
		}
	}
}

func TestLocalHandlersCoverEveryTask(t *testing.T) {
	hs := LocalHandlers(nil)
	for _, name := range Names() {
		w, _ := Get(name)
		for _, task := range w.Tasks() {
			if hs[FunctionName(task)] == nil {
				t.Errorf("workflow %s: no local handler for %s", name, FunctionName(task))
			}
		}
	}
}
