package jsonata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrUndefined is returned by Expr.Eval when the expression evaluates to
// nothing (JSONata's "undefined"), which Step Functions reports differently
// from a JSON null.
var ErrUndefined = errors.New("jsonata: expression evaluated to undefined")

// Error is a JSONata compile or evaluation error. Code is JSONata's error code
// (S0xxx syntax, T0xxx/T1xxx/T2xxx type, D1xxx-D3xxx dynamic), Position the
// 1-based character offset in the expression where it was detected (0 when
// unknown), Token the operator or function involved.
type Error struct {
	Code     string
	Position int
	Token    string
	Value    any
	Message  string
}

// Error returns "CODE: message" followed by the position when known.
func (e *Error) Error() string {
	if e.Position > 0 {
		return fmt.Sprintf("%s: %s (at position %d)", e.Code, e.Message, e.Position)
	}
	return e.Code + ": " + e.Message
}

// messages holds JSONata's message templates: {{x}} is replaced by the JSON
// text of the field, {{{x}}} by its raw text.
func messageTemplate(code string) string {
	switch code {
	case "S0101":
		return "String literal must be terminated by a matching quote"
	case "S0102":
		return "Number out of range: {{token}}"
	case "S0103":
		return "Unsupported escape sequence: \\{{token}}"
	case "S0104":
		return "The escape sequence \\u must be followed by 4 hex digits"
	case "S0105":
		return "Quoted property name must be terminated with a backquote (`)"
	case "S0106":
		return "Comment has no closing tag"
	case "S0201":
		return "Syntax error: {{token}}"
	case "S0202":
		return "Expected {{value}}, got {{token}}"
	case "S0203":
		return "Expected {{value}} before end of expression"
	case "S0204":
		return "Unknown operator: {{token}}"
	case "S0205":
		return "Unexpected token: {{token}}"
	case "S0207":
		return "Unexpected end of expression"
	case "S0208":
		return "Parameter {{value}} of function definition must be a variable name (start with $)"
	case "S0209":
		return "A predicate cannot follow a grouping expression in a step"
	case "S0210":
		return "Each step can only have one grouping expression"
	case "S0211":
		return "The symbol {{token}} cannot be used as a unary operator"
	case "S0212":
		return "The left side of := must be a variable name (start with $)"
	case "S0213":
		return "The literal value {{value}} cannot be used as a step within a path expression"
	case "S0214":
		return "The right side of {{token}} must be a variable name (start with $)"
	case "S0215":
		return "A context variable binding must precede any predicates on a step"
	case "S0216":
		return "A context variable binding must precede the 'order-by' clause on a step"
	case "S0217":
		return "The object representing the 'parent' cannot be derived from this expression"
	case "S0301":
		return "Empty regular expressions are not allowed"
	case "S0302":
		return "No terminating / in regular expression"
	case "S0303":
		return "Regular expression is not supported by this implementation: {{value}}"
	case "S0401":
		return "Type parameters can only be applied to functions and arrays"
	case "S0402":
		return "Choice groups containing parameterized types are not supported"
	case "T0410":
		return "Argument {{index}} of function {{token}} does not match function signature"
	case "T0411":
		return "Context value is not a compatible type with argument {{index}} of function {{token}}"
	case "T0412":
		return "Argument {{index}} of function {{token}} must be an array of {{type}}"
	case "D1001":
		return "Number out of range: {{value}}"
	case "D1002":
		return "Cannot negate a non-numeric value: {{value}}"
	case "T1003":
		return "Key in object structure must evaluate to a string; got: {{value}}"
	case "D1004":
		return "Regular expression matches zero length string"
	case "T1005":
		return "Attempted to invoke a non-function. Did you mean ${{{token}}}?"
	case "T1006":
		return "Attempted to invoke a non-function"
	case "T1007":
		return "Attempted to partially apply a non-function. Did you mean ${{{token}}}?"
	case "T1008":
		return "Attempted to partially apply a non-function"
	case "D1009":
		return "Multiple key definitions evaluate to same key: {{value}}"
	case "T2001":
		return "The left side of the {{token}} operator must evaluate to a number"
	case "T2002":
		return "The right side of the {{token}} operator must evaluate to a number"
	case "T2003":
		return "The left side of the range operator (..) must evaluate to an integer"
	case "T2004":
		return "The right side of the range operator (..) must evaluate to an integer"
	case "T2006":
		return "The right side of the function application operator ~> must be a function"
	case "T2007":
		return "Type mismatch when comparing values {{value}} and {{value2}} in order-by clause"
	case "T2008":
		return "The expressions within an order-by clause must evaluate to numeric or string values"
	case "T2009":
		return "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type"
	case "T2010":
		return "The expressions either side of operator {{token}} must evaluate to numeric or string values"
	case "T2011":
		return "The insert/update clause of the transform expression must evaluate to an object: {{value}}"
	case "T2012":
		return "The delete clause of the transform expression must evaluate to a string or array of strings: {{value}}"
	case "D2014":
		return "The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {{value}}."
	case "D3001":
		return "Attempting to invoke string function on Infinity or NaN"
	case "D3010":
		return "Second argument of replace function cannot be an empty string"
	case "D3011":
		return "Fourth argument of replace function must evaluate to a positive number"
	case "D3012":
		return "Attempted to replace a matched string with a non-string value"
	case "D3020":
		return "Third argument of split function must evaluate to a positive number"
	case "D3030":
		return "Unable to cast value to a number: {{value}}"
	case "D3040":
		return "Third argument of match function must evaluate to a positive number"
	case "D3050":
		return "The second argument of reduce function must be a function with at least two arguments"
	case "D3060":
		return "The sqrt function cannot be applied to a negative number: {{value}}"
	case "D3061":
		return "The power function has resulted in a value that cannot be represented as a JSON number: base={{value}}, exponent={{exp}}"
	case "D3070":
		return "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function"
	case "D3100":
		return "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}"
	case "D3110":
		return "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {{value}}"
	case "D3120":
		return "Syntax error in expression passed to function eval: {{value}}"
	case "D3121":
		return "Dynamic error evaluating the expression passed to function eval: {{value}}"
	case "D3130":
		return "Formatting or parsing an integer as a sequence starting with {{value}} is not supported by this implementation"
	case "D3137", "D3141":
		return "{{{message}}}"
	case "D3138":
		return "The $single() function expected exactly 1 matching result.  Instead it matched more."
	case "D3139":
		return "The $single() function expected exactly 1 matching result.  Instead it matched 0."
	case "U1002":
		return "Evaluation limit exceeded: more than 1000000 function calls; check for a non-terminating loop"
	case "U1001":
		return "Stack overflow error: check for non-terminating recursive function.  Consider rewriting as tail-recursive."
	}
	return "{{{message}}}"
}

// jsErrorCode marks a failure that jsonata-js 2.0.6 reports as a plain
// JavaScript exception rather than a JSONata error: we fail the same way,
// with the same message, because AWS runs that release.
const jsErrorCode = "JS"

func jsError(pos int, msg string) *Error {
	return &Error{Code: jsErrorCode, Position: pos, Message: msg}
}

// newError builds an Error with its message filled from the template.
// extra supplies template fields other than token and value (index, type,
// value2, exp, message).
func newError(code string, pos int, token string, value any, extra ...any) *Error {
	fields := map[string]any{"token": token, "value": value}
	for i := 0; i+1 < len(extra); i += 2 {
		fields[extra[i].(string)] = extra[i+1]
	}
	msg := messageTemplate(code)
	msg = fillTemplate(msg, "{{{", "}}}", func(k string) string { return fmt.Sprint(fields[k]) })
	msg = fillTemplate(msg, "{{", "}}", func(k string) string {
		if k == "token" && token == "" {
			return "undefined" // an anonymous function, as jsonata-js words it
		}
		return jsonText(fields[k])
	})
	return &Error{Code: code, Position: pos, Token: token, Value: value, Message: msg}
}

func fillTemplate(s, open, close string, f func(string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, open)
		if i < 0 {
			break
		}
		j := strings.Index(s[i+len(open):], close)
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(f(s[i+len(open) : i+len(open)+j]))
		s = s[i+len(open)+j+len(close):]
	}
	b.WriteString(s)
	return b.String()
}

// quoteJSON quotes a string as JSON without escaping <, > and &, as
// JSON.stringify does.
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonText renders a value the way JSON.stringify does for messages.
func jsonText(v any) string {
	if isUndefined(v) {
		return "undefined"
	}
	if s, ok := v.(string); ok {
		return quoteJSON(s)
	}
	if f, ok := asNumber(v); ok {
		return formatNumber(f) // JSON.stringify keeps full precision
	}
	s, err := stringify(v, false)
	if err != nil {
		return fmt.Sprint(v)
	}
	return s
}
