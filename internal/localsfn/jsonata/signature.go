package jsonata

import (
	"regexp"
	"strings"
)

// signature is a parsed JSONata function signature such as "<s-nn?:s>".
// Arguments are checked by matching the string of their type symbols
// against a regular expression built from the parameters, which gives the
// same optional/variadic/context behaviour as JSONata.
type signature struct {
	params []sigParam
	re     *regexp.Regexp
	text   string
}

type sigParam struct {
	types   string // allowed symbols
	regex   string
	context bool // '-': use the context value when the argument is missing
	array   bool // 'a': wrap a non-array argument
	subtype string
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
			p.types = "f"
			p.regex = "[fm]"
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
			i++
			continue
		case '-':
			if len(sig.params) == 0 {
				return nil, newError("S0201", i, string(c), nil)
			}
			last := &sig.params[len(sig.params)-1]
			last.context = true
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
	var b strings.Builder
	b.WriteByte('^')
	for _, p := range sig.params {
		b.WriteString("(" + p.regex + ")")
	}
	b.WriteByte('$')
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, newError("S0201", 0, text, nil)
	}
	sig.re = re
	return sig, nil
}

// validate checks args against the signature, substitutes the context value
// for a missing context argument, and wraps singletons given for arrays.
func (sig *signature) validate(name string, args []any, context any, pos int) ([]any, error) {
	syms := make([]byte, len(args))
	for i, a := range args {
		syms[i] = symbol(a)
	}
	m := sig.re.FindStringSubmatchIndex(string(syms))
	if m == nil {
		return nil, sig.mismatch(name, args, string(syms), pos)
	}
	out := make([]any, 0, len(sig.params))
	argIndex := 0
	for pi, p := range sig.params {
		start, end := m[2*pi+2], m[2*pi+3]
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

// mismatch reports the first argument that breaks the signature.
func (sig *signature) mismatch(name string, args []any, syms string, pos int) error {
	partial := "^"
	good := 0
	for _, p := range sig.params {
		partial += p.regex
		loc := regexp.MustCompile(partial).FindStringIndex(syms)
		if loc == nil {
			break
		}
		good = loc[1]
	}
	var bad any = undefinedValue{}
	if good < len(args) {
		bad = args[good]
	}
	return newError("T0410", pos, name, bad, "index", good+1)
}
