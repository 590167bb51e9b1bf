package render_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// realCase is one body for test/tools/render-comment.mjs.
type realCase struct {
	Name   string     `json:"name"`
	Body   string     `json:"body"`
	Expect realExpect `json:"expect"`
}

type realExpect struct {
	Rows  int      `json:"rows"`
	Nodes int      `json:"nodes"`
	Names []string `json:"names,omitempty"`
	Cells []string `json:"cells,omitempty"`
}

type realResult struct {
	Name       string   `json:"name"`
	OK         bool     `json:"ok"`
	Errors     []string `json:"errors"`
	Screenshot string   `json:"screenshot"`
}

var chartNode = regexp.MustCompile(`(?m)^  (n\d+\["|more_[a-z_]+\(\[")`)

// TestRealParsers renders every golden body through GitHub's Markdown parser
// (cmark-gfm) and the real mermaid library in headless Chromium, and keeps a
// screenshot of each rendered comment. A deliberately broken flowchart must
// be refused, so the check is known to be able to fail.
func TestRealParsers(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Missing(t, "node", "install Node.js")
	}
	for _, pkg := range []string{"cmark-gfm", "mermaid", "playwright-core"} {
		testenv.NodePackageDir(t, pkg)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, "chromium", "run `make system-tools` (Debian package chromium)")
	}
	var cases []realCase
	for _, f := range fixtures() {
		body := render.Status(f.job, f.dag, f.opts)
		c := realCase{Name: f.name, Body: body}
		if len(f.dag) <= 50 {
			c.Expect.Rows, c.Expect.Nodes = len(f.dag), len(f.dag)
			for _, n := range f.dag {
				c.Expect.Names = append(c.Expect.Names, cmp(n.Title, n.Name))
				if s := f.job.Steps[n.Name]; s != nil {
					var notes []string
					for _, x := range []string{s.Detail, s.Error, s.Cause} {
						if x != "" {
							notes = append(notes, x)
						}
					}
					if len(notes) > 0 {
						c.Expect.Cells = append(c.Expect.Cells, strings.Join(strings.Fields(strings.Join(notes, " · ")), " "))
					}
				}
			}
		} else {
			// A summary: the rows and nodes the body itself declares.
			c.Expect.Rows = strings.Count(body, "\n| ") - 2
			c.Expect.Nodes = len(chartNode.FindAllString(body, -1))
		}
		cases = append(cases, c)
	}
	// The largest, most hostile render: every text long and full of syntax.
	wj, wdag := worstJob(1000)
	worst := render.Status(wj, wdag, render.Options{Now: at(time.Hour), ExecutionURL: "https://example.com/x"})
	cases = append(cases, realCase{Name: "worst_1000", Body: worst, Expect: realExpect{
		Rows: strings.Count(worst, "\n| ") - 2, Nodes: len(chartNode.FindAllString(worst, -1))}})
	running := cases[0]
	broken := realCase{Name: "broken_mermaid", Expect: running.Expect,
		Body: strings.Replace(running.Body, "flowchart LR\n", "flowchart LR\n  n0[\"unclosed label\n  n0 --> --> n1\n", 1)}
	cases = append(cases, broken)

	out := os.Getenv("AI3_ARTIFACTS")
	if out != "" {
		out = filepath.Join(out, "render-comment")
	} else {
		out = t.TempDir()
	}
	in := filepath.Join(t.TempDir(), "cases.json")
	data, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(testenv.RepoRoot(), "test", "tools", "render-comment.mjs"), in, out)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("render-comment.mjs: %v\n%s", err, stderr.String())
	}
	var results []realResult
	if err := json.Unmarshal(stdout, &results); err != nil {
		t.Fatalf("render-comment.mjs output: %v\n%s", err, stdout)
	}
	if len(results) != len(cases) {
		t.Fatalf("%d results for %d cases", len(results), len(cases))
	}
	for _, r := range results {
		switch {
		case r.Name == broken.Name:
			if r.OK || !strings.Contains(strings.Join(r.Errors, "\n"), "mermaid rejected") {
				t.Errorf("a broken flowchart was not refused: ok=%v errors=%q", r.OK, r.Errors)
			}
		case !r.OK:
			t.Errorf("%s does not read right on GitHub:\n  %s", r.Name, strings.Join(r.Errors, "\n  "))
		}
	}
	t.Logf("screenshots and HTML in %s", out)
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
