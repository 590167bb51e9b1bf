package tokens

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// RevocationTarget is the bus target name of RevocationHandler: a routing
// rule for detail-type github_app_authorization must deliver to it.
const RevocationTarget = "app_authorization"

// RevocationHandler is the bus handler for github_app_authorization events:
// when a user revokes the app, GitHub sends action "revoked" and the user's
// record is deleted.
type RevocationHandler struct {
	Vault *Vault
	// Archive reads payloads that were too large to travel inline.
	Archive events.Archive
	Log     *slog.Logger
}

// Name identifies the handler on the bus.
func (h RevocationHandler) Name() string { return RevocationTarget }

// Handle deletes the sender's token on a revoked github_app_authorization and
// ignores every other event.
func (h RevocationHandler) Handle(ctx context.Context, env *events.Envelope) error {
	if env.Event != "github_app_authorization" || env.Action != "revoked" {
		return nil
	}
	body, err := events.Load(ctx, h.Archive, env)
	if err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	var p struct {
		Sender struct {
			ID    int64  `json:"id"`
			Login string `json:"login"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Sender.ID <= 0 {
		return fmt.Errorf("delivery %s: revocation payload has no sender id (err %v)", env.DeliveryID, err)
	}
	if err := h.Vault.Delete(ctx, p.Sender.ID); err != nil {
		return fmt.Errorf("delivery %s: %w", env.DeliveryID, err)
	}
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "user revoked the app; token deleted", "delivery_id", env.DeliveryID, "user_id", p.Sender.ID, "login", p.Sender.Login)
	return nil
}
