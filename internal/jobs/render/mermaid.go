package render

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Limits of the flowchart: mermaid refuses more than 500 edges, and a
// summary shows at most summaryNodes steps.
const (
	maxEdges     = 400
	summaryNodes = 24
)

// palette colours each status's nodes; every fill sets its own text colour,
// so nodes read the same on GitHub's light and dark backgrounds.
var palette = map[jobs.Status]string{
	jobs.Failed:    "fill:#cf222e,stroke:#82071e,color:#ffffff",
	jobs.TimedOut:  "fill:#bc4c00,stroke:#762c00,color:#ffffff",
	jobs.Aborted:   "fill:#57606a,stroke:#24292f,color:#ffffff",
	jobs.Retrying:  "fill:#9a6700,stroke:#4d2d00,color:#ffffff",
	jobs.Running:   "fill:#0969da,stroke:#033d8b,color:#ffffff",
	jobs.Waiting:   "fill:#8250df,stroke:#512a97,color:#ffffff",
	jobs.Queued:    "fill:#eaeef2,stroke:#57606a,color:#24292f",
	jobs.Pending:   "fill:#eaeef2,stroke:#57606a,color:#24292f",
	jobs.Skipped:   "fill:#d0d7de,stroke:#6e7781,color:#24292f,stroke-dasharray:4 3",
	jobs.Succeeded: "fill:#1a7f37,stroke:#044f1e,color:#ffffff",
}

const unknownStyle = "fill:#ffffff,stroke:#57606a,color:#24292f"

// className is the Mermaid class of a status: "st_" + the status, or
// "st_unknown" for a status ai3 does not define.
func className(s jobs.Status) string {
	if _, ok := palette[s]; ok {
		return "st_" + string(s)
	}
	return "st_unknown"
}

// flowchart draws the DAG as a fenced Mermaid flowchart of at most budget
// bytes: every step when the DAG is small, else the steps that are not done
// (attention first) and one node per status counting the steps left out.
func flowchart(steps []step, opts Options, budget int) string {
	if len(steps) <= opts.fullSteps() {
		all := make([]step, len(steps))
		copy(all, steps)
		if g, ok := drawGraph(steps, all, false, budget); ok {
			return g
		}
	}
	var open []step
	for _, s := range steps {
		if s.st.Status != jobs.Succeeded {
			open = append(open, s)
		}
	}
	slices.SortStableFunc(open, func(a, b step) int { return rank(a.st.Status) - rank(b.st.Status) })
	for limit := summaryNodes; ; limit /= 2 {
		shown := slices.Clone(open[:min(limit, len(open))])
		slices.SortFunc(shown, func(a, b step) int { return a.index - b.index })
		if g, ok := drawGraph(steps, shown, true, budget); ok {
			return g
		}
		if limit == 0 {
			return "" // not even the counts fit: leave the chart out
		}
	}
}

// drawGraph writes the chart of shown (in DAG order); with summary, one
// node per status counts the steps not shown, with a dotted edge to each
// shown step that needs one of them.
func drawGraph(steps, shown []step, summary bool, budget int) (string, bool) {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	id := make(map[string]string, len(shown))
	for _, s := range shown {
		id[s.Name] = fmt.Sprintf("n%d", s.index)
	}
	classes := map[string][]string{}
	styles := map[string]string{}
	addClass := func(st jobs.Status, node string) {
		c := className(st)
		classes[c] = append(classes[c], node)
		styles[c] = palette[st]
		if styles[c] == "" {
			styles[c] = unknownStyle
		}
	}
	for _, s := range shown {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id[s.Name], nodeLabel(s))
		addClass(s.st.Status, id[s.Name])
	}
	hidden := map[string]jobs.Status{} // steps left out, by name
	if summary {
		left := map[jobs.Status]int{}
		shownOf := map[jobs.Status]int{}
		for _, s := range steps {
			if _, ok := id[s.Name]; ok {
				shownOf[s.st.Status]++
				continue
			}
			left[s.st.Status]++
			hidden[s.Name] = s.st.Status
		}
		for _, st := range statusesOf(left) {
			more := ""
			if shownOf[st] > 0 {
				more = "more "
			}
			node := groupID(st)
			fmt.Fprintf(&b, "  %s([\"%s %d %s%s\"])\n", node, emoji(st), left[st], more, mermaidText(words(st), maxName))
			addClass(st, node)
		}
	}
	edges := 0
	for _, s := range shown {
		from := map[string]bool{}
		for _, n := range s.Needs {
			switch {
			case id[n] != "":
				fmt.Fprintf(&b, "  %s --> %s\n", id[n], id[s.Name])
				edges++
			case summary && hidden[n] != "" && !from[groupID(hidden[n])]:
				from[groupID(hidden[n])] = true
				fmt.Fprintf(&b, "  %s -.-> %s\n", groupID(hidden[n]), id[s.Name])
				edges++
			}
		}
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		fmt.Fprintf(&b, "  classDef %s %s\n", c, styles[c])
	}
	for _, c := range names {
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[c], ","), c)
	}
	b.WriteString("```\n")
	return b.String(), b.Len() <= budget && edges <= maxEdges
}

// groupID is the node id counting the hidden steps of a status.
func groupID(st jobs.Status) string { return "more_" + strings.TrimPrefix(className(st), "st_") }

// nodeLabel is a step's two-line label: its title or name, then its status
// (with the attempt and, when it needs attention, its detail or error).
func nodeLabel(s step) string {
	title := s.Title
	if title == "" {
		title = s.Name
	}
	label := mermaidText(title, maxName) + "<br/>" + emoji(s.st.Status) + " " + mermaidText(words(s.st.Status), maxName)
	if s.st.Attempts > 1 {
		label += fmt.Sprintf(" · attempt %d", s.st.Attempts)
	}
	if attention(s.st.Status) {
		note := s.st.Error
		if note == "" {
			note = s.st.Detail
		}
		if note != "" {
			label += "<br/>" + mermaidText(note, maxLabel)
		}
	}
	return label
}

// mermaidText makes free text safe inside a quoted Mermaid label: at most n
// runes on one line, and every ASCII character that Mermaid or HTML could
// read as syntax written as an entity (#<code>;).
func mermaidText(s string, n int) string {
	s = truncate(s, n)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case r < 0x80 && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" _.,:/@+=!?'-", r):
			fmt.Fprintf(&b, "#%d;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
