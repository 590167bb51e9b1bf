package webhook_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
	"github.com/sbalswa/ai3-mvp/internal/webhook/webhooktest"
)

// memArchive is an in-memory events.Archive whose failures can be switched on.
type memArchive struct {
	mu      sync.Mutex
	objects map[string][]byte
	down    bool
}

func (a *memArchive) Put(ctx context.Context, key string, body []byte) (events.Ref, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return events.Ref{}, errors.New("archive down")
	}
	if a.objects == nil {
		a.objects = map[string][]byte{}
	}
	a.objects[key] = body
	return events.Ref{Bucket: "mem", Key: key}, nil
}

func (a *memArchive) Get(ctx context.Context, ref events.Ref) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.objects[ref.Key]
	if !ok {
		return nil, events.ErrNotFound
	}
	return b, nil
}

func (a *memArchive) len() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.objects) }

// memBus is an in-memory events.Publisher that records what it accepted.
type memBus struct {
	mu        sync.Mutex
	published []*events.Envelope
	down      bool
	delay     time.Duration
}

func (b *memBus) Publish(ctx context.Context, env *events.Envelope) error {
	if b.delay > 0 {
		time.Sleep(b.delay)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return errors.New("bus down")
	}
	b.published = append(b.published, env)
	return nil
}

func (b *memBus) envelopes() []*events.Envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*events.Envelope(nil), b.published...)
}

// memClaims is an in-memory webhook.ClaimStore; TestMemClaimsContract holds
// it to the same contract as the real adapters.
type memClaims struct {
	mu         sync.Mutex
	rows       map[string]memClaim
	finishDown bool
}

type memClaim struct {
	done              bool
	token             string
	lease, expiration time.Time
}

func (m *memClaims) Claim(ctx context.Context, c webhook.Claim) (webhook.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[string]memClaim{}
	}
	if r, ok := m.rows[c.Key]; ok && c.At.Before(r.expiration) {
		if r.done {
			return webhook.Duplicate, nil
		}
		if c.At.Before(r.lease) {
			return webhook.InProgress, nil
		}
	}
	m.rows[c.Key] = memClaim{token: c.Token, lease: c.LeaseUntil, expiration: c.ExpiresAt}
	return webhook.Acquired, nil
}

func (m *memClaims) Finish(ctx context.Context, c webhook.Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.finishDown {
		return errors.New("claims table down")
	}
	r, ok := m.rows[c.Key]
	if !ok || r.done || r.token != c.Token {
		return webhook.ErrNotHolder
	}
	r.done = true
	m.rows[c.Key] = r
	return nil
}

func (m *memClaims) Release(ctx context.Context, c webhook.Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[c.Key]; ok && !r.done && r.token == c.Token {
		delete(m.rows, c.Key)
	}
	return nil
}

func (m *memClaims) len() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.rows) }

func TestMemClaimsContract(t *testing.T) {
	webhooktest.ClaimStore(t, func(t *testing.T) webhook.ClaimStore { return &memClaims{} })
}

// staticSecrets is a webhook.SecretSource with fixed secrets or a fixed error.
type staticSecrets struct {
	secrets [][]byte
	err     error
}

func (s staticSecrets) Secrets(ctx context.Context) ([][]byte, error) { return s.secrets, s.err }
