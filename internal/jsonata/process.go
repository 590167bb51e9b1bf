package jsonata

import "strconv"

// processor rewrites the raw parse tree into the evaluation tree: it builds
// paths from '.' chains, attaches predicates, grouping, order-by and focus/
// index bindings to path steps, and resolves parent (%) references to the
// step that binds the ancestor.
type processor struct {
	ancestorLabel int
	ancestry      []*node
}

func (pr *processor) process(n *node) (*node, error) {
	switch n.typ {
	case nEnd:
		return nil, newError("S0207", n.pos, "", nil)
	case rBinary:
		return pr.binary(n)
	case nName:
		path := &node{typ: nPath, items: []*node{n}, pos: n.pos}
		if n.keepArray {
			path.keepSingleton = true
		}
		return path, nil
	case nParent:
		n.slot = &slot{label: "!" + strconv.Itoa(pr.ancestorLabel), level: 1, index: len(pr.ancestry)}
		pr.ancestorLabel++
		pr.ancestry = append(pr.ancestry, n)
		return n, nil
	case nNegate:
		operand, err := pr.process(n.lhs)
		if err != nil {
			return nil, err
		}
		if operand.typ == nNumber {
			operand.num = -operand.num
			return operand, nil
		}
		n.lhs = operand
		pushAncestry(n, operand)
		return n, nil
	case nArray, nBlock:
		for i, item := range n.items {
			p, err := pr.process(item)
			if err != nil {
				return nil, err
			}
			if n.typ == nArray && item.typ == nArray {
				p.isArrayItem = true
			}
			n.items[i] = p
			pushAncestry(n, p)
		}
		if n.typ == nBlock {
			n.needsFrame = bindsInFrame(n.items)
			for _, p := range n.items {
				if p.consArray || (p.typ == nPath && p.items[0].consArray) {
					n.consArray = true
				}
			}
		}
		return n, nil
	case nObject:
		if err := pr.processPairs(n, n.pairs); err != nil {
			return nil, err
		}
		return n, nil
	case nCondition:
		var err error
		if n.cond, err = pr.process(n.cond); err != nil {
			return nil, err
		}
		pushAncestry(n, n.cond)
		if n.then, err = pr.process(n.then); err != nil {
			return nil, err
		}
		pushAncestry(n, n.then)
		if n.els != nil {
			if n.els, err = pr.process(n.els); err != nil {
				return nil, err
			}
			pushAncestry(n, n.els)
		}
		return n, nil
	case nCall, nPartial:
		var err error
		if n.lhs, err = pr.process(n.lhs); err != nil {
			return nil, err
		}
		for i, a := range n.items {
			if a.typ == nPlaceholder {
				continue
			}
			if n.items[i], err = pr.process(a); err != nil {
				return nil, err
			}
			pushAncestry(n, n.items[i])
		}
		return n, nil
	case nLambda:
		body, err := pr.process(n.body)
		if err != nil {
			return nil, err
		}
		markTailCalls(body)
		n.body = body
		return n, nil
	case nBind:
		rhs, err := pr.process(n.rhs)
		if err != nil {
			return nil, err
		}
		n.rhs = rhs
		pushAncestry(n, rhs)
		return n, nil
	case nSort:
		return pr.sort(n)
	case nTransform:
		var err error
		if n.lhs, err = pr.process(n.lhs); err != nil {
			return nil, err
		}
		if n.update, err = pr.process(n.update); err != nil {
			return nil, err
		}
		if n.del != nil {
			if n.del, err = pr.process(n.del); err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	return n, nil
}

func (pr *processor) processPairs(n *node, pairs [][2]*node) error {
	for i, pair := range pairs {
		k, err := pr.process(pair[0])
		if err != nil {
			return err
		}
		pushAncestry(n, k)
		v, err := pr.process(pair[1])
		if err != nil {
			return err
		}
		pushAncestry(n, v)
		pairs[i] = [2]*node{k, v}
	}
	return nil
}

func (pr *processor) binary(n *node) (*node, error) {
	switch n.op {
	case ".":
		return pr.path(n)
	case "[":
		return pr.predicate(n)
	case "{":
		result, err := pr.process(n.lhs)
		if err != nil {
			return nil, err
		}
		if result.group != nil {
			return nil, newError("S0210", n.pos, "", nil)
		}
		holder := &node{}
		if err := pr.processPairs(holder, n.pairs); err != nil {
			return nil, err
		}
		// like jsonata-js, parent references inside grouping pairs are
		// not propagated to the enclosing path
		result.group = n.pairs
		result.groupPos = n.pos
		return result, nil
	case "@":
		result, err := pr.process(n.lhs)
		if err != nil {
			return nil, err
		}
		step := result
		if result.typ == nPath {
			step = result.items[len(result.items)-1]
		}
		if len(step.stages) > 0 || len(step.predicate) > 0 {
			return nil, newError("S0215", n.pos, "", nil)
		}
		if step.typ == nSort {
			return nil, newError("S0216", n.pos, "", nil)
		}
		if n.keepArray {
			step.keepArray = true
		}
		step.focus = n.rhs.op
		step.tuple = true
		return result, nil
	case "#":
		result, err := pr.process(n.lhs)
		if err != nil {
			return nil, err
		}
		step := result
		if result.typ == nPath {
			step = result.items[len(result.items)-1]
		} else {
			result = &node{typ: nPath, items: []*node{result}, pos: result.pos}
			if step.predicate != nil {
				step.stages, step.predicate = step.predicate, nil
			}
		}
		if step.stages == nil {
			step.index = n.rhs.op
		} else {
			step.stages = append(step.stages, stage{index: n.rhs.op, pos: n.pos})
		}
		step.tuple = true
		return result, nil
	case ":=":
		return nil, newError("S0212", n.pos, "", nil)
	}
	lhs, err := pr.process(n.lhs)
	if err != nil {
		return nil, err
	}
	rhs, err := pr.process(n.rhs)
	if err != nil {
		return nil, err
	}
	typ := nBinary
	if n.op == "~>" {
		typ = nApply
	}
	out := &node{typ: typ, op: n.op, lhs: lhs, rhs: rhs, pos: n.pos, keepArray: n.keepArray}
	pushAncestry(out, lhs)
	pushAncestry(out, rhs)
	return out, nil
}

func (pr *processor) path(n *node) (*node, error) {
	lstep, err := pr.process(n.lhs)
	if err != nil {
		return nil, err
	}
	var result *node
	if lstep.typ == nPath {
		result = lstep
	} else {
		result = &node{typ: nPath, items: []*node{lstep}, pos: n.pos}
	}
	if lstep.typ == nParent {
		result.seekingParent = []*slot{lstep.slot}
	}
	rest, err := pr.process(n.rhs)
	if err != nil {
		return nil, err
	}
	if rest.typ == nPath {
		result.items = append(result.items, rest.items...)
	} else {
		if rest.predicate != nil {
			rest.stages, rest.predicate = rest.predicate, nil
		}
		result.items = append(result.items, rest)
	}
	for _, step := range result.items {
		switch step.typ {
		case nNumber, nValue:
			return nil, newError("S0213", step.pos, "", literalValue(step))
		case nString:
			step.typ = nName
		}
		if step.keepArray {
			result.keepSingleton = true
		}
	}
	if first := result.items[0]; first.typ == nArray {
		first.consArray = true
	}
	if last := result.items[len(result.items)-1]; last.typ == nArray {
		last.consArray = true
	}
	if err := pr.resolveAncestry(result); err != nil {
		return nil, err
	}
	return result, nil
}

func literalValue(n *node) any {
	if n.typ == nNumber {
		return n.num
	}
	return n.val
}

func (pr *processor) predicate(n *node) (*node, error) {
	result, err := pr.process(n.lhs)
	if err != nil {
		return nil, err
	}
	step := result
	onStep := false
	if result.typ == nPath {
		step = result.items[len(result.items)-1]
		onStep = true
	}
	if step.group != nil {
		return nil, newError("S0209", n.pos, "", nil)
	}
	pred, err := pr.process(n.rhs)
	if err != nil {
		return nil, err
	}
	for _, s := range pred.seekingParent {
		if s.level == 1 {
			if _, err := pr.seekParent(step, s); err != nil {
				return nil, err
			}
		} else {
			s.level--
		}
	}
	pushAncestry(step, pred)
	st := stage{filter: pred, pos: n.pos}
	if onStep {
		step.stages = append(step.stages, st)
	} else {
		step.predicate = append(step.predicate, st)
	}
	return result, nil
}

func (pr *processor) sort(n *node) (*node, error) {
	result, err := pr.process(n.lhs)
	if err != nil {
		return nil, err
	}
	if result.typ != nPath {
		result = &node{typ: nPath, items: []*node{result}, pos: n.pos}
	}
	step := &node{typ: nSort, pos: n.pos}
	for _, t := range n.terms {
		e, err := pr.process(t.expr)
		if err != nil {
			return nil, err
		}
		pushAncestry(step, e)
		step.terms = append(step.terms, sortTerm{descending: t.descending, expr: e})
	}
	result.items = append(result.items, step)
	if err := pr.resolveAncestry(result); err != nil {
		return nil, err
	}
	return result, nil
}

// bindsInFrame reports whether evaluating the nodes may bind a variable in
// the current frame: a := not nested in another block or a lambda. Blocks
// without one need no frame of their own.
func bindsInFrame(nodes []*node) bool {
	for _, n := range nodes {
		if n == nil {
			continue
		}
		switch n.typ {
		case nBind:
			return true
		case nBlock, nLambda:
			continue
		}
		kids := []*node{n.lhs, n.rhs, n.cond, n.then, n.els, n.update, n.del}
		kids = append(kids, n.items...)
		for _, p := range n.pairs {
			kids = append(kids, p[0], p[1])
		}
		for _, p := range n.group {
			kids = append(kids, p[0], p[1])
		}
		for _, st := range append(n.stages, n.predicate...) {
			kids = append(kids, st.filter)
		}
		for _, t := range n.terms {
			kids = append(kids, t.expr)
		}
		if bindsInFrame(kids) {
			return true
		}
	}
	return false
}

// markTailCalls flags the calls a lambda body returns directly (through
// conditions and the last expression of blocks), so that apply can run them
// in a loop instead of recursing: tail-recursive functions then run in
// constant stack, as in jsonata-js.
func markTailCalls(n *node) {
	if n.predicate != nil || n.group != nil || n.keepArray {
		return // the result is filtered or reshaped: not a tail position
	}
	switch n.typ {
	case nCall:
		n.tailCall = true
	case nCondition:
		markTailCalls(n.then)
		if n.els != nil {
			markTailCalls(n.els)
		}
	case nBlock:
		if len(n.items) > 0 {
			markTailCalls(n.items[len(n.items)-1])
		}
	}
}

// pushAncestry propagates unresolved parent references from a child up to
// the node that contains it.
func pushAncestry(parent, child *node) {
	if child == nil {
		return
	}
	if child.seekingParent == nil && child.typ != nParent {
		return
	}
	slots := append([]*slot(nil), child.seekingParent...)
	if child.typ == nParent {
		slots = append(slots, child.slot)
	}
	parent.seekingParent = append(parent.seekingParent, slots...)
}

// seekParent walks back through a step to find the one whose input is the
// parent that a % refers to, and marks it to record that ancestor.
func (pr *processor) seekParent(n *node, s *slot) (*slot, error) {
	switch n.typ {
	case nName, nWildcard:
		s.level--
		if s.level == 0 {
			if n.ancestor != nil {
				// reuse the label already bound at this step
				pr.ancestry[s.index].slot.label = n.ancestor.label
			}
			n.ancestor = s
			n.tuple = true
		}
	case nParent:
		s.level++
	case nBlock:
		if len(n.items) > 0 {
			n.tuple = true
			return pr.seekParent(n.items[len(n.items)-1], s)
		}
	case nPath:
		n.tuple = true
		i := len(n.items) - 1
		var err error
		if s, err = pr.seekParent(n.items[i], s); err != nil {
			return nil, err
		}
		i--
		for s.level > 0 && i >= 0 {
			if s, err = pr.seekParent(n.items[i], s); err != nil {
				return nil, err
			}
			i--
		}
	default:
		return nil, newError("S0217", n.pos, nodeName(n), nil)
	}
	return s, nil
}

func nodeName(n *node) string {
	switch n.typ {
	case nArray:
		return "["
	case nObject:
		return "{"
	case nCall, nPartial:
		return "function"
	case nVariable:
		return "$" + n.op
	}
	return n.op
}

func (pr *processor) resolveAncestry(path *node) error {
	last := path.items[len(path.items)-1]
	slots := append([]*slot(nil), last.seekingParent...)
	if last.typ == nParent {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		i := len(path.items) - 2
		for s.level > 0 {
			if i < 0 {
				path.seekingParent = append(path.seekingParent, s)
				break
			}
			step := path.items[i]
			i--
			// contiguous steps that bind the focus are skipped together
			for i >= 0 && step.focus != "" && path.items[i].focus != "" {
				step = path.items[i]
				i--
			}
			var err error
			if s, err = pr.seekParent(step, s); err != nil {
				return err
			}
		}
	}
	return nil
}
