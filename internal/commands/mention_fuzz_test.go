package commands

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzMentions checks, for any body, that Mentions does not panic, answers
// the same twice, and that every command it reports really is on the line it
// names; and that quoting a comment (as GitHub's "Quote reply" does) or
// pasting it in a code block never runs anything.
func FuzzMentions(f *testing.F) {
	for _, tc := range mentionCases {
		f.Add(tc.body)
	}
	for _, body := range fuzzedBodies(f) {
		f.Add(body)
	}
	f.Add("@ai3-mvp run a\r\n@ai3-mvp\r\n\r\n> @ai3-mvp no\r@ai3-mvp")
	f.Add("- [ ] x\n  1. @ai3-mvp run \"a\\\" b\n     > @ai3-mvp\n@ai3-mvp <!--\n-->")
	f.Add("<details>\n\n@ai3-mvp run x\n\n</details>\n```\n@ai3-mvp\n")
	f.Add("\x00@ai3-mvp\x00run\xff\xfe \u00a0\u2028@ai3-mvp")
	f.Fuzz(func(t *testing.T, body string) {
		for _, handle := range []string{"ai3-mvp", "ghe-bot"} {
			got := Mentions(body, handle)
			if again := Mentions(body, handle); !reflect.DeepEqual(got, again) {
				t.Fatalf("not deterministic: %s then %s", show(got), show(again))
			}
			checkOnTheirLines(t, body, handle, got)

			quoted := "> " + strings.ReplaceAll(body, "\n", "\n> ")
			if got := Mentions(quoted, handle); got != nil {
				t.Fatalf("a quoted comment runs %s", show(got))
			}
			fence := strings.Repeat("`", longestRun(body, '`')+3)
			if got := Mentions(fence+"\n"+body+"\n"+fence, handle); got != nil {
				t.Fatalf("a comment in a code block runs %s", show(got))
			}
		}
	})
}

// fuzzedBodies reads testdata/fuzzed-bodies.txt.
func fuzzedBodies(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fuzzed-bodies.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		body, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("testdata/fuzzed-bodies.txt:%d: %v", n+1, err)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

func checkOnTheirLines(t *testing.T, body, handle string, got []Invocation) {
	t.Helper()
	lines := strings.Split(body, "\n")
	prev := 0
	for _, inv := range got {
		if inv.Line <= prev || inv.Line > len(lines) {
			t.Fatalf("line %d out of order or range (previous %d, %d lines): %s", inv.Line, prev, len(lines), show(got))
		}
		prev = inv.Line
		line := lines[inv.Line-1]
		if !strings.Contains(strings.ToLower(line), "@"+handle) {
			t.Fatalf("line %d %q does not hold @%s: %s", inv.Line, line, handle, show(got))
		}
		if !strings.Contains(line, inv.Text) {
			t.Fatalf("text %q is not on line %d %q", inv.Text, inv.Line, line)
		}
		if inv.Name != strings.ToLower(inv.Name) {
			t.Fatalf("name %q is not lower-case", inv.Name)
		}
		if inv.Args != nil && len(inv.Args) == 0 {
			t.Fatalf("empty, non-nil args")
		}
	}
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}

// typicalComment is a 10 KB pull-request review comment: prose, lists, a
// quote, code, a table, a collapsed log and two commands at the end.
func typicalComment() string {
	section := `### Review notes

Thanks for the change! A few things before we merge:

1. The retry loop in ` + "`deploy.go`" + ` should back off; see the [docs](https://example.com/retries).
2. Please add a test for the **empty** input case.
   - including CRLF bodies
   - and the ~~old~~ new limits

> @ai3-mvp run deploy
> (quoted from the previous comment: not a command)

` + "```go\nfor i := 0; i < n; i++ {\n\t// @ai3-mvp run x is not a command here\n\tdo(i)\n}\n```" + `

| step | time |
|------|------|
| build | 41 s |
| test | 2 min |

<details>
<summary>Logs</summary>

    ok   github.com/example/pkg  0.412s

</details>

`
	var b strings.Builder
	for b.Len() < 10*1024-200 {
		b.WriteString(section)
	}
	b.WriteString("@ai3-mvp run deploy env=staging\n@ai3-mvp reject reason=\"not today\"\n")
	return b.String()
}

func BenchmarkMentions(b *testing.B) {
	body := typicalComment()
	if got := Mentions(body, "ai3-mvp"); len(got) != 2 {
		b.Fatalf("want 2 commands, got %s", show(got))
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Mentions(body, "ai3-mvp")
	}
}

// BenchmarkMentionsNoMention: most comments never name the bot and are not
// parsed at all.
func BenchmarkMentionsNoMention(b *testing.B) {
	body := strings.ReplaceAll(typicalComment(), "@ai3-mvp", "@someone")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Mentions(body, "ai3-mvp")
	}
}
