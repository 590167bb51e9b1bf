package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SecretSource gives the webhook secrets that are valid right now: the
// current one first, then any still accepted during a rotation. Adapters read
// them at run time (Secrets Manager, a 0600 file), never from environment
// variables.
type SecretSource interface {
	Secrets(ctx context.Context) ([][]byte, error)
}

// ErrNoSecret means the configured secret is empty. The receiver refuses to
// start rather than accept unsigned deliveries.
var ErrNoSecret = errors.New("webhook secret is empty: set one (GitHub App settings → Webhook secret) before accepting deliveries")

// ParseSecrets reads the stored form of the webhook secrets, shared by every
// adapter: one secret per line, current first. Surrounding whitespace and
// blank lines are ignored, so "s3cret\n" is one secret and "new\nold\n"
// accepts both during a rotation.
func ParseSecrets(raw []byte) ([][]byte, error) {
	var out [][]byte
	for line := range bytes.Lines(raw) {
		if s := bytes.TrimSpace(line); len(s) > 0 {
			out = append(out, bytes.Clone(s))
		}
	}
	if len(out) == 0 {
		return nil, ErrNoSecret
	}
	return out, nil
}

// CacheSecrets wraps src so it is asked at most once per ttl. A failed
// refresh is returned to the caller (the delivery is answered 5xx and GitHub
// can redeliver); it does not extend the old value's life.
func CacheSecrets(src SecretSource, ttl time.Duration, now func() time.Time) SecretSource {
	if now == nil {
		now = time.Now
	}
	return &cachedSecrets{src: src, ttl: ttl, now: now}
}

type cachedSecrets struct {
	src SecretSource
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	secrets [][]byte
	until   time.Time
}

// Secrets returns the cached secrets, asking the source when they are older than the TTL.
func (c *cachedSecrets) Secrets(ctx context.Context) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secrets != nil && c.now().Before(c.until) {
		return c.secrets, nil
	}
	s, err := c.src.Secrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read webhook secret: %w", err)
	}
	if len(s) == 0 {
		return nil, ErrNoSecret
	}
	c.secrets, c.until = s, c.now().Add(c.ttl)
	return s, nil
}
