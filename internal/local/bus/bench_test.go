package bus

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// BenchmarkPublish measures durable publishes from 8 concurrent callers per
// core (the receiver's HTTP handlers), no workers running, for a tiny and a
// 25 KB inline payload.
func BenchmarkPublish(b *testing.B) {
	for _, size := range []int{0, 25 << 10} {
		b.Run(fmt.Sprintf("payload=%dKB", size>>10), func(b *testing.B) {
			ctx := context.Background()
			opts := fastOpts()
			opts.Archive = noArchive{} // payloads count as archived: stored once
			bus := newBus(b, openDB(b, filepath.Join(b.TempDir(), "bus.db")), opts)
			bus.Subscribe(newRecorder(events.TargetStub))
			payload := []byte(`{"action":"created","pad":"` + strings.Repeat("p", size) + `"}`)
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					env := envelope(fmt.Sprintf("b%d", n.Add(1)), "issue_comment")
					env.Payload = payload
					env.S3Reference = &events.Ref{Bucket: "local-archive", Key: "k"}
					if err := bus.Publish(ctx, env); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPublishDeliver measures one publish and its delivery to the stub
// handler, end to end through SQLite.
func BenchmarkPublishDeliver(b *testing.B) {
	ctx := context.Background()
	bus := newBus(b, openDB(b, filepath.Join(b.TempDir(), "bus.db")), fastOpts())
	done := make(chan struct{}, 1024)
	bus.Subscribe(events.HandlerFunc(events.TargetStub, func(context.Context, *events.Envelope) error {
		done <- struct{}{}
		return nil
	}))
	run(b, bus)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := bus.Publish(ctx, envelope(fmt.Sprintf("e%d", i), "push")); err != nil {
			b.Fatal(err)
		}
		<-done
	}
}

// BenchmarkThroughput publishes from 8 concurrent callers while the bus
// delivers to the stub; it ends when every event was delivered, and reports
// delivered events per second.
func BenchmarkThroughput(b *testing.B) {
	ctx := context.Background()
	bus := newBus(b, openDB(b, filepath.Join(b.TempDir(), "bus.db")), fastOpts())
	var delivered atomic.Int64
	all := make(chan struct{})
	var target atomic.Int64
	bus.Subscribe(events.HandlerFunc(events.TargetStub, func(context.Context, *events.Envelope) error {
		if delivered.Add(1) == target.Load() {
			close(all)
		}
		return nil
	}))
	run(b, bus)
	var n atomic.Int64
	b.ResetTimer()
	target.Store(int64(b.N))
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bus.Publish(ctx, envelope(fmt.Sprintf("t%d", n.Add(1)), "push")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	<-all
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// noArchive stands for an archive that holds every payload (publish only).
type noArchive struct{}

func (noArchive) Put(context.Context, string, []byte) (events.Ref, error) { return events.Ref{}, nil }
func (noArchive) Get(context.Context, events.Ref) ([]byte, error)         { return nil, events.ErrNotFound }
