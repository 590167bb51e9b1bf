package webhook_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// stagingArchive is a memArchive that stages: staged payloads are invisible
// until committed, and what happened to each is counted.
type stagingArchive struct {
	*memArchive
	stageDown, commitDown bool

	mu                           sync.Mutex
	staged, committed, discarded int
}

type memStaged struct {
	a    *stagingArchive
	key  string
	body []byte
}

func (a *stagingArchive) Stage(ctx context.Context, key string, body []byte) (events.Staged, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stageDown {
		return nil, errors.New("disk full")
	}
	a.staged++
	return &memStaged{a: a, key: key, body: body}, nil
}

func (s *memStaged) Commit(ctx context.Context) (events.Ref, error) {
	s.a.mu.Lock()
	down := s.a.commitDown
	s.a.committed++
	s.a.mu.Unlock()
	if down {
		return events.Ref{}, errors.New("rename failed")
	}
	return s.a.memArchive.Put(ctx, s.key, s.body)
}

func (s *memStaged) Discard() { s.a.mu.Lock(); s.a.discarded++; s.a.mu.Unlock() }

// With a staging archive, only a claimed delivery's payload is committed;
// a duplicate's or an in-progress copy's staged payload is discarded; a
// failure to stage or to commit releases the claim and answers 503.
func TestStagingArchive(t *testing.T) {
	cases := []struct {
		name                  string
		stageDown, commitDown bool
		first                 int // status of the first delivery
		stored                int // payloads at their key after it
	}{
		{name: "staged and committed", first: 200, stored: 1},
		{name: "stage fails", stageDown: true, first: 503},
		{name: "commit fails", commitDown: true, first: 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arch := &stagingArchive{memArchive: &memArchive{}, stageDown: tc.stageDown, commitDown: tc.commitDown}
			claims, bus := &memClaims{}, &memBus{}
			now := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
			r, err := webhook.New(context.Background(), webhook.Config{
				Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: claims, Archive: arch, Publisher: bus,
				Now: func() time.Time { return now },
			})
			if err != nil {
				t.Fatal(err)
			}
			resp := r.Handle(context.Background(), delivery("d-s", issuePayload))
			if resp.Status != tc.first || arch.len() != tc.stored {
				t.Fatalf("answer %d %s with %d stored, want %d with %d", resp.Status, resp.Body, arch.len(), tc.first, tc.stored)
			}
			if tc.first != 200 {
				if claims.len() != 0 || len(bus.envelopes()) != 0 {
					t.Fatal("after the failure the claim is held or an event was published")
				}
				arch.stageDown, arch.commitDown = false, false
				if resp := r.Handle(context.Background(), delivery("d-s", issuePayload)); resp.Status != 200 {
					t.Fatalf("redelivery after the fault = %d %s", resp.Status, resp.Body)
				}
			}
			committed := arch.committed
			resp = r.Handle(context.Background(), delivery("d-s", issuePayload))
			if a := decode(t, resp); resp.Status != 200 || !a.Duplicate {
				t.Fatalf("duplicate = %d %s", resp.Status, resp.Body)
			}
			if arch.committed != committed || arch.discarded != 1 || arch.staged != committed+1 {
				t.Fatalf("the duplicate's payload: staged %d, committed %d, discarded %d", arch.staged, arch.committed, arch.discarded)
			}
			if n := len(bus.envelopes()); n != 1 {
				t.Fatalf("published %d, want 1", n)
			}
		})
	}
}

// A signed payload that is not valid JSON is refused (400) after staging
// started: what was staged is discarded and nothing is claimed or stored.
func TestStagedInvalidPayloadIsDiscarded(t *testing.T) {
	arch := &stagingArchive{memArchive: &memArchive{}}
	claims, bus := &memClaims{}, &memBus{}
	r, err := webhook.New(context.Background(), webhook.Config{
		Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: claims, Archive: arch, Publisher: bus,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := r.Handle(context.Background(), delivery("d-bad", `{"action":"created","comment":{"body":"unterminated}`))
	if a := decode(t, resp); resp.Status != 400 || a.Error != "bad_payload" {
		t.Fatalf("answer %d %s, want 400 bad_payload", resp.Status, resp.Body)
	}
	if arch.staged != arch.discarded || arch.committed != 0 || arch.len() != 0 || claims.len() != 0 || len(bus.envelopes()) != 0 {
		t.Fatalf("staged %d, discarded %d, committed %d, stored %d, claims %d, published %d: want everything staged discarded and nothing else",
			arch.staged, arch.discarded, arch.committed, arch.len(), claims.len(), len(bus.envelopes()))
	}
}
