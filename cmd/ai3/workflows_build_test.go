package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation/stepfunctions"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// The flag has its own name so it cannot clash with other golden tests of
// package main: go test ./cmd/ai3 -run Workflows -update-workflows
var updateWorkflows = flag.Bool("update-workflows", false, "rewrite testdata/workflows golden files")

// run executes the CLI with args and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "workflows", name)
	if *updateWorkflows {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ai3 -run Workflows -update-workflows)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update-workflows rewrites it):\n%s", path, got)
	}
}

func TestWorkflowsList(t *testing.T) {
	out, err := run(t, "workflows", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"checks  EXPRESS   5", "ci      STANDARD  3", "deploy  STANDARD  5"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

func TestWorkflowsBuild(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "workflows", "build", "--out", dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range workflows.Names() {
		got, err := os.ReadFile(filepath.Join(dir, name+".asl.json"))
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := workflows.Definition(name, workflows.PlaceholderARN)
		if !bytes.Equal(got, want) {
			t.Errorf("%s.asl.json differs from workflows.Definition", name)
		}
	}
}

func TestWorkflowsBuildResolve(t *testing.T) {
	dir := t.TempDir()
	_, err := run(t, "workflows", "build", "ci", "--out", dir,
		"--resolve", "*=arn:aws:lambda:eu-west-1:123456789012:function:prod-{task}",
		"--resolve", "step=arn:aws:lambda:eu-west-1:123456789012:function:gha")
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile(filepath.Join(dir, "ci.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"function:gha\""} {
		if !strings.Contains(string(def), want) {
			t.Errorf("ci.asl.json lacks %s", want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("build ci wrote %d files, want 1", len(entries))
	}
}

func TestWorkflowsBuildRejectsBadInputAndWritesNothing(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--resolve", "nosuchtask=arn:x"}, "unknown tasks [nosuchtask]"},
		{[]string{"--resolve", "gha-job"}, "want TASK=ARN"},
		{[]string{"nosuchworkflow"}, "unknown workflow"},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "out")
		_, err := run(t, append([]string{"workflows", "build", "--out", dir}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.msg)
		}
		if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
			t.Errorf("%v: output directory created despite the error", tt.args)
		}
	}
	if _, err := run(t, "workflows", "build"); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("build without --out: %v", err)
	}
}

func TestWorkflowsGraph(t *testing.T) {
	for _, name := range workflows.Names() {
		for _, format := range []string{"mermaid", "dot"} {
			out, err := run(t, "workflows", "graph", name, "--format", format)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+"."+format, out)
		}
	}
	if _, err := run(t, "workflows", "graph", "ci", "--format", "png"); err == nil {
		t.Error("graph --format png succeeded")
	}
	out, err := run(t, "workflows", "graph", "ci", "--format", "plan")
	if err != nil || out != "lint | (unit ; integration)\n" {
		t.Errorf("plan of ci: %q, %v", out, err)
	}
}

func TestWorkflowsExportCloudFormation(t *testing.T) {
	out, err := run(t, "workflows", "export", "--format", "cloudformation")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "export.cloudformation.json", out)
	tmpl, err := goformation.ParseJSON([]byte(out))
	if err != nil {
		t.Fatalf("goformation cannot read the template: %v", err)
	}
	machines := tmpl.GetAllStepFunctionsStateMachineResources()
	if len(machines) != len(workflows.Names()) {
		t.Fatalf("%d state machines, want %d", len(machines), len(workflows.Names()))
	}
	placeholder := regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)
	for _, name := range workflows.Names() {
		sm, ok := machines[pascal(name)+"StateMachine"]
		if !ok {
			t.Fatalf("no state machine for %s", name)
		}
		w, _ := workflows.Get(name)
		if *sm.StateMachineType != string(w.Type()) {
			t.Errorf("%s: type %s, want %s", name, *sm.StateMachineType, w.Type())
		}
		def := definitionJSON(t, sm)
		// Every placeholder has a substitution and every substitution is used.
		var used []string
		for _, m := range placeholder.FindAllStringSubmatch(def, -1) {
			if !slices.Contains(used, m[1]) {
				used = append(used, m[1])
			}
		}
		var subs []string
		for k := range sm.DefinitionSubstitutions {
			subs = append(subs, k)
			if _, ok := tmpl.Parameters[k]; !ok {
				t.Errorf("%s: substitution %s has no template parameter", name, k)
			}
		}
		slices.Sort(used)
		slices.Sort(subs)
		if !slices.Equal(used, subs) {
			t.Errorf("%s: placeholders %v, substitutions %v", name, used, subs)
		}
		// With the placeholders substituted, the definition is valid ASL.
		resolved := placeholder.ReplaceAllString(def, "arn:aws:lambda:us-east-1:000000000000:function:x")
		if _, err := asl.ParseAndValidate([]byte(resolved), w.Type()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := run(t, "workflows", "export", "--format", "terraform"); err == nil {
		t.Error("export --format terraform succeeded")
	}
}

func definitionJSON(t *testing.T, sm *stepfunctions.StateMachine) string {
	t.Helper()
	b, err := jsonMarshal(sm.Definition)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// TestWorkflowsBuildFaultLeavesNoPartialFile injects a write fault (the
// target of one file is a directory, so its rename fails): the command
// fails naming the file, no temporary file is left behind, and every file
// in DIR is either its old content or a complete new definition.
func TestWorkflowsBuildFaultLeavesNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	old := []byte("old content\n")
	if err := os.WriteFile(filepath.Join(dir, "ci.asl.json"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "deploy.asl.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "workflows", "build", "--out", dir)
	if err == nil || !strings.Contains(err.Error(), "deploy.asl.json") {
		t.Fatalf("got %v, want a failure naming deploy.asl.json", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
		if e.IsDir() {
			continue
		}
		got, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		name := strings.TrimSuffix(e.Name(), ".asl.json")
		want, _, _ := workflows.Definition(name, workflows.PlaceholderARN)
		if !bytes.Equal(got, old) && !bytes.Equal(got, want) {
			t.Errorf("%s is neither the old file nor a complete definition", e.Name())
		}
	}
}
