package asl

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxVariableNameLength is the longest workflow variable name Step Functions
// accepts, in characters.
const MaxVariableNameLength = 80

// identPrefix is the length in bytes of the identifier s starts with (a
// letter or _ followed by letters, digits and _), or 0.
func identPrefix(s string) int {
	n := 0
	for i, r := range s {
		ok := r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))
		if !ok {
			break
		}
		n = i + utf8.RuneLen(r)
	}
	return n
}

// checkVariableName applies AWS's rules for an Assign key: a valid
// identifier of at most 80 characters, and not the reserved "states".
func checkVariableName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty variable name")
	case identPrefix(name) != len(name):
		return fmt.Errorf("variable name %q is not a valid identifier (letters, digits and _, not starting with a digit)", name)
	case utf8.RuneCountInString(name) > MaxVariableNameLength:
		return fmt.Errorf("variable name %q is %d characters, over the limit of %d", name, utf8.RuneCountInString(name), MaxVariableNameLength)
	case name == "states":
		return fmt.Errorf("variable name \"states\" is reserved ($states is set by Step Functions)")
	}
	return nil
}

// sortedKeys returns m's keys in order, so problems come out deterministically.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// assignedNames lists the variables a state assigns (its Assign, its Choice
// rules' and its catchers'), in order, without the ".$" of JSONPath keys.
func assignedNames(st State) []string {
	if r, ok := st.(*Raw); ok {
		typed, err := r.parse()
		if err != nil {
			return nil
		}
		st = typed
	}
	var assign map[string]any
	var catchers []Catcher
	var rules []ChoiceRule
	switch s := st.(type) {
	case *Task:
		assign, catchers = s.Assign, s.Catch
	case *Parallel:
		assign, catchers = s.Assign, s.Catch
	case *Map:
		assign, catchers = s.Assign, s.Catch
	case *Pass:
		assign = s.Assign
	case *Wait:
		assign = s.Assign
	case *Choice:
		assign, rules = s.Assign, s.Choices
	}
	var blocks []map[string]any // most states assign nothing: no allocation
	if len(assign) > 0 {
		blocks = append(blocks, assign)
	}
	for _, c := range catchers {
		if len(c.Assign) > 0 {
			blocks = append(blocks, c.Assign)
		}
	}
	for _, r := range rules {
		if len(r.Assign) > 0 {
			blocks = append(blocks, r.Assign)
		}
	}
	var out []string
	var seen map[string]bool
	for _, b := range blocks {
		if len(b) == 0 {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		for _, k := range sortedKeys(b) {
			name := strings.TrimSuffix(k, ".$")
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}
