package jsonata

// bindingPower is each infix operator's left binding power (JSONata's table).
func bindingPower(t token) int {
	if t.kind != tokOperator {
		return 0
	}
	switch t.text {
	case ".":
		return 75
	case "[", "(", "@", "#":
		return 80
	case "{":
		return 70
	case "*", "/", "%":
		return 60
	case "+", "-", "&":
		return 50
	case "=", "!=", "<", "<=", ">", ">=", "^", "~>", "in", "?:", "??":
		return 40
	case "and":
		return 30
	case "or":
		return 25
	case "?":
		return 20
	case ":=":
		return 10
	}
	return 0
}

// parser is a Pratt (top-down operator precedence) parser over the lexer.
type parser struct {
	lx  lexer
	tok token
}

// advance moves to the next token where an operand may follow (after an
// operator, a separator or an opening bracket consumed by led).
func (p *parser) advance() error { return p.advanceTo(true) }

// advanceOperand moves past an operand's first token or a closing
// bracket: an operator is expected next, so '/' there is division, as
// jsonata-js lexes it.
func (p *parser) advanceOperand() error { return p.advanceTo(false) }

func (p *parser) advanceTo(regexOK bool) error {
	t, err := p.lx.next(regexOK)
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isOp(s string) bool { return p.tok.kind == tokOperator && p.tok.text == s }

// expect checks that the current token is the operator s and moves past it.
func (p *parser) expect(s string) error {
	if p.tok.kind == tokEnd {
		return newError("S0203", p.tok.pos, "", s)
	}
	if !p.isOp(s) {
		return newError("S0202", p.tok.pos, tokenText(p.tok), s, tokenField(p.tok)...)
	}
	if s == ")" || s == "]" || s == "}" {
		return p.advanceOperand()
	}
	return p.advance()
}

// tokenField makes a number token appear as a number in a message, as
// jsonata-js quotes it.
func tokenField(t token) []any {
	if t.kind == tokNumber {
		return []any{"token", t.num}
	}
	return nil
}

func tokenText(t token) string {
	switch t.kind {
	case tokNumber:
		return t.text
	case tokVariable:
		return "$" + t.text
	case tokEnd:
		return "(end)"
	}
	return t.text
}

func parse(src string) (*node, error) {
	p := &parser{lx: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	n, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEnd {
		return nil, newError("S0201", p.tok.pos, tokenText(p.tok), nil, tokenField(p.tok)...)
	}
	return n, nil
}

func (p *parser) expression(rbp int) (*node, error) {
	t := p.tok
	if t.kind == tokEnd {
		// like jsonata-js, the end becomes a node: an enclosing bracket
		// then reports what it expected (S0203), and otherwise processing
		// reports the unexpected end (S0207)
		return &node{typ: nEnd, pos: t.pos}, nil
	}
	if err := p.advanceOperand(); err != nil {
		return nil, err
	}
	left, err := p.nud(t)
	if err != nil {
		return nil, err
	}
	for rbp < bindingPower(p.tok) {
		t = p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		if left, err = p.led(t, left); err != nil {
			return nil, err
		}
	}
	return left, nil
}

func (p *parser) nud(t token) (*node, error) {
	switch t.kind {
	case tokName:
		return &node{typ: nName, op: t.text, pos: t.pos}, nil
	case tokVariable:
		return &node{typ: nVariable, op: t.text, pos: t.pos}, nil
	case tokString:
		return &node{typ: nString, op: t.text, pos: t.pos}, nil
	case tokNumber:
		return &node{typ: nNumber, num: t.num, pos: t.pos}, nil
	case tokValue:
		return &node{typ: nValue, val: t.value, op: t.text, pos: t.pos}, nil
	case tokRegex:
		re, err := compileRegex(t.text, t.flags)
		if err != nil {
			return nil, newError("S0303", t.pos, "", "/"+t.text+"/"+t.flags)
		}
		return &node{typ: nRegex, re: re, op: "/" + t.text + "/" + t.flags, pos: t.pos}, nil
	}
	switch t.text {
	case "and", "or", "in":
		return &node{typ: nName, op: t.text, pos: t.pos}, nil
	case "*":
		return &node{typ: nWildcard, op: "*", pos: t.pos}, nil
	case "**":
		return &node{typ: nDescendant, op: "**", pos: t.pos}, nil
	case "%":
		return &node{typ: nParent, op: "%", pos: t.pos}, nil
	case "-":
		operand, err := p.expression(70)
		if err != nil {
			return nil, err
		}
		return &node{typ: nNegate, lhs: operand, pos: t.pos}, nil
	case "[":
		return p.arrayConstructor(t)
	case "{":
		pairs, err := p.pairs()
		if err != nil {
			return nil, err
		}
		return &node{typ: nObject, pairs: pairs, pos: t.pos}, nil
	case "(":
		items, err := p.list(")", ";")
		if err != nil {
			return nil, err
		}
		return &node{typ: nBlock, items: items, pos: t.pos}, nil
	case "|":
		return p.transform(t)
	}
	return nil, newError("S0211", t.pos, t.text, nil)
}

// arrayConstructor parses [a, b, c..d]: the range operator exists only
// directly inside an array constructor.
func (p *parser) arrayConstructor(t token) (*node, error) {
	n := &node{typ: nArray, pos: t.pos}
	if !p.isOp("]") {
		for {
			item, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if p.isOp("..") {
				pos := p.tok.pos
				if err := p.advance(); err != nil {
					return nil, err
				}
				rhs, err := p.expression(0)
				if err != nil {
					return nil, err
				}
				item = &node{typ: rBinary, op: "..", lhs: item, rhs: rhs, pos: pos}
			}
			n.items = append(n.items, item)
			if !p.isOp(",") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	return n, p.expect("]")
}

// list parses expressions separated by sep up to the closing operator.
func (p *parser) list(closing, sep string) ([]*node, error) {
	var items []*node
	if !p.isOp(closing) {
		for {
			item, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			items = append(items, item)
			if !p.isOp(sep) {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	return items, p.expect(closing)
}

func (p *parser) pairs() ([][2]*node, error) {
	var pairs [][2]*node
	if !p.isOp("}") {
		for {
			k, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]*node{k, v})
			if !p.isOp(",") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	return pairs, p.expect("}")
}

func (p *parser) transform(t token) (*node, error) {
	pattern, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if err := p.expect("|"); err != nil {
		return nil, err
	}
	update, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	n := &node{typ: nTransform, lhs: pattern, update: update, pos: t.pos}
	if p.isOp(",") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if n.del, err = p.expression(0); err != nil {
			return nil, err
		}
	}
	return n, p.expect("|")
}

func (p *parser) led(t token, left *node) (*node, error) {
	bp := bindingPower(t)
	switch t.text {
	case "?:", "??":
		return nil, newError("S0201", t.pos, t.text, nil, "message", "")
	case "[":
		if p.isOp("]") {
			// "[]" keeps singleton arrays: flag the step it follows
			step := left
			for step.typ == rBinary && step.op == "[" {
				step = step.lhs
			}
			step.keepArray = true
			return left, p.advanceOperand()
		}
		pred, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		return &node{typ: rBinary, op: "[", lhs: left, rhs: pred, pos: t.pos}, p.expect("]")
	case "{":
		pairs, err := p.pairs()
		if err != nil {
			return nil, err
		}
		return &node{typ: rBinary, op: "{", lhs: left, pairs: pairs, pos: t.pos}, nil
	case "(":
		if left.typ == nName && (left.op == "function" || left.op == "λ") {
			return p.lambda(t)
		}
		return p.call(t, left)
	case "^":
		return p.sortTerms(t, left)
	case "?":
		then, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		n := &node{typ: nCondition, cond: left, then: then, pos: t.pos}
		if p.isOp(":") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if n.els, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		return n, nil
	case ":=":
		if left.typ != nVariable {
			return nil, newError("S0212", left.pos, left.op, nil)
		}
		rhs, err := p.expression(bp - 1)
		if err != nil {
			return nil, err
		}
		return &node{typ: nBind, lhs: left, rhs: rhs, pos: t.pos}, nil
	case "@", "#":
		rhs, err := p.expression(bp)
		if err != nil {
			return nil, err
		}
		if rhs.typ != nVariable {
			return nil, newError("S0214", rhs.pos, t.text, nil)
		}
		return &node{typ: rBinary, op: t.text, lhs: left, rhs: rhs, pos: t.pos}, nil
	case ".", "+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", "~>", "in", "and", "or", "..":
		rhs, err := p.expression(bp)
		if err != nil {
			return nil, err
		}
		return &node{typ: rBinary, op: t.text, lhs: left, rhs: rhs, pos: t.pos}, nil
	}
	return nil, newError("S0201", t.pos, t.text, nil)
}

func (p *parser) call(t token, proc *node) (*node, error) {
	n := &node{typ: nCall, lhs: proc, pos: t.pos}
	if !p.isOp(")") {
		for {
			if p.isOp("?") {
				// a placeholder makes this a partial application
				if err := p.advance(); err != nil {
					return nil, err
				}
				n.typ = nPartial
				n.items = append(n.items, &node{typ: nPlaceholder, pos: t.pos})
			} else {
				arg, err := p.expression(0)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, arg)
			}
			if !p.isOp(",") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	return n, p.expect(")")
}

func (p *parser) lambda(t token) (*node, error) {
	n := &node{typ: nLambda, pos: t.pos}
	if !p.isOp(")") {
		for {
			if p.tok.kind != tokVariable {
				return nil, newError("S0208", p.tok.pos, tokenText(p.tok), float64(len(n.params)+1))
			}
			n.params = append(n.params, p.tok.text)
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.isOp(",") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if p.isOp("<") {
		// the signature is raw text up to the matching '>'
		src := p.lx.src
		depth, i := 1, p.lx.pos
		for i < len(src) && depth > 0 {
			switch src[i] {
			case '<':
				depth++
			case '>':
				depth--
			}
			i++
		}
		if depth != 0 {
			return nil, newError("S0203", i, "", ">")
		}
		sig, err := parseSignature(src[p.lx.pos : i-1])
		if err != nil {
			return nil, err
		}
		n.sig = sig
		p.lx.pos = i
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	body, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	n.body = body
	return n, p.expect("}")
}

func (p *parser) sortTerms(t token, left *node) (*node, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	n := &node{typ: nSort, lhs: left, pos: t.pos}
	for {
		desc := false
		if p.isOp("<") || p.isOp(">") {
			desc = p.tok.text == ">"
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		e, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		n.terms = append(n.terms, sortTerm{descending: desc, expr: e})
		if !p.isOp(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return n, p.expect(")")
}
