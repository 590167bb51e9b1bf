package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// archivingBus is a webhook.ArchivingPublisher over a stagingArchive,
// memBus and memClaims: CommitPublishAndFinish stores the staged payload
// itself (never through the staged payload's Commit), then publishes and
// finishes. It counts every way it is called.
type archivingBus struct {
	*finishingBus // PublishAndFinish, counted in combined
	arch          *stagingArchive
	down          bool // CommitPublishAndFinish fails, writing nothing

	mu        sync.Mutex
	calls     int          // CommitPublishAndFinish
	publishes int          // Publish called by the receiver
	refs      []events.Ref // env.S3Reference as the receiver passed it
}

var _ webhook.ArchivingPublisher = (*archivingBus)(nil)

func (a *archivingBus) Publish(ctx context.Context, env *events.Envelope) error {
	a.mu.Lock()
	a.publishes++
	a.mu.Unlock()
	return a.memBus.Publish(ctx, env)
}

func (a *archivingBus) CommitPublishAndFinish(ctx context.Context, staged events.Staged, env *events.Envelope, c webhook.Claim) error {
	a.mu.Lock()
	a.calls++
	var ref events.Ref
	if env.S3Reference != nil {
		ref = *env.S3Reference
	}
	a.refs = append(a.refs, ref)
	a.mu.Unlock()
	if a.down {
		return errors.New("database is locked")
	}
	s, ok := staged.(*memStaged)
	if !ok {
		return fmt.Errorf("staged payload of type %T", staged)
	}
	if a.steal { // another attempt took the claim over after our lease ended
		a.claims.Release(ctx, c)
	}
	stored, err := a.arch.memArchive.Put(ctx, s.key, s.body)
	if err != nil {
		return err
	}
	env.S3Reference = &stored
	if err := a.memBus.Publish(ctx, env); err != nil {
		return err
	}
	if err := a.claims.Finish(ctx, c); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}

// With a staging archive and an ArchivingPublisher, the receiver hands the
// staged payload, the envelope and the claim to CommitPublishAndFinish and
// does nothing else itself: no Commit, Publish, PublishAndFinish or
// Finish, and no reference set on the envelope. A failure releases the
// claim and answers 503 store_unavailable with nothing published; a claim
// lost meanwhile is logged and answered 200 (the event is on the bus).
func TestArchivingPublisher(t *testing.T) {
	cases := []struct {
		name      string
		down      bool
		steal     bool
		stageDown bool
		status    int
		errCode   string
		calls     int // CommitPublishAndFinish
		published int
		duplicate bool   // a redelivery afterwards is a duplicate
		logged    string // in the log
	}{
		{name: "committed, published and finished", status: 200, calls: 1, published: 1, duplicate: true, logged: "delivery accepted"},
		{name: "store down", down: true, status: 503, errCode: "store_unavailable", calls: 1, logged: "archive and publish failed"},
		{name: "claim lost", steal: true, status: 200, calls: 1, published: 1, logged: "published but the claim was no longer held"},
		{name: "stage fails", stageDown: true, status: 503, errCode: "archive_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mc := &memClaims{}
			claims := &countingClaims{memClaims: mc}
			arch := &stagingArchive{memArchive: &memArchive{}, stageDown: tc.stageDown}
			ab := &archivingBus{finishingBus: &finishingBus{memBus: &memBus{}, claims: mc, steal: tc.steal}, arch: arch, down: tc.down}
			var log testenv.SyncBuffer
			now := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
			r, err := webhook.New(context.Background(), webhook.Config{
				Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: claims, Archive: arch, Publisher: ab,
				Log: slog.New(slog.NewTextHandler(&log, nil)), Now: func() time.Time { return now },
			})
			if err != nil {
				t.Fatal(err)
			}
			resp := r.Handle(context.Background(), delivery("d-ap", issuePayload))
			a := decode(t, resp)
			if resp.Status != tc.status || a.Error != tc.errCode {
				t.Fatalf("answer %d %s, want %d %q", resp.Status, resp.Body, tc.status, tc.errCode)
			}
			if ab.calls != tc.calls || len(ab.envelopes()) != tc.published {
				t.Fatalf("CommitPublishAndFinish %d times (want %d), published %d (want %d)", ab.calls, tc.calls, len(ab.envelopes()), tc.published)
			}
			if ab.publishes != 0 || ab.combined != 0 || claims.finishes != 0 || arch.committed != 0 {
				t.Fatalf("the receiver also called Publish %d, PublishAndFinish %d, Finish %d, Commit %d times; want none",
					ab.publishes, ab.combined, claims.finishes, arch.committed)
			}
			for _, ref := range ab.refs {
				if ref.Bucket != "" {
					t.Fatalf("the receiver set the envelope's reference to %+v before CommitPublishAndFinish", ref)
				}
			}
			if tc.status == 200 && arch.len() != 1 {
				t.Fatalf("%d payloads stored, want 1", arch.len())
			}
			if tc.status != 200 {
				if mc.len() != 0 || arch.len() != 0 {
					t.Fatalf("after the failure: %d claims held, %d payloads stored; want none", mc.len(), arch.len())
				}
			}
			if !strings.Contains(log.String(), tc.logged) {
				t.Fatalf("the log does not say %q:\n%s", tc.logged, log.String())
			}

			// GitHub's redelivery, after any lease.
			ab.down, ab.steal, arch.stageDown = false, false, false
			now = now.Add(2 * time.Minute)
			resp = r.Handle(context.Background(), delivery("d-ap", issuePayload))
			a = decode(t, resp)
			if resp.Status != 200 || a.Duplicate != tc.duplicate {
				t.Fatalf("redelivery = %d %s, want 200 duplicate=%v", resp.Status, resp.Body, tc.duplicate)
			}
			wantCalls, wantPublished := tc.calls+1, tc.published+1
			if tc.duplicate {
				wantPublished = tc.published
				wantCalls = tc.calls // a duplicate's payload is discarded, not committed
				if arch.discarded != 1 {
					t.Fatalf("the duplicate's staged payload: discarded %d times, want 1", arch.discarded)
				}
			}
			if ab.calls != wantCalls || len(ab.envelopes()) != wantPublished {
				t.Fatalf("after the redelivery: CommitPublishAndFinish %d times (want %d), published %d (want %d)", ab.calls, wantCalls, len(ab.envelopes()), wantPublished)
			}
		})
	}
}
