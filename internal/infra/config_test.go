package infra

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"
)

// TestProjectDeclaresEveryConfigKey: Pulumi.yaml (loaded and validated by
// Pulumi's own loader) declares, typed and described, exactly the keys the
// program reads.
func TestProjectDeclaresEveryConfigKey(t *testing.T) {
	proj, err := workspace.LoadProject(filepath.Join(moduleRoot(t), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if proj.Name != "ai3" || proj.Runtime.Name() != "go" {
		t.Errorf("project %s runtime %s, want ai3 on go", proj.Name, proj.Runtime.Name())
	}
	var declared []string
	for k, c := range proj.Config {
		declared = append(declared, k)
		if c.Type == nil || c.Description == "" {
			t.Errorf("config %s has no type or no description", k)
		}
	}
	slices.Sort(declared)
	want := slices.Sorted(slices.Values(ConfigKeys))
	if !slices.Equal(declared, want) {
		t.Errorf("Pulumi.yaml declares %v, the program reads %v", declared, want)
	}
	for _, k := range []string{"webhookSecret", "githubAppPrivateKey", "oauthClientSecret"} {
		if !proj.Config[k].Secret {
			t.Errorf("config %s is not declared secret", k)
		}
	}
}

// TestDevStackIsComplete: every value of Pulumi.dev.yaml has the declared
// type, no secret is in plaintext, and the program accepts the stack.
func TestDevStackIsComplete(t *testing.T) {
	root := moduleRoot(t)
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var stack struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &stack); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{}
	for k, v := range stack.Config {
		key, isOurs := strings.CutPrefix(k, "ai3:")
		cfg[k] = fmt.Sprint(v)
		if !isOurs {
			continue
		}
		decl, ok := proj.Config[key]
		if !ok {
			t.Errorf("Pulumi.dev.yaml sets %s, which Pulumi.yaml does not declare", k)
			continue
		}
		if decl.Secret {
			if m, ok := v.(map[string]any); !ok || m["secure"] == nil {
				t.Errorf("Pulumi.dev.yaml holds secret %s in plaintext", k)
			}
			continue
		}
		if !workspace.ValidateConfigValue(*decl.Type, decl.Items, v) {
			t.Errorf("%s = %v is not a %s", k, v, *decl.Type)
		}
	}
	if cfg["aws:region"] == "" {
		t.Error("the dev stack sets no aws:region")
	}
	d, err := run(t, cfg, nil)
	if err != nil {
		t.Fatalf("the program refuses the dev stack: %v", err)
	}
	if len(d.byType("aws:lambda/function:Function")) == 0 {
		t.Error("the dev stack deploys no function")
	}
}
