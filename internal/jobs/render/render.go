// Package render writes a job's status comment: the Markdown body ai3 keeps
// up to date on the thread where a workflow was asked for. The body names the
// workflow, its overall status, who started it and for how long it has run,
// draws the workflow's DAG as a Mermaid flowchart coloured by step status,
// lists the steps in a table and links the execution. It always fits in one
// GitHub comment (MaxLen), summarising big DAGs instead of cutting them, and
// carries the bot's hidden marker so ai3 knows its own comment.
package render

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// MaxLen is GitHub's limit on a comment body (65,536 characters). Status
// counts bytes, which are never fewer than characters, so a body within
// MaxLen bytes is always accepted.
const MaxLen = 65536

// Node is one step of the workflow's DAG as the comment draws it.
type Node struct {
	Name  string   // the step's name ([a-z][a-z0-9_]*)
	Needs []string // the steps it needs
	Title string   // optional human label shown instead of the name
}

// NodesOf returns the DAG of w, one Node per step in declaration order.
func NodesOf(w *asl.Workflow) []Node {
	steps := w.Steps()
	out := make([]Node, 0, len(steps))
	for _, s := range steps {
		out = append(out, Node{Name: s.Name(), Needs: s.NeedsList()})
	}
	return out
}

// Options are the facts a render needs besides the job.
type Options struct {
	// Now is the time of the render: elapsed times of running jobs and steps
	// are measured to it, and the footer shows it.
	Now time.Time
	// ExecutionURL links the execution (ConsoleURL in AWS, DashboardURL
	// embedded); none is shown when empty.
	ExecutionURL string
	// Bot is the mention handle used in the footer's hints ("ai3-mvp" when
	// empty).
	Bot string
	// FullSteps is the largest DAG drawn and listed step by step (50 when
	// 0); bigger DAGs are summarised.
	FullSteps int
}

func (o Options) bot() string {
	if o.Bot == "" {
		return "ai3-mvp"
	}
	return o.Bot
}

func (o Options) fullSteps() int {
	if o.FullSteps <= 0 {
		return 50
	}
	return o.FullSteps
}

// Size limits of the free texts a job carries (runes, before escaping).
const (
	maxName   = 100  // workflow names, logins, refs, job ids as shown
	maxError  = 200  // an error name
	maxCause  = 2000 // the job's cause, shown in a code block
	maxDetail = 200  // a step's Detail or error in the table
	maxLabel  = 40   // the extra line of a flowchart node
	maxGraph  = 24000
)

// Status renders the status comment of j, whose workflow has the steps of
// dag. Steps of j that dag does not name are listed after dag's, by name;
// steps of dag that j does not hold yet are pending. The output is a pure
// function of its inputs and never longer than MaxLen bytes.
func Status(j *jobs.Job, dag []Node, opts Options) string {
	steps := collect(j, dag)
	head := header(j, steps, opts)
	foot := footer(j, opts)
	room := MaxLen - len(head) - len(foot) - 16 // the blank lines between parts
	graph := flowchart(steps, opts, min(maxGraph, room/2))
	table := stepTable(steps, opts, room-len(graph))
	var b strings.Builder
	b.Grow(len(head) + len(graph) + len(table) + len(foot) + 8)
	b.WriteString(head)
	if graph != "" {
		b.WriteString("\n")
		b.WriteString(graph)
	}
	if table != "" {
		b.WriteString("\n")
		b.WriteString(table)
	}
	b.WriteString("\n")
	b.WriteString(foot)
	return b.String()
}

// step is a DAG node joined with its state.
type step struct {
	Node
	index int // position in the DAG: its flowchart id is n<index>
	st    jobs.Step
}

func collect(j *jobs.Job, dag []Node) []step {
	out := make([]step, 0, len(dag))
	seen := make(map[string]bool, len(dag))
	for i, n := range dag {
		s := step{Node: n, index: i, st: jobs.Step{Status: jobs.Pending}}
		if js := j.Steps[n.Name]; js != nil {
			s.st = *js
		}
		seen[n.Name] = true
		out = append(out, s)
	}
	var extra []string
	for name := range j.Steps {
		if !seen[name] && j.Steps[name] != nil {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		out = append(out, step{Node: Node{Name: name}, index: len(out), st: *j.Steps[name]})
	}
	return out
}

// order ranks statuses: what needs attention first.
var order = []jobs.Status{
	jobs.Failed, jobs.TimedOut, jobs.Aborted, jobs.Retrying, jobs.Running, jobs.Waiting,
	jobs.Queued, jobs.Pending, jobs.Skipped, jobs.Succeeded,
}

func rank(s jobs.Status) int {
	if i := slices.Index(order, s); i >= 0 {
		return i
	}
	return len(order) // an unknown status sorts last
}

// attention reports whether a step in s is shown even in a summary.
func attention(s jobs.Status) bool { return rank(s) <= rank(jobs.Waiting) }

func emoji(s jobs.Status) string {
	switch s {
	case jobs.Queued:
		return "⏳"
	case jobs.Pending:
		return "⚪"
	case jobs.Running:
		return "🔄"
	case jobs.Waiting:
		return "✋"
	case jobs.Retrying:
		return "🔁"
	case jobs.Succeeded:
		return "✅"
	case jobs.Failed:
		return "❌"
	case jobs.TimedOut:
		return "⌛"
	case jobs.Aborted:
		return "🛑"
	case jobs.Skipped:
		return "⏭️"
	}
	return "❔"
}

// words is a status as a reader says it ("timed out").
func words(s jobs.Status) string {
	if s == "" {
		return "unknown"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

// counts returns "2 ✅ succeeded · 1 ❌ failed" in rank order.
func counts(steps []step, keep func(step) bool) (string, int) {
	n := map[jobs.Status]int{}
	total := 0
	for _, s := range steps {
		if keep(s) {
			n[s.st.Status]++
			total++
		}
	}
	var parts []string
	for _, st := range statusesOf(n) {
		parts = append(parts, fmt.Sprintf("%d %s %s", n[st], emoji(st), inline(words(st), maxName)))
	}
	return strings.Join(parts, " · "), total
}

// statusesOf returns the keys of n in rank order (unknown ones by name).
func statusesOf(n map[jobs.Status]int) []jobs.Status {
	out := make([]jobs.Status, 0, len(n))
	for st := range n {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b jobs.Status) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(string(a), string(b))
	})
	return out
}

func header(j *jobs.Job, steps []step, opts Options) string {
	var b strings.Builder
	b.WriteString(jobs.Marker{Kind: "status", ID: j.ID}.String())
	fmt.Fprintf(&b, "\n### %s %s · %s\n\n", emoji(j.Status), inline(j.Workflow, maxName), inline(words(j.Status), maxName))
	fmt.Fprintf(&b, "Started by @%s", inline(j.User.Login, maxName))
	if j.Ref != "" {
		fmt.Fprintf(&b, " on %s", code(truncate(j.Ref, maxName)))
	}
	if j.HeadSHA != "" {
		fmt.Fprintf(&b, " at %s", code(prefix(j.HeadSHA, 7)))
	}
	if j.Status.Final() && !j.FinishedAt.IsZero() {
		fmt.Fprintf(&b, " · took %s", human(j.FinishedAt.Sub(j.CreatedAt)))
	} else if !j.CreatedAt.IsZero() {
		fmt.Fprintf(&b, " · elapsed %s", human(opts.Now.Sub(j.CreatedAt)))
	}
	if opts.ExecutionURL != "" {
		fmt.Fprintf(&b, " · %s", link("execution", opts.ExecutionURL))
	}
	summary, total := counts(steps, func(step) bool { return true })
	fmt.Fprintf(&b, "\n\n%d steps: %s\n", total, summary)
	if j.Error != "" || j.Cause != "" {
		fmt.Fprintf(&b, "\n**Error:** %s\n", inline(orDash(j.Error), maxError))
		if j.Cause != "" {
			b.WriteString("\n")
			b.WriteString(fence("text", truncate(j.Cause, maxCause)))
		}
	}
	return b.String()
}

func footer(j *jobs.Job, opts Options) string {
	id := truncate(j.ID, maxName)
	hint := fmt.Sprintf("%s for details", code("@"+opts.bot()+" status "+id))
	if !j.Status.Final() {
		hint += fmt.Sprintf(", %s to stop it", code("@"+opts.bot()+" cancel "+id))
	}
	return fmt.Sprintf("<sub>Job %s · %s · updated %s</sub>\n",
		code(id), hint, opts.Now.UTC().Format("2006-01-02 15:04:05 UTC"))
}

// human writes d in the two largest units that matter ("3m 12s", "2h 5m").
func human(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	d = d.Truncate(time.Second)
	days, h, m, s := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// duration is how long a step ran (so far, when it has not finished).
func duration(s jobs.Step, now time.Time) string {
	switch {
	case s.StartedAt.IsZero():
		return "—"
	case !s.FinishedAt.IsZero():
		return human(s.FinishedAt.Sub(s.StartedAt))
	case s.Status.Final():
		return "—"
	}
	return human(now.Sub(s.StartedAt))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// ConsoleURL is the page of an execution in the Step Functions console of
// region. The partition (aws, aws-cn, aws-us-gov) comes from the ARN, or
// from the region when the ARN does not say; region comes from the ARN when
// empty.
func ConsoleURL(region, executionARN string) string {
	parts := strings.SplitN(executionARN, ":", 5)
	partition := ""
	if len(parts) == 5 && parts[0] == "arn" {
		partition = parts[1]
		if region == "" {
			region = parts[3]
		}
	}
	if partition == "" {
		switch {
		case strings.HasPrefix(region, "cn-"):
			partition = "aws-cn"
		case strings.HasPrefix(region, "us-gov-"):
			partition = "aws-us-gov"
		default:
			partition = "aws"
		}
	}
	host := region + ".console.aws.amazon.com"
	switch partition {
	case "aws-cn":
		host = region + ".console.amazonaws.cn"
	case "aws-us-gov":
		host = region + ".console.amazonaws-us-gov.com"
	}
	return "https://" + host + "/states/home?region=" + url.QueryEscape(region) +
		"#/v2/executions/details/" + url.PathEscape(executionARN)
}

// DashboardURL is the page of job jobID on the embedded dashboard at base
// (`ai3 dev`'s address): <base>/jobs/<id>.
func DashboardURL(base, jobID string) string {
	return strings.TrimRight(base, "/") + "/jobs/" + url.PathEscape(jobID)
}
