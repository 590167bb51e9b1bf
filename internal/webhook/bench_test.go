package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// payloadOfSize returns an issue_comment-like JSON object of about n bytes.
func payloadOfSize(n int) string {
	var b strings.Builder
	b.WriteString(`{"action":"created","installation":{"id":42},"repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"},"comment":{"body":"`)
	line := `@ai3-mvp run ci -- a reasonably long line of comment text, \"quoted\" and \u00e9scaped\n`
	for b.Len() < n-len(line)-3 {
		b.WriteString(line)
	}
	b.WriteString(`"}}`)
	return b.String()
}

// discard is an archive and publisher that keeps nothing, so a benchmark
// measures the receiver rather than the growth of an in-memory store.
type discard struct{}

func (discard) Put(_ context.Context, key string, _ []byte) (events.Ref, error) {
	return events.Ref{Bucket: "discard", Key: key}, nil
}
func (discard) Get(context.Context, events.Ref) ([]byte, error) { return nil, events.ErrNotFound }
func (discard) Publish(context.Context, *events.Envelope) error { return nil }

// BenchmarkHandle measures the receiver core alone (read, verify, validate
// and build the envelope, claim, archive, publish, finish) with ports that
// cost nothing.
func BenchmarkHandle(b *testing.B) {
	for _, size := range []int{25 << 10, 5 << 20} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			r, err := webhook.New(context.Background(), webhook.Config{
				Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: &memClaims{}, Archive: discard{}, Publisher: discard{},
			})
			if err != nil {
				b.Fatal(err)
			}
			body := payloadOfSize(size)
			sig := webhook.Sign(secret, []byte(body))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				req := delivery(fmt.Sprint("bench-", i), "")
				req.Header.Set(webhook.SignatureHeader, sig)
				req.Body, req.ContentLength = strings.NewReader(body), int64(len(body))
				if resp := r.Handle(context.Background(), req); resp.Status != 200 {
					b.Fatalf("= %d %s", resp.Status, resp.Body)
				}
			}
		})
	}
}
