package localsfn

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkVariableScopes refuses a definition in which a Parallel branch or a
// Map iteration assigns a variable that an enclosing scope assigns: inner
// scopes may read outer variables but not assign them
// (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).
// m is a decoded machine or branch; outer holds the enclosing scopes' names.
func checkVariableScopes(m map[string]any, outer []map[string]bool) error {
	states, _ := m["States"].(map[string]any)
	own := map[string]bool{}
	for _, name := range sortedKeys(states) {
		st, _ := states[name].(map[string]any)
		for _, v := range assignedVariables(st) {
			if err := checkVariableName(v); err != nil {
				return &DefinitionError{State: name, Msg: err.Error()}
			}
			for _, o := range outer {
				if o[v] {
					return &DefinitionError{State: name, Msg: fmt.Sprintf(
						"cannot assign variable %q: an outer scope declares it (a Parallel branch or Map iteration may read outer variables, not assign them)", v)}
				}
			}
			own[v] = true
		}
	}
	inner := append(outer[:len(outer):len(outer)], own)
	for _, name := range sortedKeys(states) {
		st, _ := states[name].(map[string]any)
		var subs []any
		if bs, ok := st["Branches"].([]any); ok {
			subs = append(subs, bs...)
		}
		for _, k := range []string{"ItemProcessor", "Iterator"} {
			if p, ok := st[k]; ok {
				subs = append(subs, p)
			}
		}
		for _, sub := range subs {
			if sm, ok := sub.(map[string]any); ok {
				if err := checkVariableScopes(sm, inner); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// assignedVariables lists the names a state's Assign, Choice rules and
// catchers assign (JSONPath keys without their ".$").
func assignedVariables(st map[string]any) []string {
	blocks := []any{st["Assign"]}
	for _, list := range []string{"Choices", "Catch"} {
		entries, _ := st[list].([]any)
		for _, e := range entries {
			if em, ok := e.(map[string]any); ok {
				blocks = append(blocks, em["Assign"])
			}
		}
	}
	var out []string
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		for _, k := range sortedKeys(bm) {
			out = append(out, strings.TrimSuffix(k, ".$"))
		}
	}
	return out
}

// checkVariableName applies AWS's rules for a variable name: an identifier
// (a letter or _, then letters, digits and _) of at most 80 characters,
// and not "states", which Step Functions reserves.
func checkVariableName(name string) error {
	if name == "" {
		return fmt.Errorf("Assign: empty variable name")
	}
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Errorf("Assign: variable name %q is not a valid identifier", name)
		}
	}
	if n := utf8.RuneCountInString(name); n > 80 {
		return fmt.Errorf("Assign: variable name %q is %d characters, over the limit of 80", name, n)
	}
	if name == "states" {
		return fmt.Errorf("Assign: variable name \"states\" is reserved")
	}
	return nil
}
