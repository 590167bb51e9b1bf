package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func str(m any, key string) string {
	obj, ok := m.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := obj[key].(string)
	return s
}

// checkAgainstEncodingJSON holds the scanner to encoding/json: same validity
// verdict, same summary fields.
func checkAgainstEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	if got, want := validJSON(body) == nil, json.Valid(body); got != want {
		t.Fatalf("validJSON=%v json.Valid=%v for %q", got, want, body)
	}
	env, err := NewEnvelope(Delivery{ID: "d", Event: "push", HookID: "1", ReceivedAt: time.Unix(1, 0), Body: body}, Ref{Bucket: "b", Key: "k"})
	var obj map[string]json.RawMessage
	isObject := json.Valid(body) && json.Unmarshal(body, &obj) == nil && obj != nil
	if (err == nil) != isObject {
		t.Fatalf("NewEnvelope err=%v, but encoding/json says object=%v for %q", err, isObject, body)
	}
	if err != nil {
		return
	}
	// The reference: encoding/json into a map (exact member names, last
	// duplicate wins), numbers kept as text so 12.5 and 1e3 are not integers.
	var ref map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&ref); err != nil {
		t.Fatalf("reference decode: %v", err)
	}
	action, _ := ref["action"].(string)
	var inst int64
	if m, ok := ref["installation"].(map[string]any); ok {
		if n, ok := m["id"].(json.Number); ok {
			inst, _ = strconv.ParseInt(string(n), 10, 64)
		}
	}
	want := [4]any{action, inst, str(ref["repository"], "full_name"), str(ref["sender"], "login")}
	got := [4]any{env.Action, env.InstallationID, env.Repository, env.Sender}
	if want != got {
		t.Fatalf("summary %v, encoding/json says %v for %q", got, want, body)
	}
}

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`, ` {"a":1} `, `[]`, `null`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `{"a":1}x`, `{"a":"\u00e9\n\"\\"}`, `{"a":"\x"}`,
		"{\"a\":\"tab\tin string\"}", `{"a":"\ud800"}`, `{"a":01}`, `{"a":-0.5e+10}`, `{"a":1.}`, `{"a":-}`, `{"a":.5}`, `{"a":1e}`,
		`{"a":tru}`, `{"a":[1,2,[3,{"b":null}]]}`, `{"a":[1,]}`, `{"action":"opened","action":"closed"}`,
		`{"act\u0069on":"escaped name"}`, `{"installation":{"id":12.5}}`, `{"installation":{"id":"7"}}`, `{"installation":{"id":1e3}}`,
		`{"repository":{"full_name":"a/\u0062"}}`, `{"Action":"case-variant names are other members"}`, `{"sender":null}`, `{"sender":{"login":["x"]}}`, "{\"a\":\"\xff\xfe\"}",
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), `{"a":"` + strings.Repeat("x", 100) + `"}`, `{"a":"12345678\"`,
	}
	for _, c := range cases {
		checkAgainstEncodingJSON(t, []byte(c))
	}
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstEncodingJSON(t, b)
	}
}

func FuzzScanner(f *testing.F) {
	for _, seed := range []string{`{"action":"a","installation":{"id":5},"repository":{"full_name":"o/r"},"sender":{"login":"u"}}`, `{"a":"\u12"}`, `[1e5]`, `{"a":"12345678\\"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkAgainstEncodingJSON(t, body) })
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	pr := fixture(t, "pull_request.json")
	at := time.Date(2026, 11, 28, 1, 2, 3, 456, time.UTC)
	for _, env := range []*Envelope{
		{DeliveryID: "d1", Event: "pull_request", Action: "opened", HookID: "9", InstallationID: 42, Repository: "o/r", Sender: "u",
			ReceivedAt: at, PayloadComplete: true, S3Reference: &Ref{Bucket: "b", Key: "k"}, Payload: pr},
		{DeliveryID: "d2", Event: "push", HookID: "9", ReceivedAt: at, S3Reference: &Ref{Bucket: "b", Key: "k2"}},
		{DeliveryID: "d3<&>", Event: "ping", HookID: "9", ReceivedAt: at, PayloadComplete: true, Payload: json.RawMessage(`{"zen":"<b>&</b>"}`)},
	} {
		wire, err := Encode(env)
		if err != nil {
			t.Fatal(err)
		}
		// The wire form means exactly what encoding/json would produce.
		std, _ := json.Marshal(env)
		var a, b any
		if err := json.Unmarshal(wire, &a); err != nil {
			t.Fatalf("Encode produced invalid JSON: %v", err)
		}
		_ = json.Unmarshal(std, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Encode differs from json.Marshal:\n%s\n%s", wire, std)
		}
		got, err := Decode(wire)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Payload, env.Payload) || got.ReceivedAt != env.ReceivedAt {
			t.Fatalf("payload or time changed in the round trip")
		}
		got.Payload, env.Payload = nil, nil
		if !reflect.DeepEqual(got, env) {
			t.Fatalf("round trip: got %+v, want %+v", got, env)
		}
		// Decode also reads what encoding/json writes.
		if _, err := Decode(std); err != nil {
			t.Fatalf("Decode of json.Marshal output: %v", err)
		}
	}
	if _, err := Encode(&Envelope{DeliveryID: "x", Payload: json.RawMessage(`{"broken":`)}); err == nil {
		t.Fatal("Encode accepted an invalid payload")
	}
	for _, bad := range []string{`[]`, `{"delivery_id":5}`, `{"received_at":"yesterday"}`, `{"payload":}`, `{"s3_reference":"x"}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%s) succeeded", bad)
		}
	}
}
