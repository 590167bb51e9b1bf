package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

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

// BenchmarkHandle measures the receiver core alone (verify, parse, claim,
// archive, publish, finish) with in-memory ports.
func BenchmarkHandle(b *testing.B) {
	for _, size := range []int{25 << 10, 5 << 20} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			g := newRig(b)
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
				if resp := g.r.Handle(context.Background(), req); resp.Status != 200 {
					b.Fatalf("= %d %s", resp.Status, resp.Body)
				}
			}
		})
	}
}
