package claims_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// BenchmarkClaimFinish is one delivery's claim traffic (Claim, then Finish)
// from 32 concurrent receivers, group-committed with synchronous=FULL.
func BenchmarkClaimFinish(b *testing.B) {
	s := open(b)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			at := time.Now()
			c := webhook.Claim{Key: fmt.Sprint("1/", n.Add(1)), Token: "t", At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(24 * time.Hour)}
			if o, err := s.Claim(context.Background(), c); err != nil || o != webhook.Acquired {
				b.Errorf("Claim = %s, %v", o, err)
				return
			}
			if err := s.Finish(context.Background(), c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
