package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigPayload returns a JSON object of exactly n bytes (n >= 40).
func bigPayload(n int) []byte {
	head := `{"action":"completed","filler":"`
	return []byte(head + strings.Repeat("x", n-len(head)-2) + `"}`)
}

func TestNewEnvelope(t *testing.T) {
	at := time.Date(2026, 3, 4, 23, 30, 0, 0, time.FixedZone("x", -5*3600)) // 2026-03-05 04:30 UTC
	ref := Ref{Bucket: "b", Key: "2026/03/05/issue_comment/d1.json"}
	comment := fixture(t, "issue_comment.json")
	tests := []struct {
		name         string
		d            Delivery
		ref          Ref
		wantErr      error // nil: success
		wantComplete bool
		wantInline   bool
		wantRef      bool
	}{
		{"inline with ref", Delivery{ID: "d1", Event: "issue_comment", HookID: "9", ReceivedAt: at, Body: comment}, ref, nil, true, true, true},
		{"inline without ref", Delivery{ID: "d1", Event: "issue_comment", HookID: "9", ReceivedAt: at, Body: comment}, Ref{}, nil, true, true, false},
		{"exactly at limit goes by reference", Delivery{ID: "d1", Event: "workflow_run", HookID: "9", ReceivedAt: at, Body: bigPayload(InlineLimit)}, ref, nil, false, false, true},
		{"one under limit is inline", Delivery{ID: "d1", Event: "workflow_run", HookID: "9", ReceivedAt: at, Body: bigPayload(InlineLimit - 1)}, ref, nil, true, true, true},
		{"large without ref", Delivery{ID: "d1", Event: "workflow_run", HookID: "9", ReceivedAt: at, Body: bigPayload(InlineLimit)}, Ref{}, errAny, false, false, false},
		{"array body", Delivery{ID: "d1", Event: "push", HookID: "9", ReceivedAt: at, Body: []byte(`[1]`)}, ref, ErrBadDelivery, false, false, false},
		{"null body", Delivery{ID: "d1", Event: "push", HookID: "9", ReceivedAt: at, Body: []byte(` null`)}, ref, ErrBadDelivery, false, false, false},
		{"truncated body", Delivery{ID: "d1", Event: "push", HookID: "9", ReceivedAt: at, Body: comment[:40]}, ref, ErrBadDelivery, false, false, false},
		{"empty body", Delivery{ID: "d1", Event: "push", HookID: "9", ReceivedAt: at}, ref, ErrBadDelivery, false, false, false},
		{"path in event", Delivery{ID: "d1", Event: "../etc", HookID: "9", ReceivedAt: at, Body: comment}, ref, ErrBadDelivery, false, false, false},
		{"slash in delivery", Delivery{ID: "a/b", Event: "push", HookID: "9", ReceivedAt: at, Body: comment}, ref, ErrBadDelivery, false, false, false},
		{"missing hook", Delivery{ID: "d1", Event: "push", ReceivedAt: at, Body: comment}, ref, ErrBadDelivery, false, false, false},
		{"missing time", Delivery{ID: "d1", Event: "push", HookID: "9", Body: comment}, ref, ErrBadDelivery, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := NewEnvelope(tt.d, tt.ref)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("NewEnvelope succeeded, want error")
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if env.PayloadComplete != tt.wantComplete || (len(env.Payload) > 0) != tt.wantInline || (env.S3Reference != nil) != tt.wantRef {
				t.Fatalf("complete=%v inline=%v ref=%v, want %v %v %v", env.PayloadComplete, len(env.Payload) > 0, env.S3Reference != nil, tt.wantComplete, tt.wantInline, tt.wantRef)
			}
			if !env.ReceivedAt.Equal(at) || env.ReceivedAt.Location() != time.UTC {
				t.Errorf("received_at %v, want %v in UTC", env.ReceivedAt, at)
			}
			wire, err := json.Marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			if len(wire) > 256*1024 {
				t.Errorf("envelope is %d bytes, over EventBridge's 256 KB entry limit", len(wire))
			}
		})
	}
}

var errAny = errors.New("any error")

func TestNewEnvelopeCopiesSummaryFields(t *testing.T) {
	body := fixture(t, "issue_comment.json")
	env, err := NewEnvelope(Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "issue_comment", HookID: "123", ReceivedAt: time.Unix(1700000000, 0), Body: body}, Ref{Bucket: "archive", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	want := Envelope{
		DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "issue_comment", Action: "created", HookID: "123",
		InstallationID: 42424242, Repository: "octo-org/Hello-World", Sender: "octocat",
	}
	got := *env
	got.ReceivedAt, got.S3Reference, got.Payload, got.PayloadComplete = time.Time{}, nil, nil, false
	if gb, wb := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(gb, wb) {
		t.Fatalf("envelope\n got %s\nwant %s", gb, wb)
	}
	wire := string(mustJSON(t, env))
	for _, field := range []string{`"delivery_id"`, `"event"`, `"action"`, `"hook_id"`, `"installation_id"`, `"repository"`, `"sender"`, `"received_at":"2023-11-14T22:13:20Z"`, `"payload_complete":true`, `"s3_reference":{"bucket":"archive","key":"k"}`, `"payload"`} {
		if !strings.Contains(wire, field) {
			t.Errorf("wire form lacks %s: %s", field, wire)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestArchiveKey(t *testing.T) {
	at := time.Date(2026, 12, 31, 22, 0, 0, 0, time.FixedZone("east", 3*3600)) // 19:00 UTC same day
	late := time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("west", -2*3600))
	tests := []struct {
		d    Delivery
		want string
	}{
		{Delivery{ID: "abc-1", Event: "push", HookID: "7", ReceivedAt: at}, "2026/12/31/push/7/abc-1.json"},
		{Delivery{ID: "abc-2", Event: "issue_comment", HookID: "7", ReceivedAt: late}, "2027/01/01/issue_comment/7/abc-2.json"},
		// The claim key is hook id + delivery id: so is the archive key, so
		// one delivery id under two hooks is two payloads, not one overwritten.
		{Delivery{ID: "abc-1", Event: "push", HookID: "8", ReceivedAt: at}, "2026/12/31/push/8/abc-1.json"},
	}
	for _, tt := range tests {
		got, err := ArchiveKey(tt.d)
		if err != nil || got != tt.want {
			t.Errorf("ArchiveKey(%+v) = %q, %v; want %q", tt.d, got, err, tt.want)
		}
	}
	for _, bad := range []Delivery{
		{ID: "..", Event: "push", HookID: "7", ReceivedAt: at},
		{ID: "x", Event: "pu sh", HookID: "7", ReceivedAt: at},
		{ID: "x\x00", Event: "push", HookID: "7", ReceivedAt: at},
		{ID: strings.Repeat("a", 129), Event: "push", HookID: "7", ReceivedAt: at},
		{ID: "x", Event: "push", ReceivedAt: at},
		{ID: "x", Event: "push", HookID: "../7", ReceivedAt: at},
	} {
		if k, err := ArchiveKey(bad); !errors.Is(err, ErrBadDelivery) {
			t.Errorf("ArchiveKey(%q, %q) = %q, %v; want ErrBadDelivery", bad.Event, bad.ID, k, err)
		}
	}
}

func FuzzNewEnvelope(f *testing.F) {
	f.Add([]byte(`{"action":"opened","repository":{"full_name":"a/b"}}`), "push", "d")
	f.Add([]byte(`{"installation":{"id":"x"}}`), "push", "d")
	f.Add([]byte(`"str"`), "../x", "d")
	f.Fuzz(func(t *testing.T, body []byte, event, id string) {
		env, err := NewEnvelope(Delivery{ID: id, Event: event, HookID: "1", ReceivedAt: time.Unix(1, 0), Body: body}, Ref{Bucket: "b", Key: "k"})
		if err != nil {
			return
		}
		if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			t.Fatalf("accepted a body that is not a JSON object: %q", body)
		}
		if strings.ContainsAny(env.Event+env.DeliveryID, "/\\ \x00") {
			t.Fatalf("accepted unsafe names %q %q", env.Event, env.DeliveryID)
		}
		if _, err := json.Marshal(env); err != nil {
			t.Fatalf("envelope does not marshal: %v", err)
		}
	})
}

func TestCheckKey(t *testing.T) {
	for _, ok := range []string{"2026/11/28/push/d.json", "a", "a-b_c.d/e"} {
		if err := CheckKey(ok); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "/a", "a/", "a//b", "../a", "a/../b", "a/./b", `a\b`, "a b", "ä", strings.Repeat("a/", 600)} {
		if err := CheckKey(bad); !errors.Is(err, ErrBadDelivery) {
			t.Errorf("CheckKey(%q) = %v, want ErrBadDelivery", bad, err)
		}
	}
}
