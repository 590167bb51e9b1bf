package jsonata

// hofArgs builds the arguments passed to a function given to $map, $filter
// and the like: the value, then the index and the array when the function
// takes them.
func hofArgs(fn any, vals ...any) []any {
	n := arity(fn)
	if n < 1 {
		n = 1
	}
	if n > len(vals) {
		n = len(vals)
	}
	return vals[:n]
}

func addHigherOrderFunctions(add adder) {
	add("map", "af", func(ev *evaluator, a []any, ctx any, pos int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		out := &sequence{}
		for i, it := range items {
			r, err := ev.apply(a[1], hofArgs(a[1], it, float64(i), a[0]), ctx, pos, "map")
			if err != nil {
				return nil, err
			}
			if !isUndefined(r) {
				out.items = append(out.items, r)
			}
		}
		return out, nil
	})
	add("filter", "af", func(ev *evaluator, a []any, ctx any, pos int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		out := &sequence{}
		for i, it := range items {
			r, err := ev.apply(a[1], hofArgs(a[1], it, float64(i), a[0]), ctx, pos, "filter")
			if err != nil {
				return nil, err
			}
			if truthy(r) {
				out.items = append(out.items, it)
			}
		}
		return out, nil
	})
	add("single", "af?", func(ev *evaluator, a []any, ctx any, pos int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		var found any
		hasFound := false
		for i, it := range items {
			pass := true
			if !isUndefined(a[1]) {
				r, err := ev.apply(a[1], hofArgs(a[1], it, float64(i), a[0]), ctx, pos, "single")
				if err != nil {
					return nil, err
				}
				pass = truthy(r)
			}
			if pass {
				if hasFound {
					return nil, newError("D3138", pos, "single", nil)
				}
				found, hasFound = it, true
			}
		}
		if !hasFound {
			return nil, newError("D3139", pos, "single", nil)
		}
		return found, nil
	})
	add("reduce", "afj?", func(ev *evaluator, a []any, ctx any, pos int) (any, error) {
		items, ok := arrayItems(a[0])
		if !ok {
			return undefinedValue{}, nil
		}
		n := arity(a[1])
		if n < 2 {
			return nil, newError("D3050", pos, "reduce", nil)
		}
		var acc any
		start := 0
		if isUndefined(a[2]) {
			if len(items) == 0 {
				return undefinedValue{}, nil
			}
			acc = items[0]
			start = 1
		} else {
			acc = a[2]
		}
		for i := start; i < len(items); i++ {
			args := []any{acc, items[i]}
			if n >= 3 {
				args = append(args, float64(i))
			}
			if n >= 4 {
				args = append(args, a[0])
			}
			var err error
			if acc, err = ev.apply(a[1], args, ctx, pos, "reduce"); err != nil {
				return nil, err
			}
		}
		return acc, nil
	})
	add("sift", "o-f?", func(ev *evaluator, a []any, ctx any, pos int) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return undefinedValue{}, nil
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			r, err := ev.apply(a[1], hofArgs(a[1], m[k], k, m), ctx, pos, "sift")
			if err != nil {
				return nil, err
			}
			if truthy(r) {
				out[k] = m[k]
			}
		}
		if len(out) == 0 {
			return undefinedValue{}, nil
		}
		return out, nil
	})
	add("each", "o-f", func(ev *evaluator, a []any, ctx any, pos int) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return undefinedValue{}, nil
		}
		out := &sequence{}
		for _, k := range sortedKeys(m) {
			r, err := ev.apply(a[1], hofArgs(a[1], m[k], k, m), ctx, pos, "each")
			if err != nil {
				return nil, err
			}
			if !isUndefined(r) {
				out.items = append(out.items, r)
			}
		}
		return out, nil
	})
}
