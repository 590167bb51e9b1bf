package events

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A hand-written JSON scanner for the receiver's hot path. encoding/json
// validates at about 150 MB/s and re-validates a RawMessage on every Marshal;
// a GitHub payload goes through validation once here (at well over 1 GB/s:
// string bodies are skipped with a tight byte loop), and the envelope is
// encoded and decoded around the payload bytes without touching them again.
// It accepts exactly what json.Valid accepts (a fuzz test holds it to that).

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

type scanner struct {
	data []byte
	i    int
}

func (s *scanner) fail(what string) error {
	if s.i >= len(s.data) {
		return fmt.Errorf("invalid JSON: unexpected end of input (%s)", what)
	}
	return fmt.Errorf("invalid JSON at offset %d: %s", s.i, what)
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value validates and skips one JSON value starting at s.i.
func (s *scanner) value(depth int) error {
	if s.i >= len(s.data) {
		return s.fail("expected a value")
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object(depth+1, nil)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	default:
		return s.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

// object validates the object at s.i; when member is not nil it is called
// with each member's raw key (without quotes) and raw value.
func (s *scanner) object(depth int, member func(key, val []byte)) error {
	if depth > maxDepth {
		return s.fail("nested too deeply")
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return s.fail("expected a member name")
		}
		k0 := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := s.data[k0+1 : s.i-1]
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return s.fail("expected ':'")
		}
		s.i++
		s.ws()
		v0 := s.i
		if err := s.value(depth); err != nil {
			return err
		}
		if member != nil {
			member(key, s.data[v0:s.i])
		}
		s.ws()
		if s.i >= len(s.data) {
			return s.fail("unterminated object")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *scanner) array(depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deeply")
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.data) {
			return s.fail("unterminated array")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

// str validates the string at s.i and moves past its closing quote.
func (s *scanner) str() error {
	d := s.data
	i := s.i + 1
	for {
		// Eight bytes at a time while none of them ends the plain run
		// ('"', '\\' or a control character), then byte by byte.
		for i+8 <= len(d) && !stopsString(binary.LittleEndian.Uint64(d[i:])) {
			i += 8
		}
		for i < len(d) {
			c := d[i]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			i++
		}
		if i >= len(d) {
			s.i = i
			return s.fail("unterminated string")
		}
		switch d[i] {
		case '"':
			s.i = i + 1
			return nil
		case '\\':
			i++
			if i >= len(d) {
				s.i = i
				return s.fail("unterminated escape")
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(d) || !isHex(d[i+1]) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) {
					s.i = i
					return s.fail(`bad \u escape`)
				}
				i += 5
			default:
				s.i = i
				return s.fail("bad escape")
			}
		default:
			s.i = i
			return s.fail("control character in string")
		}
	}
}

// stopsString reports whether any byte of w is '"', '\\' or below 0x20
// (the classic "has zero byte" bit trick applied to w^'"', w^'\\' and w-0x20).
func stopsString(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	less20 := (w - 0x20*ones) & ^w & highs
	return zero(w^('"'*ones))|zero(w^('\\'*ones))|less20 != 0
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.data[s.i:], []byte(lit)) {
		return s.fail("bad literal")
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.data[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.data) && s.data[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return s.fail("bad number")
	}
	if s.i < len(s.data) && s.data[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return s.fail("bad fraction")
		}
	}
	if s.i < len(s.data) && (s.data[s.i] == 'e' || s.data[s.i] == 'E') {
		s.i++
		if s.i < len(s.data) && (s.data[s.i] == '+' || s.data[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return s.fail("bad exponent")
		}
	}
	return nil
}

// errNotObject is returned by eachMember when the document is valid JSON
// but not an object.
var errNotObject = errors.New("not a JSON object")

// validJSON reports whether data is one valid JSON value (with optional
// surrounding whitespace): exactly json.Valid's answer.
func validJSON(data []byte) error {
	s := scanner{data: data}
	s.ws()
	if err := s.value(0); err != nil {
		return err
	}
	s.ws()
	if s.i != len(data) {
		return s.fail("data after the value")
	}
	return nil
}

// eachMember validates the whole document data, which must be an object, and
// calls member with each top-level member's raw key and raw value. The
// slices alias data.
func eachMember(data []byte, member func(key, val []byte)) error {
	s := scanner{data: data}
	s.ws()
	if s.i >= len(data) || data[s.i] != '{' {
		if err := validJSON(data); err != nil {
			return err
		}
		return errNotObject
	}
	if err := s.object(1, member); err != nil {
		return err
	}
	s.ws()
	if s.i != len(data) {
		return s.fail("data after the object")
	}
	return nil
}

// keyIs compares a raw member name with name; escaped names are decoded.
func keyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var k string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &k); err != nil {
		return false
	}
	return k == name
}

// stringValue returns the Go string of a raw JSON string value, or "" when
// val is not a string.
func stringValue(val []byte) string {
	if len(val) < 2 || val[0] != '"' {
		return ""
	}
	if raw := val[1 : len(val)-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	// Escapes or invalid UTF-8 (which encoding/json turns into U+FFFD).
	var out string
	if err := json.Unmarshal(val, &out); err != nil {
		return ""
	}
	return out
}

// memberOf returns the raw value of member name of the (already validated)
// object val, or nil.
func memberOf(val []byte, name string) []byte {
	if len(val) == 0 || val[0] != '{' {
		return nil
	}
	var found []byte
	s := scanner{data: val}
	_ = s.object(1, func(k, v []byte) {
		if keyIs(k, name) {
			found = v
		}
	})
	return found
}

// int64Value parses an integer JSON number, or returns 0.
func int64Value(val []byte) int64 {
	n, err := strconv.ParseInt(string(val), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
