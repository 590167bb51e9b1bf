package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/local"
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

// BenchmarkPutParallelDB measures 25 KB writes from concurrent receivers
// into the database tier (group-committed, synchronous=FULL), with the
// file tier (BenchmarkPutParallel) as the yardstick: a compressible JSON
// payload and an incompressible one.
func BenchmarkPutParallelDB(b *testing.B) {
	json := bytes.Repeat([]byte(`{"login":"octocat","url":"https://api.github.com/users/octocat","id":583231},`), 25<<10/76)
	random := make([]byte, 25<<10)
	rand.Read(random)
	for _, tc := range []struct {
		name string
		body []byte
	}{{"json", json}, {"random", random}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := local.OpenSQLite(ctx, filepath.Join(b.TempDir(), "ai3.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			commits := local.NewCommitter(db, nil)
			defer commits.Close()
			a, err := Open(ctx, b.TempDir(), Options{Committer: commits})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			var n atomic.Int64
			b.SetBytes(int64(len(tc.body)))
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := a.Put(ctx, fmt.Sprintf("2026/11/28/push/%d.json", n.Add(1)), tc.body); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
