package localsfn

import (
	"fmt"
	"regexp"
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

func isVarStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isVarChar(c byte) bool { return isVarStart(c) || (c >= '0' && c <= '9') }

// roots gives paths their starting points besides the input: the Context
// object ($$) and workflow variables ($name).
type roots interface {
	contextObject() any
	variable(name string) (any, bool)
}

// resolve evaluates the path from the root it names: the input, the Context
// object or a variable. It reports false when nothing is found.
func (pt *path) resolve(input any, r roots) (any, bool) {
	root := input
	switch {
	case pt.context:
		if r == nil {
			return nil, false
		}
		root = r.contextObject()
	case pt.variable != "":
		if r == nil {
			return nil, false
		}
		v, ok := r.variable(pt.variable)
		if !ok {
			return nil, false
		}
		root = v
	}
	return pt.get(root)
}

// get evaluates the path against root (the input or the Context object). A
// definite path returns the value and whether it exists; any other path
// returns the list of matches, which always exists.
func (pt *path) get(root any) (any, bool) {
	if pt.definite {
		v := root
		for i := range pt.steps {
			st := &pt.steps[i]
			switch st.kind {
			case stepField:
				m, ok := v.(map[string]any)
				if !ok {
					return nil, false
				}
				if v, ok = m[st.name]; !ok {
					return nil, false
				}
			case stepIndex:
				a, ok := v.([]any)
				if !ok {
					return nil, false
				}
				idx := st.index
				if idx < 0 {
					idx += len(a)
				}
				if idx < 0 || idx >= len(a) {
					return nil, false
				}
				v = a[idx]
			case stepLength:
				switch x := v.(type) {
				case []any:
					v = num(int64(len(x)))
				case map[string]any:
					v = num(int64(len(x)))
				case string:
					v = num(int64(len(x)))
				default:
					return nil, false
				}
			}
		}
		return v, true
	}
	cur := []any{root}
	for i := range pt.steps {
		cur = pt.steps[i].apply(cur, root)
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, true
}

func (st *step) apply(in []any, root any) []any {
	var out []any
	for _, v := range in {
		switch st.kind {
		case stepField:
			if m, ok := v.(map[string]any); ok {
				if x, ok := m[st.name]; ok {
					out = append(out, x)
				}
			}
		case stepNames:
			if m, ok := v.(map[string]any); ok {
				for _, n := range st.names {
					if x, ok := m[n]; ok {
						out = append(out, x)
					}
				}
			}
		case stepIndex, stepIndexes:
			if a, ok := v.([]any); ok {
				idxs := st.indexes
				if st.kind == stepIndex {
					idxs = []int{st.index}
				}
				for _, idx := range idxs {
					if idx < 0 {
						idx += len(a)
					}
					if idx >= 0 && idx < len(a) {
						out = append(out, a[idx])
					}
				}
			}
		case stepWildcard:
			out = append(out, children(v)...)
		case stepSlice:
			if a, ok := v.([]any); ok {
				out = append(out, sliceOf(a, st.slice)...)
			}
		case stepDeep:
			out = deepScan(v, st.name, st.name == "", out)
		case stepFilter:
			for _, c := range children(v) {
				if st.filter.test(c, root) {
					out = append(out, c)
				}
			}
		case stepLength:
			if a, ok := v.([]any); ok {
				out = append(out, num(int64(len(a))))
			}
		}
	}
	return out
}

// children lists an array's items or an object's values in key order.
func children(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			out = append(out, x[k])
		}
		return out
	}
	return nil
}

func sliceOf(a []any, s [3]*int) []any {
	n := len(a)
	stepBy := 1
	if s[2] != nil {
		stepBy = *s[2]
	}
	if stepBy <= 0 {
		return nil
	}
	norm := func(p *int, def int) int {
		if p == nil {
			return def
		}
		i := *p
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	start, end := norm(s[0], 0), norm(s[1], n)
	var out []any
	for i := start; i < end; i += stepBy {
		out = append(out, a[i])
	}
	return out
}

func deepScan(v any, name string, all bool, out []any) []any {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if all || k == name {
				out = append(out, x[k])
			}
			out = deepScan(x[k], name, all, out)
		}
	case []any:
		for _, e := range x {
			if all {
				out = append(out, e)
			}
			out = deepScan(e, name, all, out)
		}
	}
	return out
}

// set returns a copy of root with the reference path's place set to value,
// creating missing objects on the way. It copies only the containers on the
// path, so root itself is left as it was.
func (pt *path) set(root, value any) (any, error) {
	return setSteps(root, pt.steps, value)
}

func setSteps(cur any, steps []step, value any) (any, error) {
	if len(steps) == 0 {
		return value, nil
	}
	st := steps[0]
	switch st.kind {
	case stepField:
		var m map[string]any
		switch x := cur.(type) {
		case map[string]any:
			m = make(map[string]any, len(x)+1)
			for k, v := range x {
				m[k] = v
			}
		case nil:
			m = map[string]any{}
		default:
			return nil, fmt.Errorf("cannot set field %q on a %s", st.name, jsonType(cur))
		}
		child, err := setSteps(m[st.name], steps[1:], value)
		if err != nil {
			return nil, err
		}
		m[st.name] = child
		return m, nil
	case stepIndex:
		a, ok := cur.([]any)
		if !ok {
			return nil, fmt.Errorf("cannot set index %d on a %s", st.index, jsonType(cur))
		}
		idx := st.index
		if idx < 0 {
			idx += len(a)
		}
		if idx < 0 || idx >= len(a) {
			return nil, fmt.Errorf("index %d is out of bounds for an array of %d items", st.index, len(a))
		}
		c := append([]any(nil), a...)
		child, err := setSteps(c[idx], steps[1:], value)
		if err != nil {
			return nil, err
		}
		c[idx] = child
		return c, nil
	}
	return nil, fmt.Errorf("not a reference path")
}

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
