package testenv_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// Concurrent writers and a reader (run with -race): every write arrives
// whole, none is lost.
func TestSyncBufferConcurrentWrites(t *testing.T) {
	var buf testenv.SyncBuffer
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				fmt.Fprintf(&buf, "w%d-%03d\n", w, i)
				_ = buf.String()
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if len(l) != len("w0-000") || seen[l] {
			t.Fatalf("line %q torn or repeated", l)
		}
		seen[l] = true
	}
}
