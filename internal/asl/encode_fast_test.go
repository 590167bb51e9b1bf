package asl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func drawString(t *rapid.T, label string) string {
	return rapid.SampledFrom([]string{"", "a", "$.x", "Report step failure", "<&>", `q"uote`, "back\\slash",
		"tab\tnew\nline", "é ünïcode", "\u2028", "\x00", "States.ALL", "arn:aws:lambda:us-east-1:0:function:f"}).Draw(t, label)
}

func drawPath(t *rapid.T, label string) Path {
	switch rapid.IntRange(0, 2).Draw(t, label) {
	case 0:
		return Path{}
	case 1:
		return Null()
	}
	return P(drawString(t, label+"expr"))
}

func drawValue(t *rapid.T, depth int) any {
	kinds := 6
	if depth > 2 {
		kinds = 4
	}
	switch rapid.IntRange(0, kinds).Draw(t, "kind") {
	case 0:
		return nil
	case 1:
		return drawString(t, "s")
	case 2:
		return rapid.SampledFrom([]float64{0, 1, -2.5, 3, 1e-7, 1e21, 123456789, 0.1, 2e20}).Draw(t, "f")
	case 3:
		return rapid.Bool().Draw(t, "b")
	case 4:
		return rapid.IntRange(-5, 5).Draw(t, "i")
	case 5:
		m := map[string]any{}
		for range rapid.IntRange(0, 4).Draw(t, "n") {
			m[drawString(t, "k")] = drawValue(t, depth+1)
		}
		return m
	}
	var l []any
	for range rapid.IntRange(0, 3).Draw(t, "n") {
		l = append(l, drawValue(t, depth+1))
	}
	return l
}

func drawErrors(t *rapid.T) []string {
	if rapid.Bool().Draw(t, "nil") {
		return nil
	}
	return rapid.SliceOfN(rapid.SampledFrom([]string{"States.ALL", "X", "<e>"}), 0, 3).Draw(t, "errs")
}

func drawState(t *rapid.T) State {
	flow := Flow{Next: drawString(t, "next"), End: rapid.Bool().Draw(t, "end")}
	switch rapid.IntRange(0, 2).Draw(t, "type") {
	case 0:
		var retry []Retrier
		for range rapid.IntRange(0, 2).Draw(t, "retries") {
			r := Retrier{ErrorEquals: drawErrors(t), IntervalSeconds: rapid.IntRange(0, 3).Draw(t, "iv"),
				BackoffRate: rapid.SampledFrom([]float64{0, 1, 1.5, 2}).Draw(t, "br"), MaxDelaySeconds: rapid.IntRange(0, 2).Draw(t, "md"),
				JitterStrategy: rapid.SampledFrom([]string{"", "FULL"}).Draw(t, "js")}
			if rapid.Bool().Draw(t, "ma") {
				n := rapid.IntRange(0, 5).Draw(t, "man")
				r.MaxAttempts = &n
			}
			retry = append(retry, r)
		}
		var catch []Catcher
		for range rapid.IntRange(0, 2).Draw(t, "catches") {
			c := Catcher{ErrorEquals: drawErrors(t), ResultPath: drawPath(t, "crp"), Next: drawString(t, "cn")}
			if rapid.Bool().Draw(t, "c2024") { // the 2024 fields: Output and Assign
				c.Output = drawValue(t, 1)
				c.Assign, _ = drawValue(t, 2).(map[string]any)
			}
			catch = append(catch, c)
		}
		return &Task{Comment: drawString(t, "c"), Resource: drawString(t, "r"),
			IO:         IO{InputPath: drawPath(t, "ip"), OutputPath: drawPath(t, "op")},
			Parameters: drawValue(t, 0), ResultSelector: drawValue(t, 0), ResultPath: drawPath(t, "rp"),
			TimeoutSeconds: rapid.IntRange(0, 9).Draw(t, "to"), TimeoutSecondsPath: drawString(t, "tp"),
			HeartbeatSeconds: rapid.IntRange(0, 9).Draw(t, "hb"), HeartbeatSecondsPath: drawString(t, "hp"),
			Credentials: drawValue(t, 0), Retry: retry, Catch: catch, Flow: flow}
	case 1:
		return &Pass{Comment: drawString(t, "c"), IO: IO{InputPath: drawPath(t, "ip"), OutputPath: drawPath(t, "op")},
			Parameters: drawValue(t, 0), Result: drawValue(t, 0), ResultPath: drawPath(t, "rp"), Flow: flow}
	}
	return &Fail{Comment: drawString(t, "c"), Error: drawString(t, "e"), ErrorPath: drawString(t, "ep"),
		Cause: drawString(t, "ca"), CausePath: drawString(t, "cp")}
}

// TestFastEncodingMatchesEncodingJSON: the hand-written encoders write
// byte for byte what encoding/json writes for the same state.
func TestFastEncodingMatchesEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawState(t)
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		ok, err := fastState(&b, st)
		if !ok || err != nil {
			t.Fatalf("fast path: ok=%v err=%v", ok, err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("fast encoding differs:\nfast: %s\njson: %s", b.Bytes(), want)
		}
	})
}

// TestUnescapeHTML: the emitted JSON keeps &, < and > readable and means
// the same strings, including next to escaped backslashes.
func TestUnescapeHTML(t *testing.T) {
	for _, s := range []string{"{% $a > 1 and $b < 2 %}", "a & b", `\u0026 literal`, `\\u003c`, `q"<\>&`, "\u2028<", "plain"} {
		enc, err := json.Marshal(map[string]string{"k": s})
		if err != nil {
			t.Fatal(err)
		}
		got := unescapeHTML(enc)
		var back map[string]string
		if err := json.Unmarshal(got, &back); err != nil || back["k"] != s {
			t.Errorf("%q: %s decodes to %q (%v)", s, got, back["k"], err)
		}
		if strings.ContainsRune(s, '\\') {
			continue // the text itself spells an escape
		}
		if bytes.Contains(got, []byte(`\u0026`)) || bytes.Contains(got, []byte(`\u003c`)) || bytes.Contains(got, []byte(`\u003e`)) {
			t.Errorf("%q: %s still has an HTML escape", s, got)
		}
	}
}
