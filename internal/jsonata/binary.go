package jsonata

import (
	"math"
)

func (ev *evaluator) binary(n *node, input any, en *env) (any, error) {
	lhs, err := ev.eval(n.lhs, input, en)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and":
		if !truthy(lhs) {
			return false, nil
		}
		rhs, err := ev.eval(n.rhs, input, en)
		if err != nil {
			return nil, err
		}
		return truthy(rhs), nil
	case "or":
		if truthy(lhs) {
			return true, nil
		}
		rhs, err := ev.eval(n.rhs, input, en)
		if err != nil {
			return nil, err
		}
		return truthy(rhs), nil
	}
	rhs, err := ev.eval(n.rhs, input, en)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "+", "-", "*", "/", "%":
		return arithmetic(n, lhs, rhs)
	case "=", "!=":
		if isUndefined(lhs) || isUndefined(rhs) {
			return false, nil
		}
		eq := deepEqual(lhs, rhs)
		if n.op == "!=" {
			return !eq, nil
		}
		return eq, nil
	case "<", "<=", ">", ">=":
		return comparison(n, lhs, rhs)
	case "&":
		ls, err := stringOf(lhs, n.pos)
		if err != nil {
			return nil, err
		}
		rs, err := stringOf(rhs, n.pos)
		if err != nil {
			return nil, err
		}
		if len(ls)+len(rs) > maxString {
			return nil, stringTooLong(n.pos, "&")
		}
		return ls + rs, nil
	case "in":
		if isUndefined(lhs) || isUndefined(rhs) {
			return false, nil
		}
		items, ok := arrayItems(rhs)
		if !ok {
			items = []any{rhs}
		}
		for _, it := range items {
			if scalarEqual(lhs, it) {
				return true, nil
			}
		}
		return false, nil
	case "..":
		return rangeOp(n, lhs, rhs)
	}
	return nil, newError("S0204", n.pos, n.op, nil)
}

// scalarEqual is JavaScript's === as the in operator uses it: values compare
// by value, objects and arrays only by identity, which we never claim.
func scalarEqual(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any, *sequence:
		return false
	}
	return deepEqual(a, b)
}

// stringOf is the & operator's cast: undefined becomes "".
func stringOf(v any, pos int) (string, error) {
	if isUndefined(v) {
		return "", nil
	}
	return castString(v, pos)
}

func arithmetic(n *node, lhs, rhs any) (any, error) {
	l, lok, err := finiteNumber(lhs, n.pos)
	if err != nil {
		return nil, err
	}
	r, rok, err := finiteNumber(rhs, n.pos)
	if err != nil {
		return nil, err
	}
	if !isUndefined(lhs) && !lok {
		return nil, newError("T2001", n.pos, n.op, plain(lhs))
	}
	if !isUndefined(rhs) && !rok {
		return nil, newError("T2002", n.pos, n.op, plain(rhs))
	}
	if !lok || !rok {
		return undefinedValue{}, nil
	}
	var res float64
	switch n.op {
	case "+":
		res = l + r
	case "-":
		res = l - r
	case "*":
		res = l * r
	case "/":
		res = l / r
	case "%":
		res = math.Mod(l, r)
	}
	return res, nil
}

// finiteNumber reads an arithmetic operand. 1/0 yields Infinity, but no
// operator accepts it: using it is D1001, as in jsonata-js.
func finiteNumber(v any, pos int) (float64, bool, error) {
	f, ok := asNumber(v)
	if !ok || math.IsNaN(f) {
		return 0, false, nil
	}
	if math.IsInf(f, 0) {
		return 0, false, newError("D1001", pos, "", f)
	}
	return f, true, nil
}

func comparison(n *node, lhs, rhs any) (any, error) {
	lt, rt := typeName(lhs), typeName(rhs)
	lcomp := lt == "undefined" || lt == "string" || lt == "number"
	rcomp := rt == "undefined" || rt == "string" || rt == "number"
	if !lcomp || !rcomp {
		bad := lhs
		if lcomp {
			bad = rhs
		}
		return nil, newError("T2010", n.pos, n.op, plain(bad))
	}
	if lt == "undefined" || rt == "undefined" {
		return undefinedValue{}, nil
	}
	if lt != rt {
		return nil, newError("T2009", n.pos, n.op, plain(lhs), "value2", plain(rhs))
	}
	c := compareScalars(lhs, rhs)
	switch n.op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// maxString bounds the strings & and $pad build, far above any value Step
// Functions accepts (256 KiB a payload), so an expression that doubles a
// string in a loop fails instead of exhausting memory.
const maxString = 64 << 20

func stringTooLong(pos int, op string) *Error {
	return &Error{Code: "U1003", Position: pos, Token: op, Message: "String too long: the result would exceed 64 MiB"}
}

// maxRange bounds the size of a range so [1..1e12] cannot exhaust memory.
const maxRange = 1e7

func rangeOp(n *node, lhs, rhs any) (any, error) {
	l, lok := asNumber(lhs)
	r, rok := asNumber(rhs)
	if !isUndefined(lhs) && (!lok || l != math.Trunc(l)) {
		return nil, newError("T2003", n.pos, "..", plain(lhs))
	}
	if !isUndefined(rhs) && (!rok || r != math.Trunc(r)) {
		return nil, newError("T2004", n.pos, "..", plain(rhs))
	}
	if !lok || !rok || l > r {
		return undefinedValue{}, nil
	}
	size := r - l + 1
	if size > maxRange {
		return nil, newError("D2014", n.pos, "..", size)
	}
	out := make([]any, int(size))
	for i := range out {
		out[i] = l + float64(i)
	}
	return out, nil
}

func (ev *evaluator) negate(n *node, input any, en *env) (any, error) {
	v, err := ev.eval(n.lhs, input, en)
	if err != nil {
		return nil, err
	}
	if isUndefined(v) {
		return v, nil
	}
	f, ok := asNumber(v)
	if !ok {
		return nil, newError("D1002", n.pos, "-", plain(v))
	}
	return -f, nil
}
