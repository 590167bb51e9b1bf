package localsfn

import (
	"strconv"
	"strings"
)

// Values as AWS's causes show them. A cause is a message, not JSON, so
// strings appear unescaped.

// bareValue shows a string as it is and anything else as JSON
// ("$.s == abc", "$.s == 1.5").
func bareValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(encodeJSON(v))
}

// bareOrJSON shows a string in double quotes without escaping, anything else
// as JSON ("for value: "a"b"").
func bareOrJSON(v any) string {
	if s, ok := v.(string); ok {
		return `"` + s + `"`
	}
	return string(encodeJSON(v))
}

// quotedValue shows any value inside double quotes, a string as it is and
// anything else as JSON (`refers to value "1.5"`).
func quotedValue(v any) string {
	return `"` + bareValue(v) + `"`
}

// pathInt reads the integer a MaxConcurrencyPath or
// ToleratedFailureCountPath refers to: an integer, or a string holding one
// (AWS parses it).
func pathInt(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	return toInt(v)
}
