package asl

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// Fast encoders for the states a compiled workflow is made of (Task, Pass,
// Fail). They write exactly what encoding/json writes for these structs — a
// property test compares the two on random states — without reflection,
// which made encoding the largest cost of a compile. Anything unusual (a
// string needing escapes, a float in exponent form, a typed Go value in a
// template) is handed to encoding/json.

// obj writes the fields of one JSON object.
type obj struct {
	b     *bytes.Buffer
	first bool
}

func newObj(b *bytes.Buffer) *obj {
	b.WriteByte('{')
	return &obj{b: b, first: true}
}

func (o *obj) key(k string) {
	if !o.first {
		o.b.WriteByte(',')
	}
	o.first = false
	writeString(o.b, k)
	o.b.WriteByte(':')
}

func (o *obj) str(k, v string) {
	o.key(k)
	writeString(o.b, v)
}

func (o *obj) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *obj) intOmit(k string, v int) {
	if v != 0 {
		o.key(k)
		o.b.Write(strconv.AppendInt(o.b.AvailableBuffer(), int64(v), 10))
	}
}

func (o *obj) path(k string, p Path) {
	if p.IsZero() {
		return
	}
	o.key(k)
	if p.null {
		o.b.WriteString("null")
	} else {
		writeString(o.b, p.expr)
	}
}

func (o *obj) value(k string, v any) error {
	if v == nil {
		return nil
	}
	o.key(k)
	return writeValue(o.b, v)
}

func (o *obj) end() { o.b.WriteByte('}') }

// plainJSON reports whether encoding/json writes s unchanged between quotes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func writeString(b *bytes.Buffer, s string) {
	if plainJSON(s) {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	enc, _ := json.Marshal(s) // strings always encode
	b.Write(enc)
}

// writeValue writes a template value (Parameters, Result, ...).
func writeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(x), 10))
	case float64:
		if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) || math.IsNaN(x) || math.IsInf(x, 0) {
			return marshalInto(b, x)
		}
		b.Write(strconv.AppendFloat(b.AvailableBuffer(), x, 'f', -1, 64))
	case map[string]any:
		if x == nil {
			b.WriteString("null")
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		o := newObj(b)
		for _, k := range keys {
			o.key(k)
			if err := writeValue(b, x[k]); err != nil {
				return err
			}
		}
		o.end()
	case []any:
		if x == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		return marshalInto(b, x)
	}
	return nil
}

func marshalInto(b *bytes.Buffer, v any) error {
	enc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(enc)
	return nil
}

func writeStrings(b *bytes.Buffer, list []string) {
	if list == nil {
		b.WriteString("null")
		return
	}
	b.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

func writeRetry(o *obj, rs []Retrier) error {
	if len(rs) == 0 {
		return nil
	}
	o.key("Retry")
	o.b.WriteByte('[')
	for i, r := range rs {
		if i > 0 {
			o.b.WriteByte(',')
		}
		ro := newObj(o.b)
		ro.key("ErrorEquals")
		writeStrings(o.b, r.ErrorEquals)
		ro.intOmit("IntervalSeconds", r.IntervalSeconds)
		if r.MaxAttempts != nil {
			ro.key("MaxAttempts")
			o.b.Write(strconv.AppendInt(o.b.AvailableBuffer(), int64(*r.MaxAttempts), 10))
		}
		if r.BackoffRate != 0 {
			ro.key("BackoffRate")
			if err := writeValue(o.b, r.BackoffRate); err != nil {
				return err
			}
		}
		ro.intOmit("MaxDelaySeconds", r.MaxDelaySeconds)
		ro.strOmit("JitterStrategy", r.JitterStrategy)
		ro.end()
	}
	o.b.WriteByte(']')
	return nil
}

func writeCatch(o *obj, cs []Catcher) error {
	if len(cs) == 0 {
		return nil
	}
	o.key("Catch")
	o.b.WriteByte('[')
	for i, c := range cs {
		if i > 0 {
			o.b.WriteByte(',')
		}
		co := newObj(o.b)
		co.key("ErrorEquals")
		writeStrings(o.b, c.ErrorEquals)
		co.path("ResultPath", c.ResultPath)
		if err := co.value("Output", c.Output); err != nil {
			return err
		}
		if len(c.Assign) > 0 {
			if err := co.value("Assign", c.Assign); err != nil {
				return err
			}
		}
		co.str("Next", c.Next)
		co.end()
	}
	o.b.WriteByte(']')
	return nil
}

func (o *obj) flow(f Flow) {
	o.strOmit("Next", f.Next)
	if f.End {
		o.key("End")
		o.b.WriteString("true")
	}
}

// fastState encodes the state types compiled workflows consist of; ok is
// false for the others, which take the encoding/json path.
func fastState(b *bytes.Buffer, st State) (ok bool, err error) {
	switch s := st.(type) {
	case *Task:
		if s.QueryLanguage != "" || s.Arguments != nil || s.Output != nil || len(s.Assign) > 0 ||
			s.TimeoutSecondsExpr != "" || s.HeartbeatSecondsExpr != "" {
			return false, nil // the 2024 fields take the encoding/json path
		}
		o := newObj(b)
		o.str("Type", "Task")
		o.strOmit("Comment", s.Comment)
		o.str("Resource", s.Resource)
		o.path("InputPath", s.InputPath)
		o.path("OutputPath", s.OutputPath)
		if err := o.value("Parameters", s.Parameters); err != nil {
			return true, err
		}
		if err := o.value("ResultSelector", s.ResultSelector); err != nil {
			return true, err
		}
		o.path("ResultPath", s.ResultPath)
		o.intOmit("TimeoutSeconds", s.TimeoutSeconds)
		o.strOmit("TimeoutSecondsPath", s.TimeoutSecondsPath)
		o.intOmit("HeartbeatSeconds", s.HeartbeatSeconds)
		o.strOmit("HeartbeatSecondsPath", s.HeartbeatSecondsPath)
		if err := o.value("Credentials", s.Credentials); err != nil {
			return true, err
		}
		if err := writeRetry(o, s.Retry); err != nil {
			return true, err
		}
		if err := writeCatch(o, s.Catch); err != nil {
			return true, err
		}
		o.flow(s.Flow)
		o.end()
	case *Pass:
		if s.QueryLanguage != "" || s.Output != nil || len(s.Assign) > 0 {
			return false, nil
		}
		o := newObj(b)
		o.str("Type", "Pass")
		o.strOmit("Comment", s.Comment)
		o.path("InputPath", s.InputPath)
		o.path("OutputPath", s.OutputPath)
		if err := o.value("Parameters", s.Parameters); err != nil {
			return true, err
		}
		if err := o.value("Result", s.Result); err != nil {
			return true, err
		}
		o.path("ResultPath", s.ResultPath)
		o.flow(s.Flow)
		o.end()
	case *Fail:
		if s.QueryLanguage != "" {
			return false, nil
		}
		o := newObj(b)
		o.str("Type", "Fail")
		o.strOmit("Comment", s.Comment)
		o.strOmit("Error", s.Error)
		o.strOmit("ErrorPath", s.ErrorPath)
		o.strOmit("Cause", s.Cause)
		o.strOmit("CausePath", s.CausePath)
		o.end()
	default:
		return false, nil
	}
	return true, nil
}
