package webhook

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
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
			// OneByteReader makes every growth step run.
			got, err := readBody(iotest.OneByteReader(strings.NewReader(tc.body)), tc.length, limit)
			switch {
			case tc.err == nil && (err != nil || string(got) != tc.body):
				t.Fatalf("= %q, %v; want the body", got, err)
			case tc.err != nil && err == nil:
				t.Fatalf("= %q; want an error", got)
			case tc.err != nil && !errors.Is(err, tc.err) && !strings.Contains(err.Error(), tc.err.Error()):
				t.Fatalf("error %v, want %v", err, tc.err)
			}
		})
	}
}

// A client that announces 25 MB and stalls after a few bytes must not make
// the receiver reserve 25 MB.
func TestReadBodyDoesNotTrustAnnouncedLength(t *testing.T) {
	stall := io.MultiReader(strings.NewReader("{\"a\":"), iotest.ErrReader(errors.New("client stalled")))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := readBody(stall, DefaultMaxBody, DefaultMaxBody); err == nil {
		t.Fatal("a stalled body was accepted")
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 2*preallocLimit {
		t.Fatalf("reading 5 bytes of an announced 25 MB body allocated %d bytes", grew)
	}
}
