package tokens_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// memArchive is a tiny events.Archive for payloads that are not inline.
type memArchive map[string][]byte

func (m memArchive) Put(_ context.Context, key string, body []byte) (events.Ref, error) {
	m[key] = body
	return events.Ref{Bucket: "mem", Key: key}, nil
}

func (m memArchive) Get(_ context.Context, ref events.Ref) ([]byte, error) {
	b, ok := m[ref.Key]
	if !ok {
		return nil, events.ErrNotFound
	}
	return b, nil
}

func TestRevocationDeletesTheUsersToken(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	victim, _ := r.login(v, "octocat")
	bystander, _ := r.login(v, "hubot")
	payload, _ := json.Marshal(map[string]any{"action": "revoked", "sender": map[string]any{"login": "octocat", "id": victim.ID}})
	arch := memArchive{}
	ref, _ := arch.Put(context.Background(), "big.json", payload)
	h := tokens.RevocationHandler{Vault: v, Archive: arch, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()

	cases := []struct {
		name    string
		env     events.Envelope
		deleted bool
	}{
		{"other event is ignored", events.Envelope{Event: "issue_comment", Action: "created", PayloadComplete: true, Payload: payload}, false},
		{"inline revocation", events.Envelope{Event: "github_app_authorization", Action: "revoked", PayloadComplete: true, Payload: payload}, true},
		{"archived revocation", events.Envelope{Event: "github_app_authorization", Action: "revoked", S3Reference: &ref}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.login(v, "octocat")
			c.env.DeliveryID, c.env.ReceivedAt = "d-1", time.Now()
			if err := h.Handle(ctx, &c.env); err != nil {
				t.Fatal(err)
			}
			_, err := v.Token(ctx, victim.ID)
			if got := errors.Is(err, tokens.ErrNotFound); got != c.deleted {
				t.Fatalf("deleted = %v (err %v), want %v", got, err, c.deleted)
			}
			if _, err := v.Token(ctx, bystander.ID); err != nil {
				t.Fatalf("bystander lost their token: %v", err)
			}
		})
	}
	if err := h.Handle(ctx, &events.Envelope{Event: "github_app_authorization", Action: "revoked", PayloadComplete: true, Payload: []byte(`{}`)}); err == nil {
		t.Fatal("a payload without sender id was accepted")
	}
}
