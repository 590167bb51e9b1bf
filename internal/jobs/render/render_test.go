package render_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestGolden(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			got := render.Status(f.job, f.dag, f.opts)
			path := filepath.Join("testdata", f.name+".md")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("render differs from %s (run with -update after checking the change):\n%s", path, got)
			}
			if again := render.Status(f.job.Clone(), f.dag, f.opts); again != got {
				t.Error("two renders of the same input differ")
			}
		})
	}
}

var (
	classLine = regexp.MustCompile(`(?m)^  class (\S+) (st_[a-z_]+)$`)
	nodeLine  = regexp.MustCompile(`(?m)^  (n\d+)\["([^"]*)"\]$`)
)

// classes returns the Mermaid class of every node id in body.
func classes(body string) map[string]string {
	out := map[string]string{}
	for _, m := range classLine.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Split(m[1], ",") {
			out[id] = m[2]
		}
	}
	return out
}

// TestStructure checks what a reader relies on in every small render: the
// marker, the heading, one chart node and one table row per step, each
// node in its status's class, and the hints in the footer.
func TestStructure(t *testing.T) {
	for _, f := range fixtures() {
		if len(f.dag) > 50 {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			body := render.Status(f.job, f.dag, f.opts)
			m, ok := jobs.ParseMarker(body)
			if !ok || m != (jobs.Marker{Kind: "status", ID: f.job.ID}) {
				t.Errorf("marker = %+v, %v; want status %s", m, ok, f.job.ID)
			}
			heading := "### " + emojiOf(f.job.Status) + " " + f.job.Workflow + " · " + strings.ReplaceAll(string(f.job.Status), "_", " ")
			if !strings.Contains(body, heading+"\n") {
				t.Errorf("no heading %q", heading)
			}
			if !strings.Contains(body, "Started by @alice") {
				t.Error("does not say who started the job")
			}
			nodes := nodeLine.FindAllStringSubmatch(body, -1)
			if len(nodes) != len(f.dag) {
				t.Errorf("%d chart nodes, want %d", len(nodes), len(f.dag))
			}
			cls := classes(body)
			for i, n := range f.dag {
				st := jobs.Pending
				if s := f.job.Steps[n.Name]; s != nil {
					st = s.Status
				}
				id := "n" + itoa(i)
				if want := "st_" + string(st); cls[id] != want {
					t.Errorf("step %s (%s): class %q, want %q", n.Name, id, cls[id], want)
				}
				if !strings.Contains(body, "| `"+n.Name+"`") && !strings.Contains(body, "(`"+n.Name+"`) |") {
					t.Errorf("step %s has no table row", n.Name)
				}
				for _, need := range n.Needs {
					edge := "  n" + itoa(index(f.dag, need)) + " --> " + id + "\n"
					if !strings.Contains(body, edge) {
						t.Errorf("no edge %q", strings.TrimSpace(edge))
					}
				}
			}
			if rows := strings.Count(body, "\n| "); rows != len(f.dag)+2 {
				t.Errorf("%d table lines, want header, rule and %d rows", rows, len(f.dag))
			}
			status := "`@ai3-mvp status " + f.job.ID + "`"
			cancel := "`@ai3-mvp cancel " + f.job.ID + "`"
			if !strings.Contains(body, status) {
				t.Errorf("footer lacks %s", status)
			}
			if got := strings.Contains(footerOf(body), cancel); got == f.job.Status.Final() {
				t.Errorf("cancel hint shown = %v for a %s job", got, f.job.Status)
			}
			if f.opts.ExecutionURL != "" && !strings.Contains(body, "[execution]("+f.opts.ExecutionURL+")") {
				t.Errorf("no link to the execution %s", f.opts.ExecutionURL)
			}
		})
	}
}

func emojiOf(s jobs.Status) string {
	return map[jobs.Status]string{jobs.Running: "🔄", jobs.Succeeded: "✅", jobs.Failed: "❌", jobs.Aborted: "🛑", jobs.TimedOut: "⌛"}[s]
}

func index(dag []render.Node, name string) int {
	for i, n := range dag {
		if n.Name == name {
			return i
		}
	}
	return -1
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestFreeTextEscaped: Detail, errors and causes are free text; none of it
// may end a table cell, open HTML or a code block, or break the chart.
func TestFreeTextEscaped(t *testing.T) {
	j := &jobs.Job{ID: "x-1", Workflow: "x", Status: jobs.Failed, User: jobs.User{Login: "alice"},
		Error: "Boom</sub>", Cause: "```\n</details>\n<img src=x onerror=alert(1)>",
		Steps: map[string]*jobs.Step{"a": {Status: jobs.Failed, Attempts: 1,
			Detail: "a | b\nc <script>x</script> & `d` *e* [f](g)", Error: "E|rr", Cause: "line1\r\nline2 | ]",
			Link: "javascript:alert(1)"}}}
	body := render.Status(j, []render.Node{{Name: "a"}}, render.Options{Now: t0})
	var row string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "| `a`") {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("no row for step a:\n%s", body)
	}
	if n := unescapedPipes(row); n != 7 {
		t.Errorf("row has %d cell borders, want 7: %s", n, row)
	}
	for _, bad := range []string{"<script>", "<img", "</details>"} {
		if !insideFence(body, bad) {
			t.Errorf("%q reaches the body outside a code block", bad)
		}
	}
	if strings.Contains(body, "](javascript:") {
		t.Error("a javascript: link became a link")
	}
	if strings.Count(body, "\n````") != 2 {
		t.Errorf("the cause holds ``` so its fence must be longer:\n%s", body)
	}
	label := nodeLine.FindStringSubmatch(body)
	if label == nil || strings.ContainsAny(strings.ReplaceAll(label[2], "<br/>", ""), "<>|`[]\"") {
		t.Errorf("chart label not escaped: %v", label)
	}
}

func unescapedPipes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '|' {
			n++
		}
	}
	return n
}

// insideFence reports whether every occurrence of s in body is inside a
// fenced code block.
func insideFence(body, s string) bool {
	in := false
	fenceLen := 0
	for _, l := range strings.Split(body, "\n") {
		if t := strings.TrimLeft(l, "`"); len(l)-len(t) >= 3 && (!in || len(l)-len(t) >= fenceLen && t == "") {
			if !in {
				in, fenceLen = true, len(l)-len(t)
			} else {
				in = false
			}
			continue
		}
		if strings.Contains(l+"\n", s) && !in {
			return false
		}
	}
	return true
}

// TestSizeBounded renders the largest jobs ai3 could be asked to show and
// checks each stays a whole, valid comment under GitHub's limit.
func TestSizeBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		job  func(int) (*jobs.Job, []render.Node)
	}{
		{"1000 steps", 1000, func(n int) (*jobs.Job, []render.Node) { return bigJob(n, 4000) }},
		{"5000 steps", 5000, func(n int) (*jobs.Job, []render.Node) { return bigJob(n, 4000) }},
		{"1000 failed, every text long", 1000, worstJob},
		{"5000 failed, every text long", 5000, worstJob},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, dag := tc.job(tc.n)
			body := render.Status(j, dag, render.Options{Now: at(time.Hour), ExecutionURL: "https://example.com/x"})
			if len(body) > render.MaxLen {
				t.Fatalf("%d bytes, over %d", len(body), render.MaxLen)
			}
			if _, ok := jobs.ParseMarker(body); !ok {
				t.Error("marker missing")
			}
			if strings.Count(body, "```mermaid") != 1 || !insideFenceBalanced(body) {
				t.Error("code blocks not closed")
			}
			if strings.Count(body, "<details>") != strings.Count(body, "</details>") {
				t.Error("<details> not closed")
			}
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "| ") && (!strings.HasSuffix(l, " |") || unescapedPipes(l) != 7) {
					t.Fatalf("broken table row: %.200s", l)
				}
			}
			if !strings.HasSuffix(body, "</sub>\n") {
				t.Error("footer missing")
			}
			t.Logf("%d bytes", len(body))
		})
	}
}

func insideFenceBalanced(body string) bool { return insideFence(body+"\n", "\x00never\x00") }

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ region, arn, want string }{
		{"", "arn:aws:states:eu-west-1:1:execution:m:e",
			"https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:1:execution:m:e"},
		{"cn-north-1", "arn:aws-cn:states:cn-north-1:1:execution:m:e",
			"https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/arn:aws-cn:states:cn-north-1:1:execution:m:e"},
		{"us-gov-west-1", "arn:aws-us-gov:states:us-gov-west-1:1:execution:m:e",
			"https://us-gov-west-1.console.amazonaws-us-gov.com/states/home?region=us-gov-west-1#/v2/executions/details/arn:aws-us-gov:states:us-gov-west-1:1:execution:m:e"},
		{"us-east-2", "arn:aws:states:us-east-2:1:execution:m:e",
			"https://us-east-2.console.aws.amazon.com/states/home?region=us-east-2#/v2/executions/details/arn:aws:states:us-east-2:1:execution:m:e"},
	} {
		if got := render.ConsoleURL(tc.region, tc.arn); got != tc.want {
			t.Errorf("ConsoleURL(%q, %q) =\n %s\nwant\n %s", tc.region, tc.arn, got, tc.want)
		}
	}
	if got, want := render.DashboardURL("http://127.0.0.1:8080/", "ci-1"), "http://127.0.0.1:8080/jobs/ci-1"; got != want {
		t.Errorf("DashboardURL = %s, want %s", got, want)
	}
}

func BenchmarkStatus1000(b *testing.B) {
	j, dag := bigJob(1000, 400)
	opts := render.Options{Now: at(time.Hour), ExecutionURL: "https://example.com/x"}
	var n int
	for b.Loop() {
		n = len(render.Status(j, dag, opts))
	}
	b.ReportMetric(float64(n), "bytes/render")
}

func footerOf(body string) string { return body[strings.LastIndex(body, "<sub>"):] }
