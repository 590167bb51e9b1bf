package jsonata

import "sort"

// Variables returns the names (without $) of the variables the expression
// reads from its caller: every $name it references except functions of its
// library, names it binds itself (:=, lambda parameters, @ and # bindings)
// and $ / $$. A name bound anywhere in the expression counts as bound,
// which may leave out a name read before a := of the same name.
// The executor can use it to check references before evaluating.
func (e *Expr) Variables() []string {
	bound := map[string]bool{}
	read := map[string]bool{}
	walkNodes(e.root, func(n *node) {
		switch n.typ {
		case nBind:
			bound[n.lhs.op] = true
		case nLambda:
			for _, p := range n.params {
				bound[p] = true
			}
		case nVariable:
			if n.op != "" && n.op != "$" {
				read[n.op] = true
			}
		}
		if n.focus != "" {
			bound[n.focus] = true
		}
		if n.index != "" {
			bound[n.index] = true
		}
		for _, st := range n.stages {
			if st.index != "" {
				bound[st.index] = true
			}
		}
	})
	var out []string
	for name := range read {
		if _, isFunc := e.lib.funcs[name]; !isFunc && !bound[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// walkNodes calls f for every node of the tree.
func walkNodes(n *node, f func(*node)) {
	if n == nil {
		return
	}
	f(n)
	kids := []*node{n.lhs, n.rhs, n.body, n.cond, n.then, n.els, n.update, n.del}
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
	for _, k := range kids {
		walkNodes(k, f)
	}
}
