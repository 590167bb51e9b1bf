package jsonata

// Tuple streams carry, for each item of a path, the variables that focus
// (@), index (#) and parent (%) bindings have set along the way.

// frameFromTuple makes a frame holding a tuple's bindings.
func frameFromTuple(parent *env, t *tuple) *env {
	return &env{parent: parent, vars: t.bindings}
}

func (ev *evaluator) tupleStep(step *node, input []any, tuples []*tuple, en *env) ([]*tuple, error) {
	if step.typ == nSort {
		var sorted any
		var err error
		if tuples != nil {
			s := &sequence{tupleStream: true}
			for _, t := range tuples {
				s.items = append(s.items, t)
			}
			sorted, err = ev.sortExpr(step, s, en)
		} else {
			sorted, err = ev.sortExpr(step, &sequence{items: input}, en)
		}
		if err != nil {
			return nil, err
		}
		items, _ := arrayItems(sorted)
		out := make([]*tuple, len(items))
		for i, it := range items {
			if t, ok := it.(*tuple); ok {
				out[i] = t
			} else {
				out[i] = &tuple{context: it, bindings: map[string]any{}}
				if step.index != "" {
					out[i].bindings[step.index] = float64(i)
				}
			}
		}
		return ev.tupleStages(step.stages, out, en)
	}
	if tuples == nil {
		tuples = make([]*tuple, len(input))
		for i, it := range input {
			tuples[i] = &tuple{context: it, bindings: map[string]any{}}
		}
	}
	out := make([]*tuple, 0, len(tuples))
	for _, t := range tuples {
		stepEnv := frameFromTuple(en, t)
		res, err := ev.eval(step, t.context, stepEnv)
		if err != nil {
			return nil, err
		}
		if isUndefined(res) {
			continue
		}
		items, ok := arrayItems(res)
		if !ok {
			items = []any{res}
		}
		rs, isStream := res.(*sequence)
		isStream = isStream && rs.tupleStream
		for bb, item := range items {
			nt := &tuple{bindings: make(map[string]any, len(t.bindings)+2)}
			for k, v := range t.bindings {
				nt.bindings[k] = v
			}
			nt.context = t.context
			if isStream {
				inner := item.(*tuple)
				for k, v := range inner.bindings {
					nt.bindings[k] = v
				}
				nt.context = inner.context
			} else {
				if step.focus != "" {
					nt.bindings[step.focus] = item
				} else {
					nt.context = item
				}
				if step.index != "" {
					nt.bindings[step.index] = float64(bb)
				}
				if step.ancestor != nil {
					nt.bindings[step.ancestor.label] = t.context
				}
			}
			out = append(out, nt)
		}
	}
	return ev.tupleStages(step.stages, out, en)
}

func (ev *evaluator) tupleStages(stages []stage, tuples []*tuple, en *env) ([]*tuple, error) {
	for _, st := range stages {
		if st.filter == nil {
			for i, t := range tuples {
				t.bindings[st.index] = float64(i)
			}
			continue
		}
		s := &sequence{tupleStream: true, items: make([]any, len(tuples))}
		for i, t := range tuples {
			s.items[i] = t
		}
		res, err := ev.filter(st.filter, s, en)
		if err != nil {
			return nil, err
		}
		items, _ := arrayItems(res)
		tuples = make([]*tuple, 0, len(items))
		for _, it := range items {
			if t, ok := it.(*tuple); ok {
				tuples = append(tuples, t)
			}
		}
	}
	return tuples, nil
}
