package archive

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkPut measures a durable (fsynced) archive write.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{25 << 10, 5 << 20, 25 << 20} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			a, err := Open(context.Background(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			body := bytes.Repeat([]byte("x"), size)
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				i++
				if _, err := a.Put(context.Background(), fmt.Sprintf("2026/11/28/push/%d.json", i), body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutParallel measures 25 KB writes from concurrent receivers.
func BenchmarkPutParallel(b *testing.B) {
	a, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 25<<10)
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Put(context.Background(), fmt.Sprintf("2026/11/28/push/%d.json", n.Add(1)), body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
