package jsonata

import (
	"math"
	"sort"
	"strings"
)

func (ev *evaluator) filter(pred *node, input any, en *env) (any, error) {
	out := &sequence{}
	if s, ok := input.(*sequence); ok && s.tupleStream {
		out.tupleStream = true
	}
	items, ok := arrayItems(input)
	if !ok {
		if isUndefined(input) {
			items = []any{}
		} else {
			items = []any{input}
		}
	}
	if pred.typ == nNumber {
		idx := int(math.Floor(pred.num))
		if idx < 0 {
			idx += len(items)
		}
		if idx >= 0 && idx < len(items) {
			if arr, ok := items[idx].([]any); ok {
				return arr, nil
			}
			out.items = append(out.items, items[idx])
		}
		return out, nil
	}
	for i, item := range items {
		ctx, fenv := item, en
		if t, ok := item.(*tuple); ok && out.tupleStream {
			ctx, fenv = t.context, frameFromTuple(en, t)
		}
		res, err := ev.eval(pred, ctx, fenv)
		if err != nil {
			return nil, err
		}
		if f, ok := asNumber(res); ok {
			res = []any{f}
		}
		if nums, ok := numberList(res); ok {
			for _, f := range nums {
				j := int(math.Floor(f))
				if j < 0 {
					j += len(items)
				}
				if j == i {
					out.items = append(out.items, item)
				}
			}
		} else if truthy(res) {
			out.items = append(out.items, item)
		}
	}
	return out, nil
}

// numberList reports whether v is an array whose items are all numbers.
func numberList(v any) ([]float64, bool) {
	items, ok := arrayItems(v)
	if !ok {
		return nil, false
	}
	nums := make([]float64, len(items))
	for i, it := range items {
		f, ok := asNumber(it)
		if !ok {
			return nil, false
		}
		nums[i] = f
	}
	return nums, true
}

// appendValues is JSONata's internal append: concatenates, treating a
// non-array as a one-item array and undefined as nothing.
func appendValues(a, b any) any {
	if isUndefined(a) {
		return b
	}
	if isUndefined(b) {
		return a
	}
	var out []any
	if items, ok := arrayItems(a); ok {
		out = append(out, items...)
	} else {
		out = append(out, a)
	}
	if items, ok := arrayItems(b); ok {
		out = append(out, items...)
	} else {
		out = append(out, b)
	}
	return out
}

func pos(pairs [][2]*node) int {
	if len(pairs) > 0 {
		return pairs[0][0].pos
	}
	return 0
}

type groupEntry struct {
	data      any
	exprIndex int
}

// group evaluates an object constructor or a grouping expression: each item
// of the input yields keys, items with the same key are merged, and the
// value expression runs once per key over the merged items.
func (ev *evaluator) group(pairs [][2]*node, input any, en *env) (any, error) {
	reduce := false
	if s, ok := input.(*sequence); ok && s.tupleStream {
		reduce = true
	}
	items, ok := arrayItems(input)
	if !ok {
		items = []any{input}
	}
	if len(items) == 0 {
		if reduce {
			// jsonata-js 2.0.6 fails here with a TypeError; AWS runs 2.0.6
			return nil, jsError(pos(pairs), "Cannot read properties of undefined (reading '@')")
		}
		items = []any{undefinedValue{}}
	}
	groups := map[string]*groupEntry{}
	var order []string
	for _, item := range items {
		ctx, genv := item, en
		if t, ok := item.(*tuple); ok && reduce {
			ctx, genv = t.context, frameFromTuple(en, t)
		}
		for pi, pair := range pairs {
			k, err := ev.eval(pair[0], ctx, genv)
			if err != nil {
				return nil, err
			}
			if isUndefined(k) {
				continue
			}
			key, ok := k.(string)
			if !ok {
				return nil, newError("T1003", pair[0].pos, "", plain(k))
			}
			if g, ok := groups[key]; ok {
				if g.exprIndex != pi {
					return nil, newError("D1009", pair[0].pos, "", key)
				}
				g.data = appendValues(g.data, item)
			} else {
				groups[key] = &groupEntry{data: item, exprIndex: pi}
				order = append(order, key)
			}
		}
	}
	result := make(map[string]any, len(groups))
	for _, key := range order {
		g := groups[key]
		ctx, genv := g.data, en
		if reduce {
			t := reduceTuples(g.data)
			ctx, genv = t.context, frameFromTuple(en, t)
		}
		v, err := ev.eval(pairs[g.exprIndex][1], ctx, genv)
		if err != nil {
			return nil, err
		}
		if !isUndefined(v) {
			result[key] = unseq(v)
		}
	}
	return result, nil
}

// reduceTuples merges the tuples of one group: each binding becomes the
// sequence of that binding's values.
func reduceTuples(data any) *tuple {
	if t, ok := data.(*tuple); ok {
		return t
	}
	items, _ := arrayItems(data)
	if len(items) == 0 {
		// an empty stream still evaluates the grouping once, with no context
		return &tuple{context: data, bindings: map[string]any{}}
	}
	first, ok := items[0].(*tuple)
	if !ok {
		return &tuple{context: data, bindings: map[string]any{}}
	}
	out := &tuple{context: first.context, bindings: make(map[string]any, len(first.bindings))}
	for k, v := range first.bindings {
		out.bindings[k] = v
	}
	for _, it := range items[1:] {
		t, ok := it.(*tuple)
		if !ok {
			continue
		}
		out.context = appendValues(out.context, t.context)
		for k, v := range t.bindings {
			prev, ok := out.bindings[k]
			if !ok {
				prev = undefinedValue{}
			}
			out.bindings[k] = appendValues(prev, v)
		}
	}
	return out
}

func (ev *evaluator) sortExpr(n *node, input any, en *env) (any, error) {
	items, ok := arrayItems(input)
	if !ok {
		return input, nil // a single item (or nothing) is already sorted
	}
	isTuple := false
	if s, ok := input.(*sequence); ok && s.tupleStream {
		isTuple = true
	}
	if len(items) <= 1 {
		return input, nil
	}
	type keyed struct {
		item any
		keys []any
	}
	rows := make([]keyed, len(items))
	for i, it := range items {
		ctx, senv := it, en
		if t, ok := it.(*tuple); ok && isTuple {
			ctx, senv = t.context, frameFromTuple(en, t)
		}
		rows[i] = keyed{item: it, keys: make([]any, len(n.terms))}
		for ti, term := range n.terms {
			v, err := ev.eval(term.expr, ctx, senv)
			if err != nil {
				return nil, err
			}
			rows[i].keys[ti] = v
		}
	}
	var sortErr error
	sort.SliceStable(rows, func(i, j int) bool {
		if sortErr != nil {
			return false
		}
		for ti, term := range n.terms {
			a, b := rows[i].keys[ti], rows[j].keys[ti]
			if isUndefined(a) {
				if isUndefined(b) {
					continue
				}
				return false
			}
			if isUndefined(b) {
				return true
			}
			ta, tb := typeName(a), typeName(b)
			if (ta != "number" && ta != "string") || (tb != "number" && tb != "string") {
				sortErr = newError("T2008", n.pos, "", nil)
				return false
			}
			if ta != tb {
				sortErr = newError("T2007", n.pos, "", plain(a), "value2", plain(b))
				return false
			}
			c := compareScalars(a, b)
			if c == 0 {
				continue
			}
			if term.descending {
				c = -c
			}
			return c < 0
		}
		return false
	})
	if sortErr != nil {
		return nil, sortErr
	}
	out := &sequence{tupleStream: isTuple, items: make([]any, len(rows))}
	for i, r := range rows {
		out.items[i] = r.item
	}
	return out, nil
}

// compareScalars orders two numbers or two strings.
func compareScalars(a, b any) int {
	if fa, ok := asNumber(a); ok {
		fb, _ := asNumber(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return compareStrings(a.(string), b.(string))
}

// compareStrings orders strings by UTF-16 code units, as JavaScript does.
func compareStrings(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16Units(a), utf16Units(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func utf16Units(s string) []uint16 {
	out := make([]uint16, 0, len(s))
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

func (ev *evaluator) condition(n *node, input any, en *env) (any, error) {
	c, err := ev.eval(n.cond, input, en)
	if err != nil {
		return nil, err
	}
	if truthy(c) {
		return ev.eval(n.then, input, en)
	}
	if n.els != nil {
		return ev.eval(n.els, input, en)
	}
	return undefinedValue{}, nil
}

func (ev *evaluator) block(n *node, input any, en *env) (any, error) {
	frame := en
	if n.needsFrame {
		frame = en.child()
	}
	var result any = undefinedValue{}
	for _, e := range n.items {
		var err error
		if result, err = ev.eval(e, input, frame); err != nil {
			return nil, err
		}
	}
	return result, nil
}

func (ev *evaluator) array(n *node, input any, en *env) (any, error) {
	out := make([]any, 0, len(n.items))
	for _, item := range n.items {
		v, err := ev.eval(item, input, en)
		if err != nil {
			return nil, err
		}
		if isUndefined(v) {
			continue
		}
		if item.isArrayItem {
			out = append(out, unseq(v))
		} else if items, ok := arrayItems(v); ok {
			for _, it := range items {
				out = append(out, unseq(it))
			}
		} else {
			out = append(out, v)
		}
	}
	return out, nil
}
