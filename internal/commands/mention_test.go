package commands

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// mentionCase is one comment body and the commands a user expects the bot
// to see in it.
type mentionCase struct {
	name   string
	handle string // "" means "ai3-mvp"
	body   string
	want   []Invocation
}

// cmd builds an expected Invocation.
func cmd(line int, text, name string, args ...string) Invocation {
	inv := Invocation{Name: name, Line: line, Text: text}
	if len(args) > 0 {
		inv.Args = args
	}
	return inv
}

var mentionCases = []mentionCase{
	// Where a command can be.
	{name: "alone", body: "@ai3-mvp run deploy", want: []Invocation{cmd(1, "run deploy", "run", "deploy")}},
	{name: "after a paragraph", body: "Thanks!\n\n@ai3-mvp run deploy", want: []Invocation{cmd(3, "run deploy", "run", "deploy")}},
	{name: "second line of a paragraph", body: "Looks good.\n@ai3-mvp approve", want: []Invocation{cmd(2, "approve", "approve")}},
	{name: "handle alone asks for help", body: "@ai3-mvp", want: []Invocation{cmd(1, "", "")}},
	{name: "handle alone with trailing spaces", body: "hi\n@ai3-mvp   \nbye", want: []Invocation{cmd(2, "", "")}},
	{name: "mixed case handle, name lower-cased, args kept", body: "@AI3-Mvp Run Deploy", want: []Invocation{cmd(1, "Run Deploy", "run", "Deploy")}},
	{name: "up to three leading spaces", body: "   @ai3-mvp run x", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "mention mid-line", body: "hey @ai3-mvp run x"},
	{name: "indented line continuing a paragraph", body: "text\n    @ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "hard line break before", body: "text\\\n@ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "after a thematic break", body: "@ai3-mvp run x\n\n---\n", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "inline HTML that is not a block", body: "<b>bold</b>\n@ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "paragraph above a table", body: "@ai3-mvp run x\n| a | b |\n|---|---|\n| 1 | 2 |", want: []Invocation{cmd(1, "run x", "run", "x")}},

	// Lists.
	{name: "bullet item", body: "- @ai3-mvp run x", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "ordered items", body: "1. @ai3-mvp run a\n2) @ai3-mvp run b", want: []Invocation{cmd(1, "run a", "run", "a"), cmd(2, "run b", "run", "b")}},
	{name: "nested item", body: "- parent\n  - @ai3-mvp run nested", want: []Invocation{cmd(2, "run nested", "run", "nested")}},
	{name: "loose list item", body: "- one\n\n- @ai3-mvp run x", want: []Invocation{cmd(3, "run x", "run", "x")}},
	{name: "item continuation line", body: "- item\n  @ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "lazy continuation of an item", body: "- item\n@ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "item paragraph after a blank line", body: "- item\n\n    @ai3-mvp run x", want: []Invocation{cmd(3, "run x", "run", "x")}},
	{name: "indented code inside an item", body: "- item\n\n      @ai3-mvp run x"},
	{name: "indented code after a list", body: "- item\n\ntext\n\n    @ai3-mvp run x"},
	{name: "task item is a to-do", body: "- [ ] @ai3-mvp run x"},
	{name: "item after a task item", body: "- [x] done\n- @ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "fence inside an item", body: "- ```\n  @ai3-mvp run x\n  ```"},

	// Code.
	{name: "indented code", body: "    @ai3-mvp run x"},
	{name: "tab-indented code", body: "\t@ai3-mvp run x"},
	{name: "backtick fence", body: "```\n@ai3-mvp run x\n```"},
	{name: "tilde fence with info string", body: "~~~sh {.x}\n@ai3-mvp run x\n~~~"},
	{name: "longer fence holds a shorter one", body: "````\n```\n@ai3-mvp run x\n```\n````\n@ai3-mvp after", want: []Invocation{cmd(6, "after", "after")}},
	{name: "shorter fence does not close", body: "````\n@ai3-mvp a\n```\n@ai3-mvp b"},
	{name: "unclosed fence runs to the end", body: "text\n```go\ncode\n\n@ai3-mvp run x"},
	{name: "inline code", body: "`@ai3-mvp run x`"},
	{name: "code span over two lines", body: "``a ` \n@ai3-mvp run x``"},
	{name: "unmatched backtick lengths are text", body: "``a`\n@ai3-mvp run x", want: []Invocation{cmd(2, "run x", "run", "x")}},
	{name: "line starting inside a code span", body: "`x\ny` @ai3-mvp run"},

	// Quotes.
	{name: "quote", body: "> @ai3-mvp run x"},
	{name: "nested quote", body: "> > @ai3-mvp run x"},
	{name: "lazy line after a quote", body: "> please\n@ai3-mvp run x"},
	{name: "quote then blank line", body: "> please\n\n@ai3-mvp run x", want: []Invocation{cmd(3, "run x", "run", "x")}},
	{name: "quote inside an item", body: "- item\n  > @ai3-mvp run x"},

	// Headings and tables.
	{name: "ATX heading", body: "## @ai3-mvp run x"},
	{name: "setext heading dashes", body: "@ai3-mvp run x\n---"},
	{name: "setext heading equals", body: "@ai3-mvp run x\n==="},
	{name: "table cell", body: "| a | b |\n|---|---|\n| @ai3-mvp run | x |"},
	{name: "table row without pipes", body: "a | b\n--|--\n@ai3-mvp run | x"},

	// HTML.
	{name: "HTML comment", body: "<!-- @ai3-mvp run x -->"},
	{name: "HTML comment over blank lines", body: "<!--\n@ai3-mvp run x\n\n@ai3-mvp run y\n-->"},
	{name: "inline HTML comment over lines", body: "text <!--\n@ai3-mvp run x\n-->"},
	{name: "HTML block", body: "<div>\n@ai3-mvp run x\n</div>"},
	{name: "open tag alone starts an HTML block", body: "<span>\n@ai3-mvp run x"},
	{name: "details without blank line", body: "<details>\n<summary>Logs</summary>\n@ai3-mvp run x\n</details>"},
	{name: "details with blank lines is Markdown", body: "<details>\n<summary>Logs</summary>\n\n@ai3-mvp run x\n\n</details>", want: []Invocation{cmd(4, "run x", "run", "x")}},
	{name: "summary", body: "<details><summary>@ai3-mvp run x</summary>\n\nbody\n</details>"},

	// Inlines that are not plain text.
	{name: "escaped at sign", body: "\\@ai3-mvp run x"},
	{name: "entity at sign", body: "&#64;ai3-mvp run x"},
	{name: "link text", body: "[@ai3-mvp run x](https://example.com)"},
	{name: "image alt", body: "![@ai3-mvp run x](img.png)"},
	{name: "autolink", body: "<mailto:x@ai3-mvp.dev>\n<https://github.com/@ai3-mvp>"},
	{name: "emphasis", body: "*@ai3-mvp run x*"},
	{name: "strike-through", body: "~~@ai3-mvp run x~~"},
	{name: "strike-through in args", body: "@ai3-mvp run ~~x~~", want: []Invocation{cmd(1, "run ~~x~~", "run", "~~x~~")}},
	{name: "footnote definition", body: "Note[^1]\n\n[^1]: @ai3-mvp run x\n    @ai3-mvp run y"},

	// Where the handle ends.
	{name: "email", body: "foo@ai3-mvp.dev run x"},
	{name: "domain after the handle", body: "@ai3-mvp.dev run x"},
	{name: "period after the handle", body: "@ai3-mvp."},
	{name: "longer login", body: "@ai3-mvp-other run x"},
	{name: "underscore", body: "@ai3-mvp_x run x"},
	{name: "team", body: "@ai3-mvp/team run x"},
	{name: "possessive", body: "@ai3-mvp's build failed"},
	{name: "colon", body: "@ai3-mvp: run x", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "comma", body: "@ai3-mvp,run x", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "double at", body: "@@ai3-mvp run x"},

	// Arguments.
	{name: "quoted argument", body: `@ai3-mvp reject "not today" now`, want: []Invocation{cmd(1, `reject "not today" now`, "reject", "not today", "now")}},
	{name: "quotes inside a word", body: `@ai3-mvp reject reason="not today"`, want: []Invocation{cmd(1, `reject reason="not today"`, "reject", "reason=not today")}},
	{name: "escapes in quotes", body: `@ai3-mvp run "say \"hi\" \\o/" a\b`, want: []Invocation{cmd(1, `run "say \"hi\" \\o/" a\b`, "run", `say "hi" \o/`, `a\b`)}},
	{name: "unterminated quote takes the rest", body: `@ai3-mvp reject "not  today`, want: []Invocation{cmd(1, `reject "not  today`, "reject", "not  today")}},
	{name: "empty quotes", body: `@ai3-mvp run ""`, want: []Invocation{cmd(1, `run ""`, "run", "")}},
	{name: "curly quotes", body: "@ai3-mvp reject “not today”", want: []Invocation{cmd(1, "reject “not today”", "reject", "not today")}},
	{name: "single quotes are text", body: "@ai3-mvp reject don't 'a b'", want: []Invocation{cmd(1, "reject don't 'a b'", "reject", "don't", "'a", "b'")}},
	{name: "tabs", body: "@ai3-mvp\trun\t x", want: []Invocation{cmd(1, "run\t x", "run", "x")}},

	// Characters.
	{name: "CRLF", body: "Thanks\r\n\r\n@ai3-mvp run deploy\r\n", want: []Invocation{cmd(3, "run deploy", "run", "deploy")}},
	{name: "no-break spaces", body: "\u00a0@ai3-mvp\u00a0run\u00a0x", want: []Invocation{cmd(1, "run\u00a0x", "run", "x")}},
	{name: "zero-width characters", body: "\ufeff\u200b@ai3-mvp\u200b run\u200bdeploy x", want: []Invocation{cmd(1, "\u200b run\u200bdeploy x", "rundeploy", "x")}},
	{name: "emoji before the mention", body: "🚀 @ai3-mvp run x"},
	{name: "emoji arguments", body: "@ai3-mvp run 🚀 👨\u200d👩\u200d👧", want: []Invocation{cmd(1, "run 🚀 👨\u200d👩\u200d👧", "run", "🚀", "👨\u200d👩\u200d👧")}},

	// Several commands, other handles.
	{name: "several commands in order", body: "@ai3-mvp run a\n@ai3-mvp run b\n\n> @ai3-mvp run no\n\n- @ai3-mvp run c", want: []Invocation{cmd(1, "run a", "run", "a"), cmd(2, "run b", "run", "b"), cmd(6, "run c", "run", "c")}},
	{name: "more than the router runs", body: strings.Repeat("@ai3-mvp status\n", MaxCommandsPerComment+2), want: repeatStatus(MaxCommandsPerComment + 2)},
	{name: "custom handle", handle: "ghe-bot", body: "@GHE-bot run x\n@ai3-mvp run y", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "handle given with @", handle: "@ai3-mvp", body: "@ai3-mvp run x", want: []Invocation{cmd(1, "run x", "run", "x")}},
	{name: "handle that is no login", handle: "ai3 mvp", body: "@ai3 mvp run x"},
}

func repeatStatus(n int) []Invocation {
	var out []Invocation
	for i := 1; i <= n; i++ {
		out = append(out, cmd(i, "status", "status"))
	}
	return out
}

func TestMentions(t *testing.T) {
	if len(mentionCases) < 50 {
		t.Fatalf("only %d cases", len(mentionCases))
	}
	for _, tc := range mentionCases {
		t.Run(tc.name, func(t *testing.T) {
			handle := tc.handle
			if handle == "" {
				handle = "ai3-mvp"
			}
			got := Mentions(tc.body, handle)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Mentions(%q, %q)\n got %s\nwant %s", tc.body, handle, show(got), show(tc.want))
			}
		})
	}
}

func TestMentionsEmptyHandle(t *testing.T) {
	if got := Mentions("@ run x\n@", ""); got != nil {
		t.Errorf("empty handle found %s", show(got))
	}
}

// TestMentionsLongBody: a body as long as GitHub allows (65,536 characters)
// with the command on its last line, and a single line that long.
func TestMentionsLongBody(t *testing.T) {
	const limit = 65536
	line := "Some words of a long review comment, with `code` and *emphasis*.\n"
	var b strings.Builder
	lines := 0
	for b.Len()+len(line) < limit-40 {
		b.WriteString(line)
		lines++
	}
	b.WriteString("\n@ai3-mvp run deploy")
	for b.Len() < limit {
		b.WriteString(" x")
	}
	body := b.String()[:limit]
	got := Mentions(body, "ai3-mvp")
	if len(got) != 1 || got[0].Line != lines+2 || got[0].Name != "run" || got[0].Args[0] != "deploy" {
		t.Fatalf("got %s, want run deploy on line %d", show(got), lines+2)
	}

	long := "@ai3-mvp run " + strings.Repeat("a", limit-13)
	got = Mentions(long, "ai3-mvp")
	if len(got) != 1 || len(got[0].Args) != 1 || len(got[0].Args[0]) != limit-13 {
		t.Fatalf("long line: got %d invocations", len(got))
	}
}

func show(invs []Invocation) string {
	if invs == nil {
		return "none"
	}
	var b strings.Builder
	for _, inv := range invs {
		fmt.Fprintf(&b, "\n  {Line:%d Name:%q Args:%q Text:%q}", inv.Line, inv.Name, inv.Args, inv.Text)
	}
	return b.String()
}

func ExampleMentions() {
	body := "Looks good to me.\n\n" +
		"> @ai3-mvp run deploy (quoted: ignored)\n\n" +
		"@ai3-mvp approve\n" +
		"@ai3-mvp reject reason=\"not today\"\n"
	for _, inv := range Mentions(body, "ai3-mvp") {
		fmt.Printf("line %d: %s %q\n", inv.Line, inv.Name, inv.Args)
	}
	// Output:
	// line 5: approve []
	// line 6: reject ["reason=not today"]
}
