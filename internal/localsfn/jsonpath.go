package localsfn

import (
	"fmt"
	"strconv"
	"strings"
)

// path is a compiled JSONPath in the subset Step Functions accepts: $ or $$
// (the Context object) followed by .name, ['name'], [n], [*], .*, [a:b:c],
// [a,b], ..name and [?(filter)] steps, plus the length() function. A path
// without wildcards, slices, unions, deep scans or filters is definite and
// selects one value; any other path selects a list of values.
type path struct {
	text     string
	context  bool
	variable string // $name: the path starts at a workflow variable
	steps    []step
	definite bool
}

type stepKind uint8

const (
	stepField stepKind = iota
	stepIndex
	stepWildcard
	stepSlice
	stepNames
	stepIndexes
	stepDeep
	stepFilter
	stepLength
)

type step struct {
	kind    stepKind
	name    string
	names   []string
	index   int
	indexes []int
	slice   [3]*int
	filter  filterExpr
}

// parsePath compiles a JSONPath. It accepts "$..." and "$$...".
func parsePath(s string) (*path, error) {
	p := &pathParser{s: s}
	pt, err := p.parse(false)
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", s, err)
	}
	if p.i != len(s) {
		return nil, fmt.Errorf("invalid JSONPath %q: unexpected %q at position %d", s, s[p.i:], p.i)
	}
	return pt, nil
}

// parseReferencePath compiles a path that names one place (ResultPath): only
// .name, ['name'] and [n] steps, never the Context object.
func parseReferencePath(s string) (*path, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if p.context || p.variable != "" {
		return nil, fmt.Errorf("invalid reference path %q: only the input can be written", s)
	}
	for _, st := range p.steps {
		if st.kind != stepField && st.kind != stepIndex {
			return nil, fmt.Errorf("invalid reference path %q: only .field, ['field'] and [index] steps are allowed", s)
		}
	}
	return p, nil
}

type pathParser struct {
	s        string
	i        int
	inFilter bool
}

func (p *pathParser) peek(prefix string) bool { return strings.HasPrefix(p.s[p.i:], prefix) }

func (p *pathParser) parse(relative bool) (*path, error) {
	start := p.i
	pt := &path{definite: true}
	switch {
	case relative && p.peek("@"):
		p.i++
	case p.peek("$$"):
		pt.context = true
		p.i += 2
	case p.peek("$"):
		p.i++
		if !p.inFilter && p.i < len(p.s) && isVarStart(p.s[p.i]) {
			start := p.i
			for p.i < len(p.s) && isVarChar(p.s[p.i]) {
				p.i++
			}
			pt.variable = p.s[start:p.i]
		}
	default:
		return nil, fmt.Errorf("must start with $")
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if p.inFilter && (c == ' ' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|' || c == ',') {
			break
		}
		var st step
		var err error
		switch {
		case p.peek(".."):
			p.i += 2
			st, err = p.deep()
		case c == '.':
			p.i++
			st, err = p.dotted()
		case c == '[':
			p.i++
			st, err = p.bracket()
		default:
			return nil, fmt.Errorf("unexpected %q at position %d", p.s[p.i:], p.i)
		}
		if err != nil {
			return nil, err
		}
		if st.kind != stepField && st.kind != stepIndex && st.kind != stepLength {
			pt.definite = false
		}
		pt.steps = append(pt.steps, st)
	}
	pt.text = p.s[start:p.i]
	return pt, nil
}

func (p *pathParser) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '.' || c == '[' {
			break
		}
		if p.inFilter && (c == ' ' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|' || c == ',') {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *pathParser) dotted() (step, error) {
	if p.peek("*") {
		p.i++
		return step{kind: stepWildcard}, nil
	}
	if p.peek("length()") {
		p.i += len("length()")
		return step{kind: stepLength}, nil
	}
	n := p.name()
	if n == "" {
		return step{}, fmt.Errorf("empty field name at position %d", p.i)
	}
	return step{kind: stepField, name: n}, nil
}

func (p *pathParser) deep() (step, error) {
	if p.peek("*") {
		p.i++
		return step{kind: stepDeep}, nil
	}
	if p.peek("[") {
		// ..['name'] and ..[*]
		p.i++
		st, err := p.bracket()
		if err != nil {
			return step{}, err
		}
		if st.kind == stepField {
			return step{kind: stepDeep, name: st.name}, nil
		}
		return step{kind: stepDeep}, nil
	}
	n := p.name()
	if n == "" {
		return step{}, fmt.Errorf("empty field name after .. at position %d", p.i)
	}
	return step{kind: stepDeep, name: n}, nil
}

// bracket parses what follows '[' up to and including ']'.
func (p *pathParser) bracket() (step, error) {
	switch {
	case p.peek("*]"):
		p.i += 2
		return step{kind: stepWildcard}, nil
	case p.peek("'") || p.peek(`"`):
		var names []string
		for {
			q := p.s[p.i : p.i+1]
			end := strings.Index(p.s[p.i+1:], q)
			if end < 0 {
				return step{}, fmt.Errorf("unterminated quoted name")
			}
			// A quoted name runs to the quote that closes the bracket or
			// precedes a comma, so quotes inside the name need no escaping.
			rest := p.s[p.i+1:]
			end = -1
			for j := 0; j < len(rest); j++ {
				if rest[j] == q[0] && (strings.HasPrefix(rest[j+1:], "]") || strings.HasPrefix(strings.TrimLeft(rest[j+1:], " "), ",")) {
					end = j
					break
				}
			}
			if end < 0 {
				return step{}, fmt.Errorf("unterminated quoted name")
			}
			names = append(names, rest[:end])
			p.i += end + 2
			for p.peek(" ") {
				p.i++
			}
			if p.peek("]") {
				p.i++
				break
			}
			if !p.peek(",") {
				return step{}, fmt.Errorf("expected , or ] at position %d", p.i)
			}
			p.i++
			for p.peek(" ") {
				p.i++
			}
		}
		if len(names) == 1 {
			return step{kind: stepField, name: names[0]}, nil
		}
		return step{kind: stepNames, names: names}, nil
	case p.peek("?("):
		p.i += 2
		fp := &filterParser{p: p}
		saved := p.inFilter
		p.inFilter = true
		f, err := fp.or()
		p.inFilter = saved
		if err != nil {
			return step{}, err
		}
		fp.space()
		if !p.peek(")]") {
			return step{}, fmt.Errorf("expected )] to close the filter at position %d", p.i)
		}
		p.i += 2
		return step{kind: stepFilter, filter: f}, nil
	}
	end := strings.IndexByte(p.s[p.i:], ']')
	if end < 0 {
		return step{}, fmt.Errorf("unterminated [")
	}
	body := strings.ReplaceAll(p.s[p.i:p.i+end], " ", "")
	p.i += end + 1
	switch {
	case strings.Contains(body, ":"):
		parts := strings.Split(body, ":")
		if len(parts) > 3 {
			return step{}, fmt.Errorf("invalid slice [%s]", body)
		}
		var st step
		st.kind = stepSlice
		for k, part := range parts {
			if part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return step{}, fmt.Errorf("invalid slice [%s]", body)
			}
			st.slice[k] = &n
		}
		return st, nil
	case strings.Contains(body, ","):
		var st step
		st.kind = stepIndexes
		for _, part := range strings.Split(body, ",") {
			n, err := strconv.Atoi(part)
			if err != nil {
				return step{}, fmt.Errorf("invalid index list [%s]", body)
			}
			st.indexes = append(st.indexes, n)
		}
		return st, nil
	}
	n, err := strconv.Atoi(body)
	if err != nil {
		return step{}, fmt.Errorf("invalid index [%s]", body)
	}
	return step{kind: stepIndex, index: n}, nil
}
