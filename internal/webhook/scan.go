package webhook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// summary is what the receiver copies from a payload into its envelope.
type summary struct {
	action       string
	installation int64
	repository   string
	sender       string
}

// maxDepth matches encoding/json's nesting limit, so both accept the same
// documents.
const maxDepth = 10000

// errUnusual means the payload uses a form the fast scanner leaves to
// encoding/json (escaped or case-variant keys, repeated keys, unexpected types
// or escaped strings in the summary fields); the caller then decodes it with
// events.NewEnvelope, whose answer — valid or not — is authoritative.
var errUnusual = errors.New("payload needs the full decoder")

// scanPayload checks, in one pass, that p is exactly one JSON object and
// pulls out the summary fields. It exists because a GitHub payload can be
// 25 MB and encoding/json scans a document twice (validate, then decode) at
// a fraction of this loop's speed.
func scanPayload(p []byte) (summary, error) {
	s := scanner{b: p}
	var out summary
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return out, errors.New("payload is not a JSON object")
	}
	seen := map[string]bool{}
	err := s.object(1, func(key string) error {
		field := ""
		for _, f := range [...]string{"action", "installation", "repository", "sender"} {
			if strings.EqualFold(key, f) {
				field = f
			}
		}
		if field == "" {
			return s.value(1)
		}
		if key != field || seen[field] {
			return errUnusual
		}
		seen[field] = true
		var err error
		switch field {
		case "action":
			out.action, err = s.stringOrNull()
		case "installation":
			err = s.member(1, "id", func() (err error) { out.installation, err = s.int64OrNull(); return })
		case "repository":
			err = s.member(1, "full_name", func() (err error) { out.repository, err = s.stringOrNull(); return })
		case "sender":
			err = s.member(1, "login", func() (err error) { out.sender, err = s.stringOrNull(); return })
		}
		return err
	})
	if err != nil {
		return out, err
	}
	s.ws()
	if s.i != len(s.b) {
		return out, s.errorf("data after the top-level object")
	}
	return out, nil
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// object scans an object starting at '{', calling onKey positioned at each
// member's value.
func (s *scanner) object(depth int, onKey func(key string) error) error {
	if depth > maxDepth {
		return s.errorf("nested too deeply")
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		start, escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.b[start : s.i-1]
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.errorf("expected ':' after an object key")
		}
		s.i++
		s.ws()
		switch {
		case onKey == nil:
			if err := s.value(depth); err != nil {
				return err
			}
		case escaped: // it might spell a summary field
			return errUnusual
		default:
			if err := onKey(string(key)); err != nil {
				return err
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errorf("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errorf("expected ',' or '}' in an object")
		}
	}
}

// member scans a summary object (or null) and hands the value of its member
// named want to take.
func (s *scanner) member(depth int, want string, take func() error) error {
	if s.i >= len(s.b) {
		return s.errorf("unexpected end of input")
	}
	if s.b[s.i] == 'n' {
		return s.literal("null")
	}
	if s.b[s.i] != '{' {
		return errUnusual // wrong type: encoding/json decides how to report it
	}
	seen := false
	return s.object(depth+1, func(key string) error {
		if !strings.EqualFold(key, want) {
			return s.value(depth + 1)
		}
		if key != want || seen {
			return errUnusual
		}
		seen = true
		return take()
	})
}

func (s *scanner) stringOrNull() (string, error) {
	if s.i < len(s.b) && s.b[s.i] == 'n' {
		return "", s.literal("null")
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", errUnusual
	}
	start, escaped, err := s.str()
	if err != nil {
		return "", err
	}
	if escaped {
		return "", errUnusual
	}
	return string(s.b[start : s.i-1]), nil
}

func (s *scanner) int64OrNull() (int64, error) {
	if s.i < len(s.b) && s.b[s.i] == 'n' {
		return 0, s.literal("null")
	}
	start := s.i
	if err := s.number(); err != nil {
		if start < len(s.b) && (s.b[start] == '-' || s.b[start] >= '0' && s.b[start] <= '9') {
			return 0, err
		}
		return 0, errUnusual
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return 0, errUnusual
	}
	return n, nil
}

// value scans any JSON value.
func (s *scanner) value(depth int) error {
	if s.i >= len(s.b) {
		return s.errorf("unexpected end of input")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth+1, nil)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, _, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.errorf("unexpected character %q", s.b[s.i])
}

func (s *scanner) array(depth int) error {
	if depth > maxDepth {
		return s.errorf("nested too deeply")
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errorf("unterminated array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errorf("expected ',' or ']' in an array")
		}
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.errorf("invalid literal")
	}
	s.i += len(lit)
	return nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func (s *scanner) number() error {
	i := s.i
	if i < len(s.b) && s.b[i] == '-' {
		i++
	}
	switch {
	case i < len(s.b) && s.b[i] == '0':
		i++
	case i < len(s.b) && s.b[i] >= '1' && s.b[i] <= '9':
		i = digits(s.b, i+1)
	default:
		s.i = i
		return s.errorf("invalid number")
	}
	if i < len(s.b) && s.b[i] == '.' {
		j := digits(s.b, i+1)
		if j == i+1 {
			s.i = j
			return s.errorf("invalid number")
		}
		i = j
	}
	if i < len(s.b) && (s.b[i] == 'e' || s.b[i] == 'E') {
		i++
		if i < len(s.b) && (s.b[i] == '+' || s.b[i] == '-') {
			i++
		}
		j := digits(s.b, i)
		if j == i {
			s.i = j
			return s.errorf("invalid number")
		}
		i = j
	}
	s.i = i
	return nil
}

// str scans a string starting at '"' and returns the index just after the
// opening quote; s.i ends just after the closing quote.
func (s *scanner) str() (start int, escaped bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, false, s.errorf("expected a string")
	}
	s.i++
	start = s.i
	b := s.b
	i := s.i
	for {
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			s.i = i
			return 0, false, s.errorf("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return start, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				s.i = i
				return 0, false, s.errorf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					s.i = i
					return 0, false, s.errorf("invalid \\u escape")
				}
				i += 6
			default:
				s.i = i
				return 0, false, s.errorf("invalid escape")
			}
		default:
			s.i = i
			return 0, false, s.errorf("control character in a string")
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
