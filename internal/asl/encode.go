package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// encoder writes a definition into one buffer. encoding/json re-validates
// the output of every nested MarshalJSON, which costs O(size × depth) for
// deeply nested Parallel states; the encoder marshals each state on its own
// and streams its branches in place, O(size).
type encoder struct {
	b bytes.Buffer
}

// placeholderStart marks where a container state's branches go; NUL cannot
// appear unescaped in a state's own JSON, so the marker is unambiguous.
const placeholderStart = "\x00ai3-branch\x00"

func (e *encoder) machine(m *StateMachine) error {
	e.b.WriteByte('{')
	if m.Comment != "" {
		e.field("Comment", m.Comment)
		e.b.WriteByte(',')
	}
	if m.QueryLanguage != "" {
		e.field("QueryLanguage", m.QueryLanguage)
		e.b.WriteByte(',')
	}
	e.field("StartAt", m.StartAt)
	e.b.WriteString(`,"States":`)
	if err := e.states(m.States); err != nil {
		return err
	}
	if m.TimeoutSeconds != 0 {
		e.b.WriteByte(',')
		e.field("TimeoutSeconds", m.TimeoutSeconds)
	}
	if m.Version != "" {
		e.b.WriteByte(',')
		e.field("Version", m.Version)
	}
	e.b.WriteByte('}')
	return nil
}

func (e *encoder) field(k string, v any) {
	kb, _ := json.Marshal(k)
	vb, _ := json.Marshal(v)
	e.b.Write(kb)
	e.b.WriteByte(':')
	e.b.Write(vb)
}

func (e *encoder) states(s States) error {
	e.b.WriteByte('{')
	for i, ns := range s {
		if i > 0 {
			e.b.WriteByte(',')
		}
		k, _ := json.Marshal(ns.Name)
		e.b.Write(k)
		e.b.WriteByte(':')
		if err := e.state(ns.State); err != nil {
			return fmt.Errorf("state %q: %w", ns.Name, err)
		}
	}
	e.b.WriteByte('}')
	return nil
}

func (e *encoder) branch(br *Branch) error {
	if br == nil {
		e.b.WriteString("null")
		return nil
	}
	e.b.WriteByte('{')
	if br.Comment != "" {
		e.field("Comment", br.Comment)
		e.b.WriteByte(',')
	}
	if br.ProcessorConfig != nil {
		e.field("ProcessorConfig", br.ProcessorConfig)
		e.b.WriteByte(',')
	}
	e.field("StartAt", br.StartAt)
	e.b.WriteString(`,"States":`)
	if err := e.states(br.States); err != nil {
		return err
	}
	e.b.WriteByte('}')
	return nil
}

func placeholder(i int) *Branch { return &Branch{StartAt: fmt.Sprintf("%s%d", placeholderStart, i)} }

// state writes one state; a Parallel's or Map's branches are replaced by
// placeholders for the state's own marshalling and streamed in their place.
func (e *encoder) state(st State) error {
	if st == nil {
		return fmt.Errorf("nil state")
	}
	if ok, err := fastState(&e.b, st); ok {
		return err
	}
	var branches []*Branch
	switch s := st.(type) {
	case *Parallel:
		cp := *s
		cp.Branches = make([]*Branch, len(s.Branches))
		for i := range s.Branches {
			cp.Branches[i] = placeholder(i)
		}
		branches, st = s.Branches, &cp
	case *Map:
		cp := *s
		if s.ItemProcessor != nil {
			cp.ItemProcessor = placeholder(len(branches))
			branches = append(branches, s.ItemProcessor)
		}
		if s.Iterator != nil {
			cp.Iterator = placeholder(len(branches))
			branches = append(branches, s.Iterator)
		}
		st = &cp
	}
	// Call the state's own MarshalJSON: json.Marshal would re-validate its output.
	m, ok := st.(json.Marshaler)
	if !ok {
		return fmt.Errorf("%T cannot be encoded", st)
	}
	own, err := m.MarshalJSON()
	if err != nil {
		return err
	}
	for i, br := range branches {
		marker, _ := json.Marshal(placeholder(i))
		at := bytes.Index(own, marker)
		if at < 0 {
			return fmt.Errorf("branch %d placeholder not found", i)
		}
		e.b.Write(own[:at])
		if err := e.branch(br); err != nil {
			return fmt.Errorf("branch %d: %w", i, err)
		}
		own = own[at+len(marker):]
	}
	e.b.Write(own)
	return nil
}

// compactJSON is the definition's deterministic compact encoding.
func (m *StateMachine) compactJSON() ([]byte, error) {
	var e encoder
	e.b.Grow(64 << 10)
	if err := e.machine(m); err != nil {
		return nil, fmt.Errorf("encode state machine: %w", err)
	}
	return unescapeHTML(e.b.Bytes()), nil
}

// unescapeHTML turns encoding/json's HTML escapes (\u0026, \u003c, \u003e)
// back into &, < and >, which JSONata expressions use as operators
// ("{% $a > 1 %}" reads as written). Both forms are the same JSON string.
// Every backslash in valid JSON starts an escape, so an escaped backslash
// followed by "u0026" is told apart by walking the escapes in order.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "0026":
				out = append(out, '&')
				i += 5
				continue
			case "003c":
				out = append(out, '<')
				i += 5
				continue
			case "003e":
				out = append(out, '>')
				i += 5
				continue
			}
		}
		out = append(out, c, b[i+1])
		i++
	}
	return out
}

// MarshalJSON encodes the machine (deterministically; see JSON).
func (m *StateMachine) MarshalJSON() ([]byte, error) { return m.compactJSON() }
