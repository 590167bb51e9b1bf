package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
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

// realPayload returns the smallest real GitHub payload of
// @octokit/webhooks-examples that is at least n bytes as GitHub sends it
// (compact JSON): archived payloads are compressed, and real JSON
// compresses as real JSON does, not as a repeated line would.
func realPayload(b *testing.B, n int) example {
	var best example
	for _, ex := range octokitExamples(b) {
		var c bytes.Buffer
		if err := json.Compact(&c, ex.Body); err != nil {
			b.Fatal(err)
		}
		if c.Len() >= n && (best.Body == nil || c.Len() < len(best.Body)) {
			best = example{Event: ex.Event, Body: c.Bytes()}
		}
	}
	if best.Body == nil {
		b.Fatalf("no example payload of %d bytes or more", n)
	}
	return best
}

// deliveryID returns a GitHub-like delivery id (a GUID) unique for n:
// random, as real ones are, so index inserts land all over their B-trees.
func deliveryID(n int64) string {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(n)))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// BenchmarkIngestHTTP is the embedded endpoint end to end, wired as `ai3
// dev` wires it: a real 25 KB GitHub payload (compact JSON, as GitHub sends
// it) signed and POSTed over HTTP with a fresh GUID delivery id each time by
// 32 or 64 concurrent clients, each answered only after its claim, archived
// payload and bus event are durable (SQLite synchronous=FULL, one group
// commit shared by the concurrent deliveries). With workers=on the bus
// delivers to the stub at the same time, as in `ai3 dev`; workers=off
// measures ingest alone. payload=incompressible (random base64 text) is the
// worst case for the archive's compression. GitHub at thousands of
// deliveries a second keeps dozens in flight; more clients give the group
// commit bigger batches. The data directory is t.TempDir(): TMPDIR on a
// tmpfs measures the CPU cost without the disk's flushes.
func BenchmarkIngestHTTP(b *testing.B) {
	type config struct {
		workers      bool
		clients      int
		incompressed bool
	}
	configs := []config{{true, 32, false}, {true, 64, false}, {false, 32, false}, {false, 64, false}, {true, 32, true}}
	for _, c := range configs {
		payload := map[bool]string{false: "github", true: "incompressible"}[c.incompressed]
		name := fmt.Sprintf("workers=%s/clients=%d/payload=%s", map[bool]string{true: "on", false: "off"}[c.workers], c.clients, payload)
		b.Run(name, func(b *testing.B) {
			s := newStack(b, options{noWorkers: !c.workers})
			ex := realPayload(b, 25<<10)
			if c.incompressed {
				ex.Body = incompressiblePayload(len(ex.Body))
			}
			sig := webhook.Sign(secret, ex.Body)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.clients}, Timeout: time.Minute}
			var n atomic.Int64
			b.SetBytes(int64(len(ex.Body)))
			b.SetParallelism(c.clients / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := deliveryID(n.Add(1))
					if status, resp := s.post(b, client, ex.Event, id, ex.Body, sig); status != 200 {
						b.Errorf("%s: %d %s", id, status, resp)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// incompressiblePayload returns a JSON payload of about n bytes that
// Snappy cannot shrink (random base64 text): the archive stores it as is.
func incompressiblePayload(n int) []byte {
	random := make([]byte, n*3/4)
	rand.Read(random)
	return []byte(`{"action":"created","comment":{"body":"` + base64.StdEncoding.EncodeToString(random)[:n-40] + `"}}`)
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
