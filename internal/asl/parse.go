package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a definition, located by the path of the
// state (or field) it concerns, e.g. States["CI"].Branches[0].States["lint"].
type Problem struct {
	Path    string
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found in a definition at once.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid state machine (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteByte('s')
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems while a definition is checked.
type problems []Problem

func (p *problems) add(at, format string, args ...any) {
	*p = append(*p, Problem{Path: at, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// statePath is the location of a state inside its (sub-)machine.
func statePath(scope, name string) string {
	return scope + "States[" + strconv.Quote(name) + "]"
}

// Parse decodes an ASL JSON definition into a StateMachine. It reports every
// structural problem it finds (unknown types and fields, wrong value types,
// duplicate keys anywhere — encoding/json alone would keep only the last
// duplicate) as one *ValidationError. Parse does not run the semantic rules;
// ParseAndValidate does.
func Parse(data []byte) (*StateMachine, error) {
	var probs problems
	checkDuplicateKeys(data, &probs)
	var top struct {
		Comment        string
		StartAt        string
		States         json.RawMessage
		TimeoutSeconds int
		Version        string
		QueryLanguage  string
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&top); err != nil {
		probs.add("", "definition: %v", err)
		return nil, probs.err()
	}
	m := &StateMachine{Comment: top.Comment, QueryLanguage: top.QueryLanguage, StartAt: top.StartAt,
		TimeoutSeconds: top.TimeoutSeconds, Version: top.Version}
	m.States = parseStates(top.States, "", &probs)
	return m, probs.err()
}

// ParseAndValidate parses data and checks it against every rule for a machine
// of type t, returning all problems at once.
func ParseAndValidate(data []byte, t MachineType) (*StateMachine, error) {
	m, err := Parse(data)
	var probs problems
	var ve *ValidationError
	if errors.As(err, &ve) {
		probs = append(probs, ve.Problems...)
	} else if err != nil {
		return nil, err
	}
	if m != nil {
		probs = append(probs, validate(m, t, len(data))...)
	}
	return m, probs.err()
}

// parseStates reads a States object in order, keeping duplicate names so the
// validator can report them.
func parseStates(raw json.RawMessage, scope string, probs *problems) States {
	if len(raw) == 0 || string(raw) == "null" {
		probs.add(scope+"States", "missing States")
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		probs.add(scope+"States", "States must be an object")
		return nil
	}
	var out States
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			probs.add(scope+"States", "%v", err)
			return out
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			probs.add(statePath(scope, name), "%v", err)
			return out
		}
		out = append(out, NamedState{Name: name, State: decodeState(v, statePath(scope, name), probs)})
	}
	return out
}

// decodeState decodes one state object into its typed form. On a problem it
// records it and returns a best-effort state (never nil for a known type).
func decodeState(raw json.RawMessage, at string, probs *problems) State {
	var head struct{ Type string }
	if err := json.Unmarshal(raw, &head); err != nil {
		probs.add(at, "state must be an object: %v", err)
		return &Raw{JSON: raw}
	}
	// Numeric fields a JSONata state may write as "{% … %}" strings are
	// lifted out before the strict decode and kept in the …Expr fields.
	exprs := map[string]string{}
	switch head.Type {
	case "Task":
		raw, exprs = liftExprs(raw, at, probs, "TimeoutSeconds", "HeartbeatSeconds")
	case "Wait":
		raw, exprs = liftExprs(raw, at, probs, "Seconds")
	case "Map":
		raw, exprs = liftExprs(raw, at, probs, "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage")
	}
	strict := func(v any) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			probs.add(at, "%s state: %v", head.Type, err)
		}
	}
	switch head.Type {
	case "Task":
		type alias Task
		v := struct {
			Type string
			*alias
		}{alias: &alias{}}
		strict(&v)
		v.TimeoutSecondsExpr, v.HeartbeatSecondsExpr = exprs["TimeoutSeconds"], exprs["HeartbeatSeconds"]
		return (*Task)(v.alias)
	case "Pass":
		type alias Pass
		v := struct {
			Type string
			*alias
		}{alias: &alias{}}
		strict(&v)
		return (*Pass)(v.alias)
	case "Wait":
		type alias Wait
		v := struct {
			Type string
			*alias
		}{alias: &alias{}}
		strict(&v)
		v.SecondsExpr = exprs["Seconds"]
		return (*Wait)(v.alias)
	case "Succeed":
		type alias Succeed
		v := struct {
			Type string
			*alias
		}{alias: &alias{}}
		strict(&v)
		return (*Succeed)(v.alias)
	case "Fail":
		type alias Fail
		v := struct {
			Type string
			*alias
		}{alias: &alias{}}
		strict(&v)
		return (*Fail)(v.alias)
	case "Choice":
		type alias Choice
		v := struct {
			Type    string
			Choices []json.RawMessage
			*alias
		}{alias: &alias{}}
		strict(&v)
		s := (*Choice)(v.alias)
		s.Choices = []ChoiceRule{}
		for i, r := range v.Choices {
			s.Choices = append(s.Choices, decodeRule(r, fmt.Sprintf("%s.Choices[%d]", at, i), true, probs))
		}
		return s
	case "Parallel":
		type alias Parallel
		v := struct {
			Type     string
			Branches []json.RawMessage
			*alias
		}{alias: &alias{}}
		strict(&v)
		s := (*Parallel)(v.alias)
		s.Branches = []*Branch{}
		for i, b := range v.Branches {
			s.Branches = append(s.Branches, decodeBranch(b, fmt.Sprintf("%s.Branches[%d].", at, i), probs))
		}
		return s
	case "Map":
		type alias Map
		v := struct {
			Type          string
			ItemProcessor json.RawMessage
			Iterator      json.RawMessage
			*alias
		}{alias: &alias{}}
		strict(&v)
		s := (*Map)(v.alias)
		s.MaxConcurrencyExpr = exprs["MaxConcurrency"]
		s.ToleratedFailureCountExpr = exprs["ToleratedFailureCount"]
		s.ToleratedFailurePercentageExpr = exprs["ToleratedFailurePercentage"]
		if v.ItemProcessor != nil {
			s.ItemProcessor = decodeBranch(v.ItemProcessor, at+".ItemProcessor.", probs)
		}
		if v.Iterator != nil {
			s.Iterator = decodeBranch(v.Iterator, at+".Iterator.", probs)
		}
		return s
	case "":
		probs.add(at, "state has no Type")
	default:
		probs.add(at, "unknown state Type %q", head.Type)
	}
	return &Raw{JSON: raw}
}

// liftExprs removes the given keys from a state object when they hold a
// string (a JSONata expression) and returns them by key.
func liftExprs(raw json.RawMessage, at string, probs *problems, keys ...string) (json.RawMessage, map[string]string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return raw, nil
	}
	out := map[string]string{}
	for _, k := range keys {
		v, ok := fields[k]
		if !ok || len(v) == 0 || v[0] != '"' {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			probs.add(at, "%s: %v", k, err)
		}
		out[k] = s
		delete(fields, k)
	}
	if len(out) == 0 {
		return raw, out
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return raw, out
	}
	return b, out
}

func decodeBranch(raw json.RawMessage, scope string, probs *problems) *Branch {
	var v struct {
		Comment         string
		ProcessorConfig *ProcessorConfig
		StartAt         string
		States          json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		probs.add(strings.TrimSuffix(scope, "."), "%v", err)
	}
	return &Branch{Comment: v.Comment, ProcessorConfig: v.ProcessorConfig, StartAt: v.StartAt,
		States: parseStates(v.States, scope, probs)}
}

// checkDuplicateKeys walks the JSON tokens and reports every key that appears
// twice in one object. Keys of a States object are left to the validator's
// duplicate-state-name rule, which reports them with the state's path.
func checkDuplicateKeys(data []byte, probs *problems) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func(at string, statesObject bool) error
	walk = func(at string, statesObject bool) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			var dups []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if seen[k] && !statesObject {
					dups = append(dups, k)
				}
				seen[k] = true
				child := at + "." + k
				if at == "" {
					child = k
				}
				if statesObject {
					child = fmt.Sprintf("%s[%q]", at, k)
				}
				if err := walk(child, k == "States" && !statesObject); err != nil {
					return err
				}
			}
			sort.Strings(dups)
			for _, k := range dups {
				probs.add(at, "duplicate key %q (JSON decoders keep only the last one)", k)
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", at, i), false); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk("", false); err != nil && err != io.EOF {
		probs.add("", "malformed JSON: %v", err)
	}
}
