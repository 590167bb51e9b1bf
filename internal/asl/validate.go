package asl

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits Step Functions enforces that the validator checks.
const (
	// MaxDefinitionBytes is the largest definition Step Functions accepts.
	MaxDefinitionBytes = 1 << 20
	// MaxStateNameLength is the longest state name, in characters.
	MaxStateNameLength = 80
	// ExpressMaxSeconds is how long an EXPRESS execution may run.
	ExpressMaxSeconds = 300
)

// Validate checks the machine against every rule for a machine of type t and
// returns a *ValidationError listing all problems, or nil.
func (m *StateMachine) Validate(t MachineType) error {
	b, err := m.compactJSON()
	if err != nil {
		return (&problems{{Message: fmt.Sprintf("cannot encode: %v", err)}}).err()
	}
	return validate(m, t, len(b)).err()
}

// where locates a problem: a state (scope and name) and a field suffix. It
// is rendered only when a problem is reported: building every state's full
// path eagerly costs O(depth) per state in deeply nested machines.
type where struct {
	scope, name, field string
}

func (w where) String() string { return statePath(w.scope, w.name) + w.field }

// sub locates a field of w, e.g. w.sub(".Parameters").
func (w where) sub(field string) where { w.field += field; return w }

func (v *validator) add(w where, format string, args ...any) {
	v.probs.add(w.String(), format, args...)
}

type validator struct {
	typ   MachineType
	lang  string            // the machine's query language
	outer []map[string]bool // variables assigned in the enclosing scopes
	probs problems
	names map[string]where // state name → where it was first defined
}

func validate(m *StateMachine, t MachineType, size int) problems {
	v := &validator{typ: t, names: map[string]where{}, lang: JSONPath}
	switch m.QueryLanguage {
	case "", JSONPath:
	case JSONata:
		v.lang = JSONata
	default:
		v.probs.add("QueryLanguage", "must be JSONPath or JSONata, not %q", m.QueryLanguage)
	}
	if t != Express && t != Standard {
		v.probs.add("", "machine type must be EXPRESS or STANDARD, not %q", t)
	}
	if size > MaxDefinitionBytes {
		v.probs.add("", "definition is %d bytes, over the %d-byte limit", size, MaxDefinitionBytes)
	}
	if m.TimeoutSeconds < 0 {
		v.probs.add("TimeoutSeconds", "must not be negative")
	}
	if t == Express && m.TimeoutSeconds > ExpressMaxSeconds {
		v.probs.add("TimeoutSeconds", "%d s exceeds the %d s an EXPRESS machine may run", m.TimeoutSeconds, ExpressMaxSeconds)
	}
	v.scope("", m.StartAt, m.States)
	return v.probs
}

// scope checks one (sub-)machine: its states, transitions and reachability.
func (v *validator) scope(scope, startAt string, states States) {
	at := strings.TrimSuffix(scope, ".")
	index := make(map[string]State, len(states))
	paths := make([]where, len(states))
	for i, ns := range states {
		p := where{scope: scope, name: ns.Name}
		paths[i] = p
		if first, dup := v.names[ns.Name]; dup {
			v.add(p, "duplicate state name %q (first defined at %s)", ns.Name, first)
		} else {
			v.names[ns.Name] = p
		}
		if ns.Name == "" {
			v.add(p, "empty state name")
		}
		if n := utf8.RuneCountInString(ns.Name); n > MaxStateNameLength {
			v.add(p, "state name is %d characters, over the limit of %d", n, MaxStateNameLength)
		}
		if _, ok := index[ns.Name]; !ok {
			index[ns.Name] = ns.State
		}
	}
	switch {
	case len(states) == 0:
		v.probs.add(at, "no states")
		return
	case startAt == "":
		v.probs.add(at, "missing StartAt")
	case index[startAt] == nil:
		v.probs.add(at, "StartAt %q names no state", startAt)
	}
	// Variables: an inner scope (Parallel branch, Map iteration) may read
	// the variables of the scopes around it but not assign them.
	var own map[string]bool // allocated only when the scope assigns variables
	for i, ns := range states {
		for _, name := range assignedNames(ns.State) {
			for _, outer := range v.outer {
				if outer[name] {
					v.add(paths[i], "cannot assign variable %q: an outer scope declares it (a Parallel branch or Map iteration may read outer variables, not assign them)", name)
					break
				}
			}
			if own == nil {
				own = map[string]bool{}
			}
			own[name] = true
		}
	}
	v.outer = append(v.outer, own)
	for i, ns := range states {
		v.state(paths[i], ns.State, index)
	}
	v.outer = v.outer[:len(v.outer)-1]
	// Reachability from StartAt and co-reachability of a terminal state.
	reach := map[string]bool{}
	queue := []string{startAt}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		st := index[n]
		if st == nil || reach[n] {
			continue
		}
		reach[n] = true
		queue = append(queue, st.transitions()...)
	}
	reverse := map[string][]string{}
	var done []string
	for _, ns := range states {
		if ns.State == nil {
			continue
		}
		for _, next := range ns.State.transitions() {
			reverse[next] = append(reverse[next], ns.Name)
		}
		if ns.State.terminal() {
			done = append(done, ns.Name)
		}
	}
	ends := map[string]bool{}
	for len(done) > 0 {
		n := done[0]
		done = done[1:]
		if ends[n] {
			continue
		}
		ends[n] = true
		done = append(done, reverse[n]...)
	}
	seen := make(map[string]bool, len(states))
	for i, ns := range states {
		if seen[ns.Name] {
			continue
		}
		seen[ns.Name] = true
		p := paths[i]
		switch {
		case !reach[ns.Name] && index[startAt] != nil:
			v.add(p, "unreachable from StartAt %q", startAt)
		case !ends[ns.Name]:
			v.add(p, "no path to a terminal state (End, Succeed or Fail)")
		}
	}
}

func (v *validator) state(at where, st State, index map[string]State) {
	if st == nil {
		v.add(at, "state is nil")
		return
	}
	if _, raw := st.(*Raw); !raw {
		v.language(at, st)
	}
	lang := stateLanguage(st, v.lang)
	for _, next := range st.transitions() {
		if next != "" && index[next] == nil {
			v.add(at, "transition to %q, which names no state in this scope", next)
		}
	}
	flow := func(f Flow) {
		switch {
		case f.Next != "" && f.End:
			v.add(at, "has both Next and End")
		case f.Next == "" && !f.End:
			v.add(at, "missing Next (or End: true)")
		}
	}
	io := func(p IO) {
		v.optPath(at, "InputPath", p.InputPath, jsonPath, true)
		v.optPath(at, "OutputPath", p.OutputPath, jsonPath, true)
	}
	switch s := st.(type) {
	case *Task:
		flow(s.Flow)
		io(s.IO)
		v.task(at, s, lang)
	case *Pass:
		flow(s.Flow)
		io(s.IO)
		v.template(at.sub(".Parameters"), s.Parameters)
		v.optPath(at, "ResultPath", s.ResultPath, referencePath, false)
	case *Wait:
		flow(s.Flow)
		io(s.IO)
		v.wait(at, s)
	case *Succeed:
		io(s.IO)
	case *Fail:
		if s.Error != "" && s.ErrorPath != "" {
			v.add(at, "has both Error and ErrorPath")
		}
		if s.Cause != "" && s.CausePath != "" {
			v.add(at, "has both Cause and CausePath")
		}
		v.pathOrIntrinsic(at, "ErrorPath", s.ErrorPath)
		v.pathOrIntrinsic(at, "CausePath", s.CausePath)
	case *Choice:
		io(s.IO)
		if len(s.Choices) == 0 {
			v.add(at, "Choice has no rules (Choices must not be empty)")
		}
		for i, r := range s.Choices {
			rp := at.sub(fmt.Sprintf(".Choices[%d]", i))
			if r.Next == "" {
				v.add(rp, "missing Next")
			}
			if lang != JSONata && r.Expr == "" {
				v.condition(rp, r.Condition)
			}
		}
	case *Parallel:
		flow(s.Flow)
		io(s.IO)
		v.template(at.sub(".Parameters"), s.Parameters)
		v.template(at.sub(".ResultSelector"), s.ResultSelector)
		v.optPath(at, "ResultPath", s.ResultPath, referencePath, false)
		v.retryCatch(at, s.Retry, s.Catch)
		if len(s.Branches) == 0 {
			v.add(at, "Parallel has no Branches")
		}
		for i, b := range s.Branches {
			if b == nil {
				v.add(at, "branch %d is nil", i)
				continue
			}
			v.scope(at.String()+fmt.Sprintf(".Branches[%d].", i), b.StartAt, b.States)
		}
	case *Map:
		flow(s.Flow)
		io(s.IO)
		v.mapState(at, s)
	case *Raw:
		typed, err := s.parse()
		if err != nil {
			v.add(at, "raw state: %v", err)
			return
		}
		v.state(at, typed, index)
	default:
		v.add(at, "unsupported state %T", st)
	}
}

func (v *validator) task(at where, s *Task, lang string) {
	switch {
	case s.Resource == "":
		v.add(at, "missing Resource")
	case !strings.HasPrefix(s.Resource, "arn:") && !strings.HasPrefix(s.Resource, "${"):
		v.add(at, "Resource %q is not an ARN", s.Resource)
	}
	waits := strings.HasSuffix(s.Resource, ".waitForTaskToken")
	syncs := strings.Contains(s.Resource, ".sync")
	if v.typ == Express && (waits || syncs) {
		v.add(at, "EXPRESS machines cannot use %s (only STANDARD can wait for a callback or a job)", s.Resource)
	}
	switch {
	case waits && lang == JSONata && !mentions(s.Arguments, "$states.context.Task.Token"):
		v.add(at, ".waitForTaskToken needs the task token ($states.context.Task.Token) in Arguments")
	case waits && lang != JSONata && !mentionsTaskToken(s.Parameters):
		v.add(at, ".waitForTaskToken needs the task token ($$.Task.Token) in Parameters")
	}
	v.template(at.sub(".Parameters"), s.Parameters)
	v.template(at.sub(".ResultSelector"), s.ResultSelector)
	v.template(at.sub(".Credentials"), s.Credentials)
	v.optPath(at, "ResultPath", s.ResultPath, referencePath, false)
	if s.TimeoutSeconds != 0 && s.TimeoutSecondsPath != "" {
		v.add(at, "has both TimeoutSeconds and TimeoutSecondsPath")
	}
	if s.HeartbeatSeconds != 0 && s.HeartbeatSecondsPath != "" {
		v.add(at, "has both HeartbeatSeconds and HeartbeatSecondsPath")
	}
	if s.TimeoutSeconds < 0 || s.HeartbeatSeconds < 0 {
		v.add(at, "TimeoutSeconds and HeartbeatSeconds must be positive")
	}
	if s.HeartbeatSeconds > 0 && s.TimeoutSeconds > 0 && s.HeartbeatSeconds >= s.TimeoutSeconds {
		v.add(at, "HeartbeatSeconds (%d) must be smaller than TimeoutSeconds (%d)", s.HeartbeatSeconds, s.TimeoutSeconds)
	}
	v.refPath(at, "TimeoutSecondsPath", s.TimeoutSecondsPath)
	v.refPath(at, "HeartbeatSecondsPath", s.HeartbeatSecondsPath)
	v.retryCatch(at, s.Retry, s.Catch)
}

func (v *validator) wait(at where, s *Wait) {
	n := 0
	for _, set := range []bool{s.Seconds != nil || s.SecondsExpr != "", s.Timestamp != "", s.SecondsPath != "", s.TimestampPath != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.add(at, "Wait needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath (has %d)", n)
	}
	if s.Seconds != nil && *s.Seconds < 0 {
		v.add(at, "Seconds must not be negative")
	}
	if s.Seconds != nil && v.typ == Express && *s.Seconds > ExpressMaxSeconds {
		v.add(at, "waits %d s, longer than an EXPRESS machine may run (%d s)", *s.Seconds, ExpressMaxSeconds)
	}
	if _, expr := exprBody(s.Timestamp); s.Timestamp != "" && !expr {
		if _, err := time.Parse(time.RFC3339, s.Timestamp); err != nil {
			v.add(at, "Timestamp %q is not RFC 3339", s.Timestamp)
		}
	}
	v.refPath(at, "SecondsPath", s.SecondsPath)
	v.refPath(at, "TimestampPath", s.TimestampPath)
}

func (v *validator) mapState(at where, s *Map) {
	v.optPath(at, "ItemsPath", s.ItemsPath, referencePath, true)
	v.template(at.sub(".ItemSelector"), s.ItemSelector)
	v.template(at.sub(".Parameters"), s.Parameters)
	v.template(at.sub(".ResultSelector"), s.ResultSelector)
	v.optPath(at, "ResultPath", s.ResultPath, referencePath, false)
	v.retryCatch(at, s.Retry, s.Catch)
	if s.ItemSelector != nil && s.Parameters != nil {
		v.add(at, "has both ItemSelector and the legacy Parameters")
	}
	if s.MaxConcurrency < 0 {
		v.add(at, "MaxConcurrency must not be negative")
	}
	if s.ToleratedFailurePercentage < 0 || s.ToleratedFailurePercentage > 100 {
		v.add(at, "ToleratedFailurePercentage must be between 0 and 100")
	}
	if s.ToleratedFailureCount < 0 {
		v.add(at, "ToleratedFailureCount must not be negative")
	}
	v.refPath(at, "MaxConcurrencyPath", s.MaxConcurrencyPath)
	v.refPath(at, "ToleratedFailureCountPath", s.ToleratedFailureCountPath)
	v.refPath(at, "ToleratedFailurePercentagePath", s.ToleratedFailurePercentagePath)
	proc := s.ItemProcessor
	field := "ItemProcessor"
	switch {
	case s.ItemProcessor != nil && s.Iterator != nil:
		v.add(at, "has both ItemProcessor and the legacy Iterator")
	case s.ItemProcessor == nil && s.Iterator == nil:
		v.add(at, "Map needs an ItemProcessor")
		return
	case s.Iterator != nil:
		proc, field = s.Iterator, "Iterator"
	}
	if pc := proc.ProcessorConfig; pc != nil {
		switch pc.Mode {
		case "", "INLINE":
		case "DISTRIBUTED":
			if v.typ == Express {
				v.add(at, "EXPRESS machines cannot run a DISTRIBUTED Map")
			}
		default:
			v.add(at, "ProcessorConfig.Mode must be INLINE or DISTRIBUTED, not %q", pc.Mode)
		}
	}
	v.scope(at.String()+"."+field+".", proc.StartAt, proc.States)
}
