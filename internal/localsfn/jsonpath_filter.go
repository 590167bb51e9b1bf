package localsfn

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// filterExpr is a compiled [?(...)] condition.
type filterExpr interface {
	test(item, root any) bool
}

type filterOr struct{ a, b filterExpr }
type filterAnd struct{ a, b filterExpr }
type filterNot struct{ a filterExpr }
type filterExists struct{ p *path }
type filterCmp struct {
	op   string
	l, r operand
	re   *regexp.Regexp
}

// operand is a path relative to the item (@), to the root ($), or a literal.
type operand struct {
	p       *path
	literal any
}

func (o operand) value(item, root any) (any, bool) {
	if o.p == nil {
		return o.literal, true
	}
	if o.p.text != "" && o.p.text[0] == '$' {
		return o.p.get(root)
	}
	return o.p.get(item)
}

func (f filterOr) test(item, root any) bool  { return f.a.test(item, root) || f.b.test(item, root) }
func (f filterAnd) test(item, root any) bool { return f.a.test(item, root) && f.b.test(item, root) }
func (f filterNot) test(item, root any) bool { return !f.a.test(item, root) }
func (f filterExists) test(item, root any) bool {
	v, ok := f.p.get(item)
	if ok && !f.p.definite {
		a, _ := v.([]any)
		return len(a) > 0
	}
	return ok
}

func (f filterCmp) test(item, root any) bool {
	l, lok := f.l.value(item, root)
	if f.op == "=~" {
		s, ok := l.(string)
		return lok && ok && f.re.MatchString(s)
	}
	r, rok := f.r.value(item, root)
	if !lok || !rok {
		return f.op == "!=" && lok != rok
	}
	switch f.op {
	case "==":
		return jsonEqual(l, r)
	case "!=":
		return !jsonEqual(l, r)
	}
	if lf, ok := toFloat(l); ok {
		rf, ok := toFloat(r)
		if !ok {
			return false
		}
		switch f.op {
		case "<":
			return lf < rf
		case "<=":
			return lf <= rf
		case ">":
			return lf > rf
		case ">=":
			return lf >= rf
		}
	}
	ls, lok := l.(string)
	rs, rok := r.(string)
	if !lok || !rok {
		return false
	}
	switch f.op {
	case "<":
		return ls < rs
	case "<=":
		return ls <= rs
	case ">":
		return ls > rs
	case ">=":
		return ls >= rs
	}
	return false
}

type filterParser struct{ p *pathParser }

func (f *filterParser) space() {
	for f.p.peek(" ") {
		f.p.i++
	}
}

func (f *filterParser) or() (filterExpr, error) {
	a, err := f.and()
	if err != nil {
		return nil, err
	}
	for f.space(); f.p.peek("||"); f.space() {
		f.p.i += 2
		b, err := f.and()
		if err != nil {
			return nil, err
		}
		a = filterOr{a, b}
	}
	return a, nil
}

func (f *filterParser) and() (filterExpr, error) {
	a, err := f.unary()
	if err != nil {
		return nil, err
	}
	for f.space(); f.p.peek("&&"); f.space() {
		f.p.i += 2
		b, err := f.unary()
		if err != nil {
			return nil, err
		}
		a = filterAnd{a, b}
	}
	return a, nil
}

func (f *filterParser) unary() (filterExpr, error) {
	f.space()
	if f.p.peek("!") && !f.p.peek("!=") {
		f.p.i++
		a, err := f.unary()
		return filterNot{a}, err
	}
	if f.p.peek("(") {
		f.p.i++
		a, err := f.or()
		if err != nil {
			return nil, err
		}
		f.space()
		if !f.p.peek(")") {
			return nil, fmt.Errorf("expected ) at position %d", f.p.i)
		}
		f.p.i++
		return a, nil
	}
	l, err := f.operand()
	if err != nil {
		return nil, err
	}
	f.space()
	for _, op := range []string{"==", "!=", "<=", ">=", "=~", "<", ">"} {
		if !f.p.peek(op) {
			continue
		}
		f.p.i += len(op)
		f.space()
		if op == "=~" {
			re, err := f.regex()
			return filterCmp{op: op, l: l, re: re}, err
		}
		r, err := f.operand()
		return filterCmp{op: op, l: l, r: r}, err
	}
	if l.p == nil {
		return nil, fmt.Errorf("a filter needs a path or a comparison at position %d", f.p.i)
	}
	return filterExists{l.p}, nil
}

func (f *filterParser) regex() (*regexp.Regexp, error) {
	if !f.p.peek("/") {
		return nil, fmt.Errorf("expected /regex/ at position %d", f.p.i)
	}
	end := strings.IndexByte(f.p.s[f.p.i+1:], '/')
	if end < 0 {
		return nil, fmt.Errorf("unterminated regex")
	}
	pat := f.p.s[f.p.i+1 : f.p.i+1+end]
	f.p.i += end + 2
	if f.p.peek("i") {
		f.p.i++
		pat = "(?i)" + pat
	}
	return regexp.Compile("^(?:" + pat + ")$")
}

func (f *filterParser) operand() (operand, error) {
	s := f.p.s[f.p.i:]
	switch {
	case strings.HasPrefix(s, "@") || strings.HasPrefix(s, "$"):
		pt, err := f.p.parse(true)
		return operand{p: pt}, err
	case strings.HasPrefix(s, "'") || strings.HasPrefix(s, `"`):
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return operand{}, fmt.Errorf("unterminated string in filter")
		}
		f.p.i += end + 2
		return operand{literal: s[1 : end+1]}, nil
	case strings.HasPrefix(s, "true"):
		f.p.i += 4
		return operand{literal: true}, nil
	case strings.HasPrefix(s, "false"):
		f.p.i += 5
		return operand{literal: false}, nil
	case strings.HasPrefix(s, "null"):
		f.p.i += 4
		return operand{literal: nil}, nil
	}
	end := 0
	for end < len(s) && strings.IndexByte("+-0123456789.eE", s[end]) >= 0 {
		end++
	}
	if end == 0 {
		return operand{}, fmt.Errorf("unexpected %q in filter", s)
	}
	n := s[:end]
	if _, err := strconv.ParseFloat(n, 64); err != nil {
		return operand{}, fmt.Errorf("invalid number %q in filter", n)
	}
	f.p.i += end
	return operand{literal: jsonNumber(n)}, nil
}
