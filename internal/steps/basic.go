package steps

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Basic renders a plain status comment: the bot marker, the workflow and its
// status, who asked, and one table row per step (status, attempts, duration,
// detail, link). The wiring replaces it with internal/jobs/render's richer
// comment (Mermaid flowchart, execution link); tests read this one.
func Basic(j *jobs.Job) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n### %s `%s` %s\n\n", jobs.Marker{Kind: "status", ID: j.ID}, icon(j.Status), j.Workflow, j.Status)
	fmt.Fprintf(&b, "Started by @%s · job `%s`\n\n", j.User.Login, j.ID)
	if j.Error != "" {
		fmt.Fprintf(&b, "**%s**: %s\n\n", j.Error, oneLine(j.Cause))
	}
	b.WriteString("| step | status | attempts | duration | detail |\n|---|---|---|---|---|\n")
	for _, name := range stepOrder(j) {
		st := j.Steps[name]
		d := ""
		if !st.StartedAt.IsZero() && !st.FinishedAt.IsZero() {
			d = st.FinishedAt.Sub(st.StartedAt).Round(time.Second).String()
		}
		detail := st.Detail
		if st.Error != "" {
			detail = st.Error + ": " + st.Cause
		}
		if st.Link != "" {
			detail += " [link](" + st.Link + ")"
		}
		fmt.Fprintf(&b, "| %s | %s %s | %d | %s | %s |\n", name, icon(st.Status), st.Status, st.Attempts, d, oneLine(detail))
	}
	return b.String()
}

// stepOrder lists the steps by start time, then name; steps not started last.
func stepOrder(j *jobs.Job) []string {
	names := make([]string, 0, len(j.Steps))
	for n := range j.Steps {
		names = append(names, n)
	}
	sort.Slice(names, func(a, b int) bool {
		sa, sb := j.Steps[names[a]].StartedAt, j.Steps[names[b]].StartedAt
		if sa.IsZero() != sb.IsZero() {
			return !sa.IsZero()
		}
		if !sa.Equal(sb) {
			return sa.Before(sb)
		}
		return names[a] < names[b]
	})
	return names
}

func icon(s jobs.Status) string {
	switch s {
	case jobs.Succeeded:
		return "✅"
	case jobs.Failed:
		return "❌"
	case jobs.Running, jobs.Retrying:
		return "🔄"
	case jobs.Waiting:
		return "⏳"
	case jobs.TimedOut:
		return "⌛"
	case jobs.Aborted:
		return "⛔"
	case jobs.Skipped:
		return "⏭️"
	}
	return "⚪"
}

func oneLine(s string) string {
	s = strings.NewReplacer("\n", " ", "|", "\\|").Replace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
