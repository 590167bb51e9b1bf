package bus

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/publishertest"
	"github.com/sbalswa/ai3-mvp/internal/local"
)

// The contract holds with the bus's own group commit and with a shared
// local.Committer (as in ai3 dev).
func TestPublisherContract(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "own commit", true: "shared committer"}[shared], func(t *testing.T) {
			publisherContract(t, shared)
		})
	}
}

func publisherContract(t *testing.T, shared bool) {
	publishertest.Run(t, func(t *testing.T) publishertest.Harness {
		db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
		opts := fastOpts()
		var commits *local.Committer
		if shared {
			commits = local.NewCommitter(db, nil)
			t.Cleanup(func() { commits.Close() })
			opts.Committer = commits
		}
		b := newBus(t, db, opts)
		var mu sync.Mutex
		var got []*events.Envelope
		b.Subscribe(events.HandlerFunc(events.TargetStub, func(ctx context.Context, env *events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, env)
			return nil
		}))
		// Run's own error is not checked: Break closes the database under
		// it, and Run rightly fails then.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return publishertest.Harness{
			Publisher: b,
			Received: func(t *testing.T, n int) []*events.Envelope {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				for {
					mu.Lock()
					if len(got) >= n {
						out := append([]*events.Envelope(nil), got...)
						mu.Unlock()
						return out
					}
					mu.Unlock()
					if time.Now().After(deadline) {
						t.Fatalf("fewer than %d envelopes reached the handler within 30s", n)
					}
					time.Sleep(5 * time.Millisecond)
				}
			},
			Break: func() {
				if commits != nil {
					commits.Close() // its connection first, as ai3 dev shuts down
				}
				db.Close()
			},
		}
	})
}
