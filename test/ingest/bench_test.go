package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// payloadOfSize returns an issue_comment-like payload of about n bytes.
func payloadOfSize(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"action":"created","installation":{"id":42},"repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"},"comment":{"body":"`)
	line := `@ai3-mvp run ci -- a line of comment text with \"quotes\" and \u00e9scapes\n`
	for b.Len() < n-len(line)-3 {
		b.WriteString(line)
	}
	b.WriteString(`"}}`)
	return []byte(b.String())
}

// BenchmarkIngestHTTP is the embedded endpoint end to end, wired as `ai3
// dev` wires it: signed 25 KB deliveries POSTed over HTTP by 32 concurrent
// clients, each answered only after its claim, payload file and bus event
// are durable (SQLite synchronous=FULL, fsynced file and directory). With
// workers=on the bus delivers to the stub at the same time, as in `ai3 dev`;
// workers=off measures ingest alone. The data directory is t.TempDir():
// TMPDIR on a tmpfs measures the CPU cost without the disk's flushes.
func BenchmarkIngestHTTP(b *testing.B) {
	for _, workers := range []bool{true, false} {
		b.Run(map[bool]string{true: "workers=on", false: "workers=off"}[workers], func(b *testing.B) {
			s := newStack(b, options{noWorkers: !workers})
			body := payloadOfSize(25 << 10)
			sig := webhook.Sign(secret, body)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
			var n atomic.Int64
			b.SetBytes(int64(len(body)))
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("bench-%d", n.Add(1))
					if status, resp := s.post(b, client, "issue_comment", id, body, sig); status != 200 {
						b.Errorf("%s: %d %s", id, status, resp)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// Benchmark25MB is one 25 MB delivery verified, validated, claimed, archived
// (fsynced file) and published by reference, through the receiver core with
// the embedded adapters.
func Benchmark25MB(b *testing.B) {
	ctx := context.Background()
	s := newStack(b, options{noWorkers: true})
	r, err := webhook.New(ctx, webhook.Config{Secrets: fixedSecrets{secret}, Claims: s.claims, Archive: s.archive, Publisher: s.bus})
	if err != nil {
		b.Fatal(err)
	}
	body := payloadOfSize(25<<20 - 1024)
	sig := webhook.Sign(secret, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("X-GitHub-Event", "push")
		h.Set("X-GitHub-Delivery", fmt.Sprint("big-", i))
		h.Set("X-GitHub-Hook-ID", "1")
		h.Set("X-Hub-Signature-256", sig)
		resp := r.Handle(ctx, webhook.Request{Method: "POST", Header: h, Body: bytes.NewReader(body), ContentLength: int64(len(body))})
		if resp.Status != 200 {
			b.Fatalf("%d %s", resp.Status, resp.Body)
		}
	}
}
