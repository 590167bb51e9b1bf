package localsfn

import (
	"encoding/json"
	"fmt"
	"strings"
)

// intrinsic is a compiled call of one of the 18 States.* intrinsic functions.
type intrinsic struct {
	name string
	args []intrinsicArg
	text string
}

// intrinsicArg is a literal, a path into the input or Context object, or a nested call.
type intrinsicArg struct {
	literal any
	raw     string // a string literal as written, escapes kept, for States.Format
	isStr   bool
	path    *path
	call    *intrinsic
}

// intrinsicLimits are AWS's documented limits.
const (
	maxIntrinsicNesting = 10
	maxArrayRange       = 1000
	maxEncodeChars      = 10000
)

var intrinsicArity = map[string][2]int{ // min, max (-1: any)
	"States.Format": {1, -1}, "States.StringToJson": {1, 1}, "States.JsonToString": {1, 1},
	"States.Array": {0, -1}, "States.ArrayPartition": {2, 2}, "States.ArrayContains": {2, 2},
	"States.ArrayRange": {3, 3}, "States.ArrayGetItem": {2, 2}, "States.ArrayLength": {1, 1},
	"States.ArrayUnique": {1, 1}, "States.Base64Encode": {1, 1}, "States.Base64Decode": {1, 1},
	"States.Hash": {2, 2}, "States.JsonMerge": {3, 3}, "States.MathRandom": {2, 3},
	"States.MathAdd": {2, 2}, "States.StringSplit": {2, 2}, "States.UUID": {0, 0},
}

// isIntrinsic tells an intrinsic call from a path in a ".$" field.
func isIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// parseIntrinsic compiles "States.Fn(arg, ...)".
func parseIntrinsic(s string) (*intrinsic, error) {
	p := &intrinsicParser{s: s}
	call, err := p.call(0)
	if err != nil {
		return nil, fmt.Errorf("invalid intrinsic function %q: %w", s, err)
	}
	p.space()
	if p.i != len(s) {
		return nil, fmt.Errorf("invalid intrinsic function %q: unexpected %q after the call", s, s[p.i:])
	}
	return call, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *intrinsicParser) call(depth int) (*intrinsic, error) {
	if depth >= maxIntrinsicNesting {
		return nil, fmt.Errorf("more than %d nested intrinsic functions", maxIntrinsicNesting)
	}
	start := p.i
	open := strings.IndexByte(p.s[p.i:], '(')
	if open < 0 {
		return nil, fmt.Errorf("missing (")
	}
	name := strings.TrimSpace(p.s[p.i : p.i+open])
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %s", name)
	}
	p.i += open + 1
	c := &intrinsic{name: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			p.space()
			a, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.space()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("missing )")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("expected , or ) at position %d", p.i)
			}
			p.i++
		}
	}
	if len(c.args) < arity[0] || (arity[1] >= 0 && len(c.args) > arity[1]) {
		return nil, fmt.Errorf("%s takes %s arguments, got %d", name, arityText(arity), len(c.args))
	}
	c.text = p.s[start:p.i]
	return c, nil
}

func arityText(a [2]int) string {
	switch {
	case a[1] < 0:
		return fmt.Sprintf("at least %d", a[0])
	case a[0] == a[1]:
		return fmt.Sprint(a[0])
	}
	return fmt.Sprintf("%d to %d", a[0], a[1])
}

func (p *intrinsicParser) arg(depth int) (intrinsicArg, error) {
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "'"):
		return p.str()
	case strings.HasPrefix(rest, "States."):
		c, err := p.call(depth + 1)
		return intrinsicArg{call: c}, err
	case strings.HasPrefix(rest, "$"):
		end, depthB := 0, 0
		for end < len(rest) {
			ch := rest[end]
			if ch == '[' || ch == '(' {
				depthB++
			} else if (ch == ']' || ch == ')') && depthB > 0 {
				depthB--
			} else if depthB == 0 && (ch == ',' || ch == ')') {
				break
			}
			end++
		}
		pt, err := parsePath(strings.TrimSpace(rest[:end]))
		if err != nil {
			return intrinsicArg{}, err
		}
		p.i += end
		return intrinsicArg{path: pt}, nil
	}
	end := 0
	for end < len(rest) && rest[end] != ',' && rest[end] != ')' {
		end++
	}
	tok := strings.TrimSpace(rest[:end])
	p.i += end
	switch tok {
	case "true":
		return intrinsicArg{literal: true}, nil
	case "false":
		return intrinsicArg{literal: false}, nil
	case "null":
		return intrinsicArg{literal: nil}, nil
	}
	v, err := decodeJSON([]byte(tok))
	if _, isNum := v.(json.Number); err != nil || !isNum {
		return intrinsicArg{}, fmt.Errorf("invalid argument %q", tok)
	}
	return intrinsicArg{literal: v}, nil
}

// str parses a single-quoted literal where \' \{ \} and \\ are escapes.
func (p *intrinsicParser) str() (intrinsicArg, error) {
	p.i++ // opening quote
	var b strings.Builder
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return intrinsicArg{}, fmt.Errorf("unterminated string")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case '\'':
			raw := p.s[start:p.i]
			p.i++
			return intrinsicArg{literal: b.String(), raw: raw, isStr: true}, nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return intrinsicArg{}, fmt.Errorf("unterminated string")
}

// eval runs the call against the state input and the Context object.
func (c *intrinsic) eval(input any, r roots) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := a.call.eval(input, r)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.path != nil:
			v, ok := a.path.resolve(input, r)
			if !ok {
				return nil, fmt.Errorf("the JSONPath %s could not be found in the input", a.path.text)
			}
			args[i] = v
		default:
			args[i] = a.literal
		}
	}
	v, err := c.apply(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return v, nil
}
