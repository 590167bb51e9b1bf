package jsonata

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind classifies lexical tokens.
type tokenKind int

const (
	tokEnd tokenKind = iota
	tokOperator
	tokName
	tokVariable
	tokString
	tokNumber
	tokValue // true, false, null
	tokRegex
)

type token struct {
	kind  tokenKind
	text  string  // operator symbol, name, variable name (without $), string value
	num   float64 // tokNumber
	value any     // tokValue: true, false or nil
	flags string  // tokRegex
	pos   int     // 1-based position just after the token, as JSONata reports it
}

// lexer splits a JSONata expression into tokens. Whether a '/' starts a
// regex literal or is the division operator depends on where the parser is,
// so the parser says, token by token, whether a regex may come next.
type lexer struct {
	src     string
	pos     int
	regexOK bool
}

func isOperatorStart(c byte) bool {
	return strings.IndexByte(".[]{}(),@#;:?+-*/%|=<>^&!~", c) >= 0
}

// next scans the next token; regexOK allows it to be a regex literal.
func (lx *lexer) next(regexOK bool) (token, error) {
	lx.regexOK = regexOK
	return lx.scan()
}

func (lx *lexer) scan() (token, error) {
	src := lx.src
	// skip whitespace and comments
	for lx.pos < len(src) {
		c := src[lx.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			lx.pos++
			continue
		}
		if c == '/' && lx.pos+1 < len(src) && src[lx.pos+1] == '*' {
			end := strings.Index(src[lx.pos+2:], "*/")
			if end < 0 {
				return token{}, newError("S0106", lx.pos, "", nil)
			}
			lx.pos += end + 4
			continue
		}
		break
	}
	if lx.pos >= len(src) {
		return token{kind: tokEnd, pos: lx.pos}, nil
	}
	c := src[lx.pos]
	if c == '/' && lx.regexOK {
		return lx.scanRegex()
	}
	if lx.pos+1 < len(src) {
		two := src[lx.pos : lx.pos+2]
		switch two {
		case "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??":
			lx.pos += 2
			return token{kind: tokOperator, text: two, pos: lx.pos}, nil
		}
	}
	if isOperatorStart(c) {
		lx.pos++
		if c == '!' || c == '~' {
			// only != and ~> exist
			return token{}, newError("S0204", lx.pos, string(c), nil)
		}
		return token{kind: tokOperator, text: string(c), pos: lx.pos}, nil
	}
	if c == '"' || c == '\'' {
		return lx.scanString(c)
	}
	if c >= '0' && c <= '9' {
		return lx.scanNumber()
	}
	if c == '`' {
		end := strings.IndexByte(src[lx.pos+1:], '`')
		if end < 0 {
			return token{}, newError("S0105", len(src), "", nil)
		}
		name := src[lx.pos+1 : lx.pos+1+end]
		lx.pos += end + 2
		return token{kind: tokName, text: name, pos: lx.pos}, nil
	}
	// names and variables run until whitespace or an operator character
	start := lx.pos
	i := lx.pos
	for i < len(src) {
		ch := src[i]
		if ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f' || isOperatorStart(ch) || ch == '"' || ch == '\'' || ch == '`' {
			break
		}
		i++
	}
	word := src[start:i]
	lx.pos = i
	if word[0] == '$' {
		return token{kind: tokVariable, text: word[1:], pos: lx.pos}, nil
	}
	switch word {
	case "and", "or", "in":
		return token{kind: tokOperator, text: word, pos: lx.pos}, nil
	case "true":
		return token{kind: tokValue, value: true, text: word, pos: lx.pos}, nil
	case "false":
		return token{kind: tokValue, value: false, text: word, pos: lx.pos}, nil
	case "null":
		return token{kind: tokValue, value: nil, text: word, pos: lx.pos}, nil
	}
	return token{kind: tokName, text: word, pos: lx.pos}, nil
}

func (lx *lexer) scanRegex() (token, error) {
	src := lx.src
	start := lx.pos + 1
	i := start
	depth := 0 // inside [...] a '/' does not end the pattern
	for i < len(src) {
		c := src[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '[' {
			depth = 1
		} else if c == ']' {
			depth = 0
		} else if c == '/' && depth == 0 {
			pattern := src[start:i]
			if pattern == "" {
				return token{}, newError("S0301", start, "", nil)
			}
			i++
			fstart := i
			for i < len(src) && (src[i] == 'i' || src[i] == 'm') {
				i++
			}
			lx.pos = i
			return token{kind: tokRegex, text: pattern, flags: src[fstart:i], pos: lx.pos}, nil
		}
		i++
	}
	return token{}, newError("S0302", i, "", nil)
}

func (lx *lexer) scanString(quote byte) (token, error) {
	src := lx.src
	var b strings.Builder
	i := lx.pos + 1
	for i < len(src) {
		c := src[i]
		if c == quote {
			lx.pos = i + 1
			return token{kind: tokString, text: b.String(), pos: lx.pos}, nil
		}
		if c != '\\' {
			r, size := utf8.DecodeRuneInString(src[i:])
			b.WriteRune(r)
			i += size
			continue
		}
		i++
		if i >= len(src) {
			break
		}
		switch e := src[i]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r1, ok := hex4(src, i+1)
			if !ok {
				return token{}, newError("S0104", i, "", nil)
			}
			i += 4
			// join a UTF-16 surrogate pair into one rune
			if r1 >= 0xD800 && r1 < 0xDC00 && i+2 < len(src) && src[i+1] == '\\' && src[i+2] == 'u' {
				if r2, ok := hex4(src, i+3); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					b.WriteRune(rune((r1-0xD800)<<10 + (r2 - 0xDC00) + 0x10000))
					i += 6
					break
				}
			}
			b.WriteRune(rune(r1))
		default:
			return token{}, newError("S0103", i, string(e), nil)
		}
		i++
	}
	return token{}, newError("S0101", i, "", nil)
}

func hex4(s string, at int) (int, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[at:at+4], 16, 32)
	return int(v), err == nil
}

func (lx *lexer) scanNumber() (token, error) {
	src := lx.src
	i := lx.pos
	digits := func() {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if src[i] == '0' {
		i++
	} else {
		digits()
	}
	if i+1 < len(src) && src[i] == '.' && src[i+1] >= '0' && src[i+1] <= '9' {
		i++
		digits()
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && src[j] >= '0' && src[j] <= '9' {
			i = j
			digits()
		}
	}
	text := src[lx.pos:i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, newError("S0102", i, text, nil)
	}
	lx.pos = i
	return token{kind: tokNumber, num: f, text: text, pos: lx.pos}, nil
}
