package infra

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/aws/appcreds"
	"github.com/sbalswa/ai3-mvp/internal/aws/lambdaenv"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// optionalEnv are variables a Lambda reads but the stack leaves unset on
// purpose: the runtime sets AWS_REGION; the S3 switches exist for doubles.
var optionalEnv = []string{"AWS_REGION", "ARCHIVE_S3_PATH_STYLE", "ARCHIVE_KMS_KEY"}

var (
	getenvCall  = regexp.MustCompile(`[Gg]etenv\("([A-Z][A-Z0-9_]+)"\)`)
	stringList  = regexp.MustCompile(`\[\]string\{([^}]*)\}`)
	envNameLit  = regexp.MustCompile(`"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"`)
	lineComment = regexp.MustCompile(`(?m)^\s*//.*$`)
	modulePaths = "github.com/sbalswa/ai3-mvp/"
)

// envRead lists the environment variables a Lambda package's code needs
// (must) and may read (may): os.Getenv("X") calls and the lists of required
// names it checks, in the package and the ai3 packages it imports. The
// shared wiring of internal/aws/lambdaenv counts by its exported lists:
// Required for lambdaenv.Load, Shared for LoadShared, Optional as may.
func envRead(t *testing.T, root, pkg string) (must, may []string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{.Dir}}{{end}}", "./lambdas/"+pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(path, modulePaths) || path == modulePaths+"internal/aws/lambdaenv" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src := lineComment.ReplaceAllString(string(b), "") // examples in doc comments are not reads
			if strings.Contains(src, "lambdaenv.Load(") {
				must = append(must, lambdaenv.Required...)
				may = append(may, lambdaenv.Optional...)
			}
			if strings.Contains(src, "lambdaenv.LoadShared(") {
				must = append(must, lambdaenv.Shared...)
				may = append(may, lambdaenv.Optional...)
			}
			for _, m := range getenvCall.FindAllStringSubmatch(src, -1) {
				must = append(must, m[1])
			}
			if !strings.Contains(src, "etenv") {
				continue
			}
			for _, l := range stringList.FindAllStringSubmatch(src, -1) {
				for _, m := range envNameLit.FindAllStringSubmatch(l[1], -1) {
					must = append(must, m[1])
				}
			}
		}
	}
	must = slices.DeleteFunc(must, func(n string) bool { return slices.Contains(optionalEnv, n) })
	slices.Sort(must)
	return slices.Compact(must), may
}

// TestEveryLambdaGetsTheEnvironmentItReads: each function's environment
// sets every variable its code needs (none forgotten) and nothing it never
// reads (no typo goes unnoticed).
func TestEveryLambdaGetsTheEnvironmentItReads(t *testing.T) {
	d := deployed(t)
	root := moduleRoot(t)
	for _, f := range d.byType("aws:lambda/function:Function") {
		pkg := strings.TrimPrefix(f.str("name"), prefix)
		t.Run(pkg, func(t *testing.T) {
			must, may := envRead(t, root, pkg)
			env := f.env()
			for _, n := range must {
				if _, ok := env[n]; !ok {
					t.Errorf("reads %s, which the stack does not set", n)
				}
			}
			for n := range env {
				if !slices.Contains(must, n) && !slices.Contains(may, n) {
					t.Errorf("the stack sets %s, which the code never reads", n)
				}
			}
		})
	}
}

// TestCommentEnvironment: the comment Lambda gets lambdaenv.Required, and
// STATE_MACHINES maps each workflow to its state machine.
func TestCommentEnvironment(t *testing.T) {
	d := deployed(t)
	env := d.fn(t, "comment").env()
	for _, k := range lambdaenv.Required {
		if env[k] == "" {
			t.Errorf("%s unset", k)
		}
	}
	var machines map[string]string
	if err := json.Unmarshal([]byte(env["STATE_MACHINES"]), &machines); err != nil {
		t.Fatalf("STATE_MACHINES %q: %v", env["STATE_MACHINES"], err)
	}
	for _, wf := range workflows.Names() {
		if want := d.one(t, "aws:sfn/stateMachine:StateMachine", prefix+"wf-"+wf).Out["arn"].StringValue(); machines[wf] != want {
			t.Errorf("STATE_MACHINES[%s] = %q, want %s", wf, machines[wf], want)
		}
	}
}

// TestInstallationTokensAreNarrowed: every function that asks the
// credentials Lambda for installation tokens names the permissions it
// needs — a subset of the App's, never Actions (dispatches use the user's
// token) — and only the comment Lambda reads organization members.
func TestInstallationTokensAreNarrowed(t *testing.T) {
	d := deployed(t)
	callers := 0
	for _, f := range d.byType("aws:lambda/function:Function") {
		env := f.env()
		if env["CREDENTIALS_FUNCTION"] == "" {
			continue
		}
		callers++
		name := strings.TrimPrefix(f.str("name"), prefix)
		perms, err := appcreds.ParsePermissions(env["INSTALLATION_TOKEN_PERMISSIONS"])
		if err != nil || len(perms) == 0 {
			t.Errorf("%s: INSTALLATION_TOKEN_PERMISSIONS %q (%v): want the permissions it needs", name, env["INSTALLATION_TOKEN_PERMISSIONS"], err)
			continue
		}
		for k, v := range perms {
			if AppPermissions[k] == "" || (v == "write" && AppPermissions[k] != "write") {
				t.Errorf("%s: asks for %s=%s, beyond the App's %q", name, k, v, AppPermissions[k])
			}
		}
		if _, ok := perms["actions"]; ok {
			t.Errorf("%s: installation tokens with actions (dispatches are made with the user's token)", name)
		}
		if _, ok := perms["members"]; ok != (name == "comment") {
			t.Errorf("%s: members permission %v; only the comment Lambda checks membership", name, ok)
		}
	}
	if callers < 4 {
		t.Errorf("%d functions call the credentials Lambda; want comment, step, workflow-run and finalizer", callers)
	}
}
