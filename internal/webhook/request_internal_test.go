package webhook

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

func TestReadBody(t *testing.T) {
	const limit = 64
	cases := []struct {
		name   string
		body   string
		length int64
		err    error // nil: the body is returned whole
	}{
		{"exact length", "hello", 5, nil},
		{"empty", "", 0, nil},
		{"unknown length", "hello", -1, nil},
		{"unknown length at the limit", strings.Repeat("x", limit), -1, nil},
		{"unknown length over the limit", strings.Repeat("x", limit+1), -1, errTooLarge},
		{"announced over the limit", "x", limit + 1, errTooLarge},
		{"shorter than announced", "hello", 9, io.ErrUnexpectedEOF},
		{"longer than announced", "hello", 3, errors.New("longer")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBudget(1 << 20)
			// OneByteReader makes every growth step run.
			got, held, err := readBody(context.Background(), iotest.OneByteReader(strings.NewReader(tc.body)), tc.length, limit, b)
			switch {
			case tc.err == nil && (err != nil || string(got) != tc.body):
				t.Fatalf("= %q, %v; want the body", got, err)
			case tc.err != nil && err == nil:
				t.Fatalf("= %q; want an error", got)
			case tc.err != nil && !errors.Is(err, tc.err) && !strings.Contains(err.Error(), tc.err.Error()):
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && (held != int64(cap(got)) || b.held() != held) {
				t.Fatalf("held %d, budget says %d, buffer %d: want all equal", held, b.held(), cap(got))
			}
			if err != nil && b.held() != 0 {
				t.Fatalf("a failed read kept %d bytes of the budget", b.held())
			}
		})
	}
}

// A client that announces 25 MB and stalls after a few bytes must not make
// the receiver reserve 25 MB, nor, having sent 1 MiB, grow to 25 MB.
func TestReadBodyGrowsWithWhatArrived(t *testing.T) {
	for _, sent := range []int{5, 1 << 20} {
		stall := io.MultiReader(strings.NewReader(strings.Repeat("x", sent)), iotest.ErrReader(errors.New("client stalled")))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, _, err := readBody(context.Background(), stall, DefaultMaxBody, DefaultMaxBody, nil); err == nil {
			t.Fatal("a stalled body was accepted")
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(4*sent+2*firstChunk) {
			t.Fatalf("reading %d bytes of an announced 25 MB body allocated %d bytes", sent, grew)
		}
	}
}

// pausedReader gives n bytes, then blocks until released.
type pausedReader struct {
	n       int
	release chan struct{}
}

func (p *pausedReader) Read(b []byte) (int, error) {
	if p.n == 0 {
		<-p.release
		return 0, errors.New("client went away")
	}
	k := min(len(b), p.n)
	p.n -= k
	return k, nil
}

// TestBudgetBoundsUnverifiedBytes: stalled readers together never hold more
// than the budget; one that needs more waits, and gets the bytes when
// another gives them back, or fails with errBusy when its wait ends.
func TestBudgetBoundsUnverifiedBytes(t *testing.T) {
	const total = 1 << 20
	b := newBudget(total)
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 { // 8 × 256 KiB sent: twice the budget
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, _, err := readBody(ctx, &pausedReader{n: 256 << 10, release: release}, DefaultMaxBody, DefaultMaxBody, b)
			errs <- err
		})
	}
	// Watch for at least a second, and on a slow machine until the budget
	// has been used (half of it) and some reader has given up (its error
	// is in errs), so that the release below does not come before either.
	peak := int64(0)
	watched, deadline := time.Now().Add(time.Second), time.Now().Add(20*time.Second)
	for time.Now().Before(watched) || ((peak < total/2 || len(errs) == 0) && time.Now().Before(deadline)) {
		peak = max(peak, b.held())
		time.Sleep(time.Millisecond)
	}
	if peak > total || peak < total/2 {
		t.Fatalf("peak held %d bytes, want at most the budget %d (and the budget used)", peak, total)
	}
	close(release)
	wg.Wait()
	close(errs)
	busy := 0
	for err := range errs {
		if errors.Is(err, errBusy) {
			busy++
		}
	}
	if busy == 0 || b.held() != 0 {
		t.Fatalf("%d readers were refused as busy, %d bytes still held; want some refused and none held", busy, b.held())
	}

	// A waiting reader proceeds once bytes are given back.
	if err := b.acquire(context.Background(), total); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, held, err := readBody(context.Background(), strings.NewReader("{}"), 2, 2, b)
		b.release(held)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("read with the budget spent = %v, want it to wait", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.release(total)
	if err := <-done; err != nil {
		t.Fatalf("after the release: %v", err)
	}
}
