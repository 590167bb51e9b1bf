package commands

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// MaxCommandsPerComment is how many of a comment's command lines the router
// runs. Mentions returns every command line; the router runs the first
// MaxCommandsPerComment in order and tells the user the rest were not run.
const MaxCommandsPerComment = 5

// Invocation is one command line addressed to the bot.
type Invocation struct {
	// Name is the command, lower-cased ("run"); "" when the handle stands
	// alone on its line (the router answers with help).
	Name string
	// Args are the words after the name, split like a shell would split
	// them (see Mentions); nil when there are none.
	Args []string
	// Line is the 1-based line of the comment body the command is on.
	Line int
	// Text is the rest of that line as written, after the handle (and after
	// a ':' or ',' right behind it), without surrounding whitespace.
	Text string
}

// markdown parses comment bodies as GitHub renders them: CommonMark plus the
// GFM extensions (tables, strike-through, task lists, autolinks) and
// footnotes. A goldmark parser keeps no state between Parse calls, so one is
// built on first use and shared.
var markdown = sync.OnceValue(func() parser.Parser {
	return goldmark.New(goldmark.WithExtensions(extension.GFM, extension.Footnote)).Parser()
})

// Mentions returns the commands addressed to @handle in a comment body, in
// the order they appear. handle is the bot's login without the "@" (a
// leading "@" is tolerated) and is matched case-insensitively; a handle that
// is not a GitHub login (letters, digits and '-') yields no commands.
//
// A command is a line whose text starts with "@handle", in a paragraph of the
// comment itself or of a list item (ordered, bulleted or nested, including a
// lazy continuation line of the item). "Starts" means the first visible
// character of the line inside its list item, so "- @handle run x" and
// "1. @handle run x" are commands; leading spaces, tabs, no-break spaces and
// zero-width characters before the "@" are ignored. The command is the rest
// of that line. The body is parsed as Markdown, and a mention is not a
// command when GitHub would show it as anything but plain paragraph text:
//   - code: fenced (``` or ~~~, any info string, unclosed fences run to the
//     end), indented, or an inline code span even one that starts on an
//     earlier line;
//   - block quotes at any depth, including a quote inside a list item and a
//     lazy continuation line right after a quote ("> x" then "@handle run"
//     on the next line is still the quote, as GitHub shows it);
//   - HTML: HTML blocks, inline HTML and HTML comments, even over several
//     lines. <details> and <summary> are HTML blocks, but CommonMark ends an
//     HTML block at a blank line, so a command line after a blank line inside
//     <details> is ordinary Markdown and counts, exactly as GitHub renders
//     it as Markdown;
//   - headings (ATX "# ..." and setext: a command line directly followed by
//     "---" or "===" becomes a heading), table cells, footnote definitions;
//   - link text, images and autolinks ("[@handle run](url)"): the line does
//     not start with plain text;
//   - task list items: "- [ ] @handle run" starts with its check box, so it
//     is a to-do, not a command;
//   - escaped or encoded at signs ("\@handle", "&#64;handle").
//
// The handle must end where a GitHub login cannot continue: it must be
// followed by the end of the line, white space, or a ':' or ',' (which is
// dropped: "@handle: run x" and "@handle, run x" are "run x"). So
// "@handle-other", "@handle_x", "@handle.dev", "@handle/team", "@handle's"
// and "foo@handle.dev" are not commands.
//
// The command text is split into words at white space (no-break spaces
// included). Double quotes, straight or curly as phones type them, group
// words ("reason=not today" is one argument, quotes removed); inside quotes
// a backslash escapes a quote or a backslash; an unclosed quote takes the
// rest of the line. Single quotes are ordinary characters (people write
// "don't"). Zero-width spaces, word joiners and byte order marks are dropped
// from the words since nobody can see them. The first word, lower-cased, is
// Name.
//
// Lines end at LF or CRLF (a lone CR does not end a line, as in goldmark).
// A body may hold several command lines; all are returned, and the router
// runs at most MaxCommandsPerComment of them.
//
// Cost (2-core VM): a body without "@handle" is not parsed (1-2 µs per
// 10 KB); a 10 KB review comment takes 1.5-2.5 ms. goldmark is
// super-linear on some crafted inputs (thousands of mixed '*' and '_'
// delimiters or unclosed "[a](" in one paragraph, thousands of nested '>';
// yuin/goldmark#555): a 64 KB body of them takes seconds, so call Mentions
// where a slow comment delays only itself.
func Mentions(body, handle string) []Invocation {
	handle = strings.TrimPrefix(handle, "@")
	if !isLogin(handle) {
		return nil
	}
	at := "@" + handle
	if indexFold(body, at) < 0 {
		return nil // most comments: no need to parse
	}
	src := []byte(body)
	doc := markdown().Parse(text.NewReader(src))
	f := finder{src: src, body: body, at: at}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindDocument, ast.KindList, ast.KindListItem:
			return ast.WalkContinue, nil
		case ast.KindParagraph, ast.KindTextBlock:
			f.paragraph(n)
		}
		// Everything else (quotes, headings, code, HTML, tables, footnotes)
		// hides what it holds.
		return ast.WalkSkipChildren, nil
	})
	return f.found
}

// finder collects the command lines of the paragraphs it is shown, keeping
// a running line count so the body is scanned for line breaks only once.
type finder struct {
	src   []byte
	body  string
	at    string // "@" + handle
	found []Invocation

	countedTo int // bytes of body whose line breaks are in line
	line      int // line breaks before countedTo
}

// paragraph looks at each line of a paragraph (or of a tight list item's
// text) and records those whose first inline is plain text starting with the
// mention. A line that starts inside a code span, inline HTML, a link or a
// check box has no Text child of its own starting there.
func (f *finder) paragraph(n ast.Node) {
	var starts []int // Segment.Start of the plain Text children, ascending
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			starts = append(starts, t.Segment.Start)
		}
	}
	lines := n.Lines()
	j := 0
	for i := range lines.Len() {
		seg := lines.At(i)
		p := seg.Start
		for p < seg.Stop && (f.src[p] == ' ' || f.src[p] == '\t') {
			p++
		}
		for j < len(starts) && starts[j] < p {
			j++
		}
		if j == len(starts) || starts[j] != p {
			continue
		}
		if inv, ok := f.command(p); ok {
			f.found = append(f.found, inv)
		}
	}
}

// command reads the source line from p, where plain text starts, and returns
// the command it holds if that text is the mention.
func (f *finder) command(p int) (Invocation, bool) {
	end := strings.IndexByte(f.body[p:], '\n')
	if end < 0 {
		end = len(f.body)
	} else {
		end += p
	}
	line := f.body[p:end]
	line = strings.TrimLeftFunc(line, func(r rune) bool { return unicode.IsSpace(r) || isInvisible(r) })
	if !hasPrefixFold(line, f.at) {
		return Invocation{}, false
	}
	rest, ok := afterHandle(line[len(f.at):])
	if !ok {
		return Invocation{}, false
	}
	inv := Invocation{Line: f.lineOf(p), Text: strings.TrimSpace(rest)}
	if words := splitWords(rest); len(words) > 0 {
		inv.Name = strings.ToLower(words[0])
		if len(words) > 1 {
			inv.Args = words[1:]
		}
	}
	return inv, true
}

// afterHandle returns what follows the handle when the handle ends there as
// a GitHub login would: at the end of the line, at white space (or an
// invisible character), or at a ':' or ',' separator, which it drops.
func afterHandle(rest string) (string, bool) {
	if rest == "" {
		return "", true
	}
	if rest[0] == ':' || rest[0] == ',' {
		return rest[1:], true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest, unicode.IsSpace(r) || isInvisible(r)
}

// lineOf returns the 1-based line of byte offset p. Offsets are asked for in
// ascending order (paragraphs are walked in document order).
func (f *finder) lineOf(p int) int {
	f.line += strings.Count(f.body[f.countedTo:p], "\n")
	f.countedTo = p
	return f.line + 1
}

// splitWords splits a command line into words like a shell: white space
// separates, double quotes (straight or curly) group, a backslash inside
// quotes escapes a quote or a backslash, an unclosed quote runs to the end,
// and invisible characters are dropped.
func splitWords(s string) []string {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		inQuote bool
	)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case isInvisible(r):
		case inQuote && r == '\\' && i < len(s):
			next, nsize := utf8.DecodeRuneInString(s[i:])
			if next == '\\' || isQuote(next) {
				cur.WriteRune(next)
				i += nsize
			} else {
				cur.WriteRune(r)
			}
		case isQuote(r):
			inQuote = !inQuote
			inWord = true // "" is an empty argument
		case !inQuote && unicode.IsSpace(r):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

// isInvisible reports the zero-width characters that carry no meaning in a
// command: zero-width space, word joiner and byte order mark. Zero-width
// joiners are kept: emoji sequences need them.
func isInvisible(r rune) bool { return r == '\u200b' || r == '\u2060' || r == '\ufeff' }

// isLogin reports whether s can be a GitHub login: letters, digits and '-'.
func isLogin(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// indexFold is strings.Index ignoring ASCII case, for an ASCII sub that
// starts with '@'.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); {
		k := strings.IndexByte(s[i:], sub[0])
		if k < 0 || i+k+len(sub) > len(s) {
			return -1
		}
		i += k
		if hasPrefixFold(s[i:], sub) {
			return i
		}
		i++
	}
	return -1
}

// hasPrefixFold reports whether s starts with the ASCII string prefix,
// ignoring ASCII case only (so no other script's letter can stand in for
// one of the handle's).
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		a, b := s[i], prefix[i]
		if a != b && lower(a) != lower(b) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
