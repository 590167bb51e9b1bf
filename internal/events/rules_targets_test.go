package events_test

import (
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// The revocation handler subscribes under tokens.RevocationTarget; if the
// rule's target drifted from it, revocations would be routed to no one.
func TestRevocationRuleReachesTheRevocationHandler(t *testing.T) {
	if events.TargetAppAuthorization != tokens.RevocationTarget {
		t.Fatalf("rule target %q, revocation handler subscribes as %q", events.TargetAppAuthorization, tokens.RevocationTarget)
	}
	got := events.Targets(events.Rules(), &events.Envelope{Event: "github_app_authorization", Action: "revoked"})
	want := map[string]bool{events.TargetStub: true, tokens.RevocationTarget: true}
	if len(got) != len(want) || !want[got[0]] || !want[got[1]] {
		t.Fatalf("github_app_authorization routes to %v, want the stub and %s", got, tokens.RevocationTarget)
	}
}
