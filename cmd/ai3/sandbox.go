package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newSandboxCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Act on the GitHub stand-in of an ai3 dev in sandbox mode (pull requests, threads)",
	}
	cmd.PersistentFlags().StringVar(&server, "server", defaultServer, "address of the running ai3 dev")
	cmd.AddCommand(newSandboxCommentsCmd(&server), newSandboxPullCmd(&server))
	return cmd
}

func newSandboxCommentsCmd(server *string) *cobra.Command {
	var repo string
	var issue int
	var raw bool
	cmd := &cobra.Command{
		Use:     "comments --repo OWNER/NAME --issue N",
		Short:   "Print an issue's or pull request's comments for a terminal",
		Example: "  ai3 sandbox comments --repo ai3-sandbox/demo --issue 1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkThread(repo, issue); err != nil {
				return err
			}
			c := controlClient{Server: *server}
			if _, err := c.info(cmd.Context()); err != nil {
				return err
			}
			var t threadView
			q := url.Values{"repo": {repo}, "issue": {fmt.Sprint(issue)}}
			if err := c.do(cmd.Context(), "GET", "/sandbox/control/comments?"+q.Encode(), nil, &t); err != nil {
				return err
			}
			if raw {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(t)
			}
			renderThread(cmd.OutOrStdout(), &t, time.Local)
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "repository (owner/name)")
	cmd.Flags().IntVar(&issue, "issue", 0, "issue or pull request number")
	cmd.Flags().BoolVar(&raw, "json", false, "print the thread as JSON (bodies as written)")
	return cmd
}

func newSandboxPullCmd(server *string) *cobra.Command {
	var repo, user, title, head string
	var additions, deletions int
	cmd := &cobra.Command{
		Use:     "pull --repo OWNER/NAME --user LOGIN --title TITLE",
		Short:   "Open a pull request in the stand-in, as a person would on github.com",
		Example: `  ai3 sandbox pull --repo ai3-sandbox/demo --user alice --title "feat: add a greeting"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkThread(repo, 1); err != nil {
				return err
			}
			if user == "" || title == "" {
				return errors.New("--user and --title are required")
			}
			c := controlClient{Server: *server}
			if _, err := c.info(cmd.Context()); err != nil {
				return err
			}
			if head == "" {
				head = "feature-" + strings.ToLower(strings.Join(strings.Fields(user), "-"))
			}
			var res struct{ Number int }
			if err := c.do(cmd.Context(), "POST", "/sandbox/control/pulls", map[string]any{"repo": repo, "title": title,
				"user": user, "head": head, "additions": additions, "deletions": deletions}, &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s opened pull request %s#%d %q (branch %s).\nComment on it: ai3 send comment --repo %s --issue %d --user %s \"@ai3-mvp run checks\"%s\n",
				user, repo, res.Number, title, head, repo, res.Number, user, serverFlag(*server))
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "repository (owner/name; created if new)")
	cmd.Flags().StringVar(&user, "user", "", "login of the author")
	cmd.Flags().StringVar(&title, "title", "", "the pull request's title")
	cmd.Flags().StringVar(&head, "head", "", "head branch (default feature-USER)")
	cmd.Flags().IntVar(&additions, "additions", 10, "lines added")
	cmd.Flags().IntVar(&deletions, "deletions", 2, "lines deleted")
	return cmd
}

// errNotSandbox is a running ai3 dev that is not in sandbox mode.
var errNotSandbox = errors.New("the server is not in sandbox mode (it talks to a real GitHub App)")

// controlClient calls a running ai3 dev's sandbox control routes.
type controlClient struct {
	Server string
	Client *http.Client // default: 30 s timeout
}

// info returns the sandbox's description, errNotSandbox when the server
// runs with a real App, or an error saying the server cannot be reached.
func (c controlClient) info(ctx context.Context) (*sandboxInfo, error) {
	var in sandboxInfo
	err := c.do(ctx, "GET", "/sandbox/control/info", nil, &in)
	var st *errRefused
	if errors.As(err, &st) && st.Status == http.StatusNotFound {
		return nil, errNotSandbox
	}
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// isPull reports whether repo#n is a pull request (false when unknown).
func (in *sandboxInfo) isPull(ctx context.Context, c controlClient, repo string, n int) bool {
	var t threadView
	q := url.Values{"repo": {repo}, "issue": {fmt.Sprint(n)}}
	return c.do(ctx, "GET", "/sandbox/control/comments?"+q.Encode(), nil, &t) != nil || t.PullRequest
}

func (c controlClient) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Server, "/")+path, r)
	if err != nil {
		return fmt.Errorf("--server %q: %w", c.Server, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return explainSendError(&errUnreachable{err}, c.Server, "")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" && resp.StatusCode != http.StatusNotFound {
			return fmt.Errorf("%s %s: %s", method, strings.SplitN(path, "?", 2)[0], e.Error)
		}
		return &errRefused{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
		}
	}
	return nil
}

// renderThread prints a thread for a terminal: a heading, then each
// comment's author, time and a short rendering of its Markdown.
func renderThread(w io.Writer, t *threadView, loc *time.Location) {
	kind := "issue"
	if t.PullRequest {
		kind = "pull request"
	}
	fmt.Fprintf(w, "%s#%d  %s  (%s, %s, %d comments)\n", t.Repo, t.Number, t.Title, kind, t.State, len(t.Comments))
	for _, c := range t.Comments {
		fmt.Fprintln(w)
		who := c.Author
		if c.ViaApp {
			who += " (via the App)"
		}
		line := fmt.Sprintf("── %s · %s", who, c.CreatedAt.In(loc).Format("2006-01-02 15:04:05"))
		if c.EditedAt != nil {
			line += " · edited " + c.EditedAt.In(loc).Format("15:04:05")
		}
		if len(c.Reactions) > 0 {
			var rs []string
			for _, k := range slices.Sorted(maps.Keys(c.Reactions)) {
				rs = append(rs, fmt.Sprintf("%s %d", reactionGlyph(k), c.Reactions[k]))
			}
			line += " · " + strings.Join(rs, " ")
		}
		fmt.Fprintln(w, line)
		for _, l := range renderMarkdown(c.Body) {
			if l != "" {
				l = "   " + l
			}
			fmt.Fprintln(w, l)
		}
	}
}

func reactionGlyph(k string) string {
	if g, ok := map[string]string{"+1": "👍", "-1": "👎", "laugh": "😄", "confused": "😕", "heart": "❤️",
		"hooray": "🎉", "rocket": "🚀", "eyes": "👀"}[k]; ok {
		return g
	}
	return k
}

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	htmlTag     = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
	mdLink      = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)`)
	mdEmphasis  = regexp.MustCompile(`\*\*([^*]+)\*\*|__([^_]+)__`)
	tableRule   = regexp.MustCompile(`^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$`)
)

// renderMarkdown is a terminal's reading of a comment: hidden markers
// (HTML comments) dropped, tags removed (a <summary> stays as its text),
// links as "text <url>", tables as aligned columns, a Mermaid block as one
// line saying what it is, other code blocks indented.
func renderMarkdown(body string) []string {
	body = htmlComment.ReplaceAllString(strings.ReplaceAll(body, "\r\n", "\n"), "")
	var out, table []string
	flushTable := func() {
		if len(table) == 0 {
			return
		}
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, row := range table {
			cells := splitRow(row)
			for i := range cells {
				// Cells keep a link's text only: URLs would make rows too wide.
				cells[i] = mdLink.ReplaceAllString(htmlTag.ReplaceAllString(cells[i], ""), "$1")
				cells[i] = inline(cells[i])
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		_ = tw.Flush()
		out = append(out, strings.Split(strings.TrimRight(b.String(), "\n"), "\n")...)
		table = nil
	}
	lines := strings.Split(body, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \t")
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			flushTable()
			fence, lang := trimmed[:3], strings.TrimSpace(trimmed[3:])
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), fence); i++ {
				code = append(code, lines[i])
			}
			if lang == "mermaid" {
				out = append(out, mermaidSummary(code))
				continue
			}
			for _, c := range code {
				out = append(out, "    "+c)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "|") {
			if !tableRule.MatchString(trimmed) {
				table = append(table, trimmed)
			}
			continue
		}
		flushTable()
		if h := strings.TrimLeft(trimmed, "#"); h != trimmed && strings.HasPrefix(h, " ") {
			trimmed = strings.TrimSpace(h) // a heading is its text
		}
		if strings.Contains(strings.ToLower(trimmed), "<summary>") {
			trimmed = "▸ " + trimmed
		}
		text := inline(trimmed)
		if text == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue // collapse blank lines
		}
		out = append(out, text)
	}
	flushTable()
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// inline renders one line's inline Markdown and HTML.
func inline(s string) string {
	s = htmlTag.ReplaceAllString(s, "")
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		p := mdLink.FindStringSubmatch(m)
		if strings.HasPrefix(m, "!") {
			return "[" + p[1] + "]"
		}
		if p[1] == p[2] || p[1] == "" {
			return "<" + p[2] + ">"
		}
		return p[1] + " <" + p[2] + ">"
	})
	s = mdEmphasis.ReplaceAllString(s, "$1$2")
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, `\|`, "|").Replace(s)
	return strings.TrimSpace(s)
}

func splitRow(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteString(`\|`)
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// mermaidSummary says what a Mermaid block draws without drawing it.
func mermaidSummary(code []string) string {
	kind := "diagram"
	nodes := 0
	for _, l := range code {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "%%") {
			continue
		}
		if kind == "diagram" {
			kind = strings.Fields(l)[0]
			continue
		}
		if !strings.Contains(l, "-->") && !strings.HasPrefix(l, "classDef") && !strings.HasPrefix(l, "class ") &&
			!strings.HasPrefix(l, "style") && !strings.HasPrefix(l, "subgraph") && l != "end" {
			nodes++
		}
	}
	return fmt.Sprintf("[Mermaid %s: %d nodes, %d lines — view it on GitHub or the dashboard]", kind, nodes, len(code))
}
