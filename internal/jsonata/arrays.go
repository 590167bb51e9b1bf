package jsonata

import (
	"math/rand/v2"
	"slices"
	"sort"
)

func addArrayFunctions(add adder) {
	add("count", "a", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return 0.0, nil
		}
		return float64(len(items)), nil
	})
	add("append", "xx", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		return appendValues(a[0], a[1]), nil
	})
	add("reverse", "a", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		out := slices.Clone(items)
		slices.Reverse(out)
		return out, nil
	})
	add("shuffle", "a", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		out := slices.Clone(items)
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out, nil
	})
	add("distinct", "x", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return a[0], nil
		}
		if len(items) <= 1 {
			return a[0], nil
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			if !slices.ContainsFunc(out, func(o any) bool { return deepEqual(o, it) }) {
				out = append(out, it)
			}
		}
		if _, isSeq := a[0].(*sequence); isSeq {
			return &sequence{items: out}, nil
		}
		return out, nil
	})
	add("zip", "a+", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		if len(a) == 0 {
			return []any{}, nil
		}
		n := -1
		arrays := make([][]any, len(a))
		for i, arg := range a {
			arrays[i], _ = arrayItems(arg)
			if n < 0 || len(arrays[i]) < n {
				n = len(arrays[i])
			}
		}
		out := make([]any, n)
		for i := range n {
			row := make([]any, len(arrays))
			for j := range arrays {
				row[j] = arrays[j][i]
			}
			out[i] = row
		}
		return out, nil
	})
	add("sort", "af?", fnSort)
}

func fnSort(ev *evaluator, a []any, ctx any, pos int) (any, error) {
	items, ok := arrayItems(a[0])
	if !ok {
		return undefinedValue{}, nil
	}
	if len(items) <= 1 {
		return items, nil
	}
	out := slices.Clone(items)
	if isUndefined(a[1]) {
		allNum, allStr := true, true
		for _, it := range out {
			if _, ok := asNumber(it); !ok {
				allNum = false
			}
			if _, ok := it.(string); !ok {
				allStr = false
			}
		}
		if !allNum && !allStr {
			return nil, newError("D3070", pos, "sort", nil)
		}
		sort.SliceStable(out, func(i, j int) bool { return compareScalars(out[i], out[j]) < 0 })
		return out, nil
	}
	// the comparator says whether a should come after b; a stable merge
	// sort keeps equal items in order, as JSONata's does
	var sortErr error
	after := func(x, y any) bool {
		if sortErr != nil {
			return false
		}
		r, err := ev.apply(a[1], []any{x, y}, ctx, pos, "sort")
		if err != nil {
			sortErr = err
			return false
		}
		return truthy(r)
	}
	out = mergeSort(out, after)
	if sortErr != nil {
		return nil, sortErr
	}
	return out, nil
}

func mergeSort(items []any, after func(a, b any) bool) []any {
	if len(items) <= 1 {
		return items
	}
	mid := len(items) / 2
	left := mergeSort(slices.Clone(items[:mid]), after)
	right := mergeSort(slices.Clone(items[mid:]), after)
	out := make([]any, 0, len(items))
	for len(left) > 0 && len(right) > 0 {
		if after(left[0], right[0]) {
			out = append(out, right[0])
			right = right[1:]
		} else {
			out = append(out, left[0])
			left = left[1:]
		}
	}
	out = append(out, left...)
	return append(out, right...)
}

func addObjectFunctions(add adder) {
	add("keys", "x-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		var keys []any
		seen := map[string]bool{}
		addKeys := func(m map[string]any) {
			for _, k := range sortedKeys(m) {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		if items, ok := arrayItems(a[0]); ok {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					addKeys(m)
				}
			}
		} else if m, ok := a[0].(map[string]any); ok {
			addKeys(m)
		}
		return &sequence{items: keys}, nil
	})
	add("lookup", "x-s", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		k, _ := str(a[1])
		return lookupName(a[0], k), nil
	})
	add("spread", "x-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		out := &sequence{}
		var spread func(v any)
		spread = func(v any) {
			if items, ok := arrayItems(v); ok {
				for _, it := range items {
					spread(it)
				}
				return
			}
			m, ok := v.(map[string]any)
			if !ok {
				out.items = append(out.items, v)
				return
			}
			for _, k := range sortedKeys(m) {
				out.items = append(out.items, map[string]any{k: m[k]})
			}
		}
		if isUndefined(a[0]) {
			return undefinedValue{}, nil
		}
		spread(a[0])
		return out, nil
	})
	add("merge", "a<o>", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		out := map[string]any{}
		for _, it := range items {
			for k, v := range it.(map[string]any) {
				out[k] = v
			}
		}
		return out, nil
	})
	add("type", "x", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		if isUndefined(a[0]) {
			return undefinedValue{}, nil
		}
		return typeName(a[0]), nil
	})
	add("boolean", "x-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		if isUndefined(a[0]) {
			return undefinedValue{}, nil
		}
		return truthy(a[0]), nil
	})
	add("not", "x-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		if isUndefined(a[0]) {
			return undefinedValue{}, nil
		}
		return !truthy(a[0]), nil
	})
	add("exists", "x", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		return !isUndefined(a[0]), nil
	})
	add("error", "s?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		msg, ok := str(a[0])
		if !ok {
			msg = "$error() function evaluated"
		}
		return nil, newError("D3137", pos, "error", nil, "message", msg)
	})
	add("assert", "bs?", func(_ *evaluator, a []any, _ any, pos int) (any, error) {
		if b, _ := a[0].(bool); b {
			return undefinedValue{}, nil
		}
		msg, ok := str(a[1])
		if !ok {
			msg = "$assert() statement failed"
		}
		return nil, newError("D3141", pos, "assert", nil, "message", msg)
	})
	add("clone", "(oa)-", func(_ *evaluator, a []any, _ any, _ int) (any, error) {
		if isUndefined(a[0]) {
			return undefinedValue{}, nil
		}
		return deepCopy(a[0]), nil
	})
}
