package render

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// maxRows bounds the table of a summarised DAG: the steps that need
// attention, most urgent first.
const maxRows = 100

const tableHead = "| Step | Status | Duration | Attempts | Link | Details |\n| --- | --- | ---: | ---: | --- | --- |\n"

// stepTable lists the steps in at most budget bytes: every step in DAG
// order when the DAG is small and fits, else the steps that need attention
// in a table and the others, counted and named as far as room allows, in a
// collapsed <details> section.
func stepTable(steps []step, opts Options, budget int) string {
	if len(steps) <= opts.fullSteps() {
		var b strings.Builder
		b.WriteString(tableHead)
		for _, s := range steps {
			b.WriteString(row(s, opts))
		}
		if b.Len() <= budget {
			return b.String()
		}
	}
	var first, rest []step
	for _, s := range steps {
		if attention(s.st.Status) {
			first = append(first, s)
		} else {
			rest = append(rest, s)
		}
	}
	slices.SortStableFunc(first, func(a, b step) int { return rank(a.st.Status) - rank(b.st.Status) })
	const reserve = 1200 // the <details> section's frame and counts
	var b strings.Builder
	var listed []string
	for _, s := range first {
		r := row(s, opts)
		if len(listed) < maxRows && len(tableHead)+b.Len()+len(r)+reserve <= budget {
			b.WriteString(r)
			listed = append(listed, r)
			continue
		}
		rest = append(rest, s)
	}
	table := ""
	if len(listed) > 0 {
		table = tableHead + b.String()
	}
	if len(rest) == 0 {
		return table
	}
	if table != "" {
		table += "\n"
	}
	return table + others(rest, budget-len(table))
}

// row is one step's table row; every free text in it is escaped for a
// table cell and bounded.
func row(s step, opts Options) string {
	name := cellCode(truncate(s.Name, maxName))
	if s.Title != "" {
		name = inline(s.Title, maxName) + " (" + name + ")"
	}
	attempts := "—"
	if s.st.Attempts > 0 {
		attempts = fmt.Sprint(s.st.Attempts)
	}
	lnk := "—"
	if s.st.Link != "" {
		lnk = link("view", s.st.Link)
	}
	var notes []string
	if s.st.Detail != "" {
		notes = append(notes, inline(s.st.Detail, maxDetail))
	}
	if s.st.Error != "" {
		notes = append(notes, "**"+inline(s.st.Error, maxError)+"**")
	}
	if s.st.Cause != "" {
		notes = append(notes, inline(s.st.Cause, maxDetail))
	}
	if len(notes) == 0 {
		notes = append(notes, "—")
	}
	return fmt.Sprintf("| %s | %s %s | %s | %s | %s | %s |\n", name, emoji(s.st.Status), inline(words(s.st.Status), maxName),
		duration(s.st, opts.Now), attempts, lnk, strings.Join(notes, " · "))
}

// others is the collapsed section of the steps not in the table: a count
// per status, and their names as far as budget allows.
func others(rest []step, budget int) string {
	byStatus := map[jobs.Status][]string{}
	n := map[jobs.Status]int{}
	for _, s := range rest {
		byStatus[s.st.Status] = append(byStatus[s.st.Status], s.Name)
		n[s.st.Status]++
	}
	statuses := statusesOf(n)
	var sum []string
	for _, st := range statuses {
		sum = append(sum, fmt.Sprintf("%d %s %s", n[st], emoji(st), html.EscapeString(truncate(words(st), maxName))))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%d more steps: %s</summary>\n\n", len(rest), strings.Join(sum, " · "))
	const closing = "\n</details>\n"
	for k, st := range statuses {
		names := byStatus[st]
		// Room kept for the headings of the statuses still to come.
		after := 160*(len(statuses)-k-1) + len(closing)
		head := fmt.Sprintf("- %s %s (%d):", emoji(st), inline(words(st), maxName), len(names))
		b.WriteString(head)
		shown := 0
		for i, name := range names {
			piece := " " + code(truncate(name, maxName))
			if i > 0 {
				piece = "," + piece
			}
			if b.Len()+len(piece)+40+after > budget {
				break
			}
			b.WriteString(piece)
			shown++
		}
		if shown < len(names) {
			fmt.Fprintf(&b, " … and %d more", len(names)-shown)
		}
		b.WriteString("\n")
	}
	b.WriteString(closing)
	return b.String()
}
