package events

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// benchBody is a payload of about size bytes made of a real GitHub
// pull_request payload (testdata): itself for the smallest size, else copied
// into a large array beside its own summary fields.
func benchBody(b *testing.B, size int) []byte {
	pr, err := os.ReadFile("testdata/pull_request.json")
	if err != nil {
		b.Fatal(err)
	}
	if size <= len(pr) {
		return pr
	}
	var buf bytes.Buffer
	buf.Write(pr[:bytes.LastIndexByte(pr, '}')])
	buf.WriteString(`,"copies":[`)
	for i := 0; buf.Len() < size-len(pr); i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(pr)
	}
	buf.WriteString("]}")
	return buf.Bytes()
}

func BenchmarkNewEnvelope(b *testing.B) {
	for _, size := range []int{25 << 10, 5 << 20, 25 << 20} {
		body := benchBody(b, size)
		d := Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "push", HookID: "1", ReceivedAt: time.Now(), Body: body}
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewEnvelope(d, Ref{Bucket: "b", Key: "k"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeDecode(b *testing.B) {
	body := benchBody(b, 25<<10)
	env, err := NewEnvelope(Delivery{ID: "d", Event: "pull_request", HookID: "1", ReceivedAt: time.Now(), Body: body}, Ref{Bucket: "b", Key: "k"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		wire, err := Encode(env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}
