package webhook_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// countingSecrets counts reads and answers with the current value or error.
type countingSecrets struct {
	mu    sync.Mutex
	reads int
	value string
	err   error
}

func (c *countingSecrets) Secrets(context.Context) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if c.err != nil {
		return nil, c.err
	}
	return [][]byte{[]byte(c.value)}, nil
}

func TestCacheSecrets(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &countingSecrets{value: "one"}
	cache := webhook.CacheSecrets(src, time.Minute, func() time.Time { return now })
	read := func() string {
		t.Helper()
		s, err := cache.Secrets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(s[0])
	}
	first, second := read(), read()
	if first != "one" || second != "one" || src.reads != 1 {
		t.Fatalf("two reads inside the TTL asked the source %d times, want 1", src.reads)
	}
	src.value = "two"
	now = now.Add(59 * time.Second)
	if read() != "one" {
		t.Fatal("the cache refreshed before its TTL")
	}
	now = now.Add(time.Second)
	if read() != "two" || src.reads != 2 {
		t.Fatalf("after the TTL the cache gave the old secret or did not ask (reads %d)", src.reads)
	}
	src.err = errors.New("throttled")
	now = now.Add(time.Minute)
	if _, err := cache.Secrets(ctx); err == nil {
		t.Fatal("an expired cache hid the source's failure")
	}
	src.err = nil
	src.value = "three"
	if read() != "three" {
		t.Fatal("the cache did not recover after the source did")
	}
}

func TestParseSecretsRefusesEmpty(t *testing.T) {
	for _, raw := range []string{"", "\n", "  \r\n\t"} {
		if _, err := webhook.ParseSecrets([]byte(raw)); !errors.Is(err, webhook.ErrNoSecret) {
			t.Errorf("ParseSecrets(%q) = %v, want ErrNoSecret", raw, err)
		}
	}
}
