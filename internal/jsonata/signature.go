package jsonata

import (
	"strings"
)

// signature is a parsed JSONata function signature such as "<s-nn?:s>".
// Arguments are matched by the string of their type symbols, as JSONata
// matches a regular expression built from the parameters: each parameter
// accepts a set of symbols once, optionally (?, and -) or repeatedly (+),
// preferring to consume an argument (greedy, with backtracking).
type signature struct {
	params []sigParam
	text   string
}

type sigParam struct {
	types    string // symbols of values the parameter takes
	accept   string // symbols accepted when matching (types plus m for undefined)
	optional bool   // '?' or '-'
	variadic bool   // '+'
	context  bool   // '-': use the context value when the argument is missing
	array    bool   // 'a': wrap a non-array argument
	subtype  string
	regex    string // the regular-expression form, for arity
}

// symbol is the one-letter type code of a value in a signature.
func symbol(v any) byte {
	switch v.(type) {
	case string:
		return 's'
	case bool:
		return 'b'
	case nil:
		return 'l'
	case map[string]any:
		return 'o'
	case []any, *sequence:
		return 'a'
	case undefinedValue:
		return 'm'
	}
	if isFunction(v) {
		return 'f'
	}
	if _, ok := asNumber(v); ok {
		return 'n'
	}
	return 'o'
}

func parseSignature(text string) (*signature, error) {
	sig := &signature{text: text}
	i := 0
	for i < len(text) {
		c := text[i]
		if c == ':' {
			break // return type is not checked
		}
		var p sigParam
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			p.types = string(c)
			p.regex = "[" + string(c) + "m]"
		case 'a':
			p.types = "a"
			p.array = true
			p.regex = "[asnblfom]"
		case 'f':
			// unlike the other types, a function argument may not be missing
			p.types = "f"
			p.regex = "[f]"
		case 'x':
			p.types = "asnblfo"
			p.regex = "[asnblfom]"
		case 'j':
			p.types = "asnblo"
			p.regex = "[asnblom]"
		case '(':
			end := strings.IndexByte(text[i:], ')')
			if end < 0 {
				return nil, newError("S0402", i, "", nil)
			}
			p.types = text[i+1 : i+end]
			p.regex = "[" + p.types + "m]"
			i += end
		case '?', '+':
			if len(sig.params) == 0 {
				return nil, newError("S0201", i, string(c), nil)
			}
			last := &sig.params[len(sig.params)-1]
			last.regex += string(c)
			if c == '?' {
				last.optional = true
			} else {
				last.variadic = true
			}
			i++
			continue
		case '-':
			if len(sig.params) == 0 {
				return nil, newError("S0201", i, string(c), nil)
			}
			last := &sig.params[len(sig.params)-1]
			last.context = true
			last.optional = true
			last.regex += "?"
			i++
			continue
		case '<':
			if len(sig.params) == 0 {
				return nil, newError("S0401", i, "", nil)
			}
			last := &sig.params[len(sig.params)-1]
			depth, j := 1, i+1
			for j < len(text) && depth > 0 {
				switch text[j] {
				case '<':
					depth++
				case '>':
					depth--
				}
				j++
			}
			if last.types == "a" {
				last.subtype = text[i+1 : j-1]
			} else if last.types != "f" {
				return nil, newError("S0401", i, "", nil)
			}
			i = j
			continue
		default:
			return nil, newError("S0201", i, string(c), nil)
		}
		sig.params = append(sig.params, p)
		i++
	}
	for i := range sig.params {
		sig.params[i].accept = strings.Trim(sig.params[i].regex, "[]?+")
	}
	return sig, nil
}

// match assigns argument symbols to parameters: counts[i] is how many
// arguments parameter i takes. With limit < len(params) it matches only a
// prefix of the parameters against a prefix of the symbols, and returns how
// many symbols that prefix consumed. anchored requires every symbol to be
// consumed.
func (sig *signature) match(syms []byte, counts []int, limit int, anchored bool) (int, bool) {
	var rec func(pi, ai int) (int, bool)
	rec = func(pi, ai int) (int, bool) {
		if pi == limit {
			if anchored && ai != len(syms) {
				return 0, false
			}
			return ai, true
		}
		p := &sig.params[pi]
		n := 0
		for ai+n < len(syms) && strings.IndexByte(p.accept, syms[ai+n]) >= 0 && (n == 0 || p.variadic) {
			n++
		}
		least := 1
		if p.optional {
			least = 0
		}
		for k := n; k >= least; k-- {
			counts[pi] = k
			if end, ok := rec(pi+1, ai+k); ok {
				return end, true
			}
		}
		return 0, false
	}
	return rec(0, 0)
}

// validate checks args against the signature, substitutes the context value
// for a missing context argument, and wraps singletons given for arrays.
func (sig *signature) validate(name string, args []any, context any, pos int) ([]any, error) {
	var symBuf [8]byte
	syms := symBuf[:0]
	for _, a := range args {
		syms = append(syms, symbol(a))
	}
	var countArr [8]int
	counts := countArr[:0]
	for range sig.params {
		counts = append(counts, 0)
	}
	if _, ok := sig.match(syms, counts, len(sig.params), true); !ok {
		return nil, sig.mismatch(name, args, syms, pos)
	}
	out := make([]any, 0, len(sig.params))
	argIndex := 0
	for pi, p := range sig.params {
		start, end := argIndex, argIndex+counts[pi]
		if start == end {
			if p.context {
				ctxSym := symbol(context)
				if strings.IndexByte(p.types, ctxSym) < 0 && !(p.array && ctxSym != 'm') && ctxSym != 'm' {
					return nil, newError("T0411", pos, name, context, "index", argIndex+1)
				}
				out = append(out, context)
			} else {
				out = append(out, undefinedValue{})
			}
			continue
		}
		for k := start; k < end; k++ {
			arg := args[argIndex]
			if p.array && syms[k] != 'm' {
				if p.subtype != "" && !arrayOfType(arg, p.subtype) {
					return nil, newError("T0412", pos, name, arg, "index", argIndex+1, "type", subtypeName(p.subtype))
				}
				if syms[k] != 'a' {
					arg = []any{arg}
				}
			}
			out = append(out, arg)
			argIndex++
		}
	}
	return out, nil
}

func arrayOfType(arg any, subtype string) bool {
	items, ok := arrayItems(arg)
	if !ok {
		return symbol(arg) == subtype[0]
	}
	for _, it := range items {
		if symbol(it) != subtype[0] {
			return false
		}
	}
	return true
}

func subtypeName(s string) string {
	switch s {
	case "a":
		return "arrays"
	case "b":
		return "booleans"
	case "f":
		return "functions"
	case "n":
		return "numbers"
	case "o":
		return "objects"
	case "s":
		return "strings"
	}
	return s
}

// mismatch reports the first argument that breaks the signature: the one
// after the longest run of arguments that a prefix of the parameters takes.
func (sig *signature) mismatch(name string, args []any, syms []byte, pos int) error {
	good := 0
	counts := make([]int, len(sig.params))
	for limit := 1; limit <= len(sig.params); limit++ {
		end, ok := sig.match(syms, counts, limit, false)
		if !ok {
			break
		}
		good = end
	}
	var bad any = undefinedValue{}
	if good < len(args) {
		bad = args[good]
	}
	return newError("T0410", pos, name, bad, "index", good+1)
}
