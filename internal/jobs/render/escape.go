package render

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// truncate keeps the first n runes of s (made valid UTF-8), ending in "…"
// when it cut.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// prefix keeps the first n runes of s.
func prefix(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

// inline makes free text (a Detail, an error, a login) safe inside a
// Markdown paragraph or table cell: at most n runes, one line, HTML shown as
// text, Markdown punctuation shown as itself and pipes that cannot end a
// table cell.
func inline(s string, n int) string {
	s = truncate(s, n)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune("\\`*_[]~|#!", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code writes s as a code span on one line: a run of backticks longer than
// any inside s delimits it. In a table cell pipes need cell too.
func code(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.TrimSpace(s) == "" {
		pad = " "
	}
	return ticks + pad + s + pad + ticks
}

// cellCode is code for a table cell, where a pipe ends the cell unless
// escaped, even inside a code span.
func cellCode(s string) string { return strings.ReplaceAll(code(s), "|", `\|`) }

// fence writes s as a fenced code block whose fence is longer than any
// backtick run inside s, so nothing in s can close it.
func fence(info, s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	f := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return f + info + "\n" + s + f + "\n"
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// link writes a Markdown link to an http(s) address; anything else is shown
// as text, never as a link. Characters that could end the link or a table
// cell are percent-encoded.
func link(text, addr string) string {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(addr) > 500 {
		return inline(addr, maxDetail)
	}
	var b strings.Builder
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>|\"`\\[]", c) >= 0 {
			b.WriteString("%")
			b.WriteString(strings.ToUpper(hex2(c)))
			continue
		}
		b.WriteByte(c)
	}
	return "[" + inline(text, maxName) + "](" + b.String() + ")"
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
