package commands

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// cmarkDiffers names the table cases where Mentions deliberately answers
// otherwise than what GitHub's renderer shows as plain paragraph text.
var cmarkDiffers = map[string]string{
	"escaped at sign": `"\@" is how people write a handle without calling it`,
	"entity at sign":  `"&#64;" is the same, encoded`,
}

// TestMentionsAgreeWithGitHubRenderer renders every table case with
// cmark-gfm, the parser GitHub renders comments with, and finds the command
// lines again in its HTML by an independent walk: a line of a <p> or <li>
// (outside quotes, headings, tables, code, footnotes and raw HTML, which the
// safe renderer omits) that starts with plain text "@handle". Mentions must
// find the same commands, so goldmark's reading of the tricky cases is
// GitHub's. The bodies the fuzzer found must hold as many commands for both.
func TestMentionsAgreeWithGitHubRenderer(t *testing.T) {
	var bodies []string
	for _, tc := range mentionCases {
		bodies = append(bodies, tc.body)
	}
	fuzzed := fuzzedBodies(t)
	pages := renderWithCmark(t, append(bodies, fuzzed...))

	for i, tc := range mentionCases {
		if _, ok := cmarkDiffers[tc.name]; ok {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			handle := strings.TrimPrefix(tc.handle, "@")
			if handle == "" {
				handle = "ai3-mvp"
			}
			want := renderedCommands(t, pages[i], handle)
			if !isLogin(handle) {
				want = nil
			}
			var got []string
			for _, inv := range Mentions(tc.body, handle) {
				got = append(got, inv.Name)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("body %q\ncmark-gfm HTML %q\nGitHub shows commands %q, Mentions found %q", tc.body, pages[i], want, got)
			}
		})
	}

	t.Run("fuzzed bodies", func(t *testing.T) {
		compared := 0
		for i, body := range fuzzed {
			// Deliberate differences (escaped or encoded "@"), goldmark's
			// lone CR (not a line ending) and one table goldmark accepts
			// and cmark-gfm does not (header and delimiter rows of different
			// widths) are left out.
			if strings.ContainsAny(body, "\\&\r") || cmarkTableDiffers[body] {
				continue
			}
			compared++
			want := renderedCommands(t, pages[len(bodies)+i], "ai3-mvp")
			if got := Mentions(body, "ai3-mvp"); len(got) != len(want) {
				t.Errorf("body %q\ncmark-gfm HTML %q\nGitHub shows %d commands %q, Mentions found %s", body, pages[len(bodies)+i], len(want), want, show(got))
			}
		}
		if compared < len(fuzzed)/2 {
			t.Fatalf("compared only %d of %d bodies", compared, len(fuzzed))
		}
		t.Logf("%d of %d fuzzed bodies compared", compared, len(fuzzed))
	})
}

// cmarkTableDiffers: a delimiter row wider than its header row makes a table
// for goldmark, not for GitHub.
var cmarkTableDiffers = map[string]bool{"0 0\n-|-\n@Ai3-mvp 0*0 0": true}

// renderWithCmark renders bodies to HTML with cmark-gfm and GitHub's
// extensions, in safe mode (raw HTML omitted) as GitHub does.
func renderWithCmark(t *testing.T, bodies []string) []string {
	t.Helper()
	pkg := testenv.NodePackageDir(t, "cmark-gfm")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "install Node.js")
	}
	in, err := json.Marshal(bodies)
	if err != nil {
		t.Fatal(err)
	}
	script := `const c = require(process.argv[1]);
const bodies = JSON.parse(require("fs").readFileSync(0, "utf8"));
const opts = {footnotes: true, extensions: {table: true, strikethrough: true, autolink: true, tasklist: true, tagfilter: true}};
process.stdout.write(JSON.stringify(bodies.map(b => c.renderHtmlSync(b, opts))));`
	cmd := exec.Command(node, "-e", script, pkg)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cmark-gfm: %v\n%s", err, stderr.String())
	}
	var pages []string
	if err := json.Unmarshal(out, &pages); err != nil || len(pages) != len(bodies) {
		t.Fatalf("cmark-gfm answered %d pages for %d bodies: %v", len(pages), len(bodies), err)
	}
	return pages
}

// renderedCommands returns the names of the commands in rendered HTML.
func renderedCommands(t *testing.T, page, handle string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse cmark-gfm HTML: %v", err)
	}
	var names []string
	var blocks func(n *html.Node)
	blocks = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.DataAtom {
			case atom.Html, atom.Body, atom.Ul, atom.Ol:
				blocks(c)
			case atom.Li: // a tight item holds its text directly
				names = append(names, paragraphCommands(c, handle)...)
				blocks(c)
			case atom.P:
				names = append(names, paragraphCommands(c, handle)...)
			}
		}
	}
	blocks(doc)
	return names
}

// paragraphCommands splits a paragraph's inline content into lines and
// returns the command names of the lines that start with plain text
// "@handle".
func paragraphCommands(p *html.Node, handle string) []string {
	var (
		names     []string
		line      strings.Builder
		started   bool // the line has content
		plainHead bool // and that content starts with plain text
	)
	flush := func() {
		if started && plainHead {
			text := strings.TrimLeftFunc(line.String(), func(r rune) bool { return unicode.IsSpace(r) || isInvisible(r) })
			if hasPrefixFold(text, "@"+handle) {
				if rest, ok := afterHandle(text[len(handle)+1:]); ok {
					name := ""
					if f := strings.Fields(strings.Map(dropInvisible, rest)); len(f) > 0 {
						name = strings.ToLower(f[0])
					}
					names = append(names, name)
				}
			}
		}
		line.Reset()
		started, plainHead = false, false
	}
	for c := p.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			for i, part := range strings.Split(c.Data, "\n") {
				if i > 0 {
					flush()
				}
				if part != "" && !started {
					started, plainHead = true, true
				}
				line.WriteString(part)
			}
		case c.Type == html.ElementNode && isBlock(c.DataAtom):
			flush()
			return names // nested blocks are walked by renderedCommands
		case c.DataAtom == atom.Br:
		default: // inline element or omitted raw HTML
			text := textOf(c)
			if !started {
				started, plainHead = true, false
			}
			before, after, multiline := strings.Cut(text, "\n")
			line.WriteString(before)
			if multiline { // the next line starts inside this element
				flush()
				started, plainHead = true, false
				line.WriteString(after[strings.LastIndexByte(after, '\n')+1:])
			}
		}
	}
	flush()
	return names
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Ul, atom.Ol, atom.Blockquote, atom.Pre, atom.Table, atom.Div,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Hr, atom.Section:
		return true
	}
	return false
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func dropInvisible(r rune) rune {
	if isInvisible(r) {
		return -1
	}
	return r
}
