package claims_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sbalswa/ai3-mvp/internal/aws/claims"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
	"github.com/sbalswa/ai3-mvp/internal/webhook/webhooktest"
)

func dynaliteClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	return testenv.DynamoDB(testenv.Dynalite(t))
}

func TestContractAgainstDynalite(t *testing.T) {
	client := dynaliteClient(t)
	var n atomic.Int64
	webhooktest.ClaimStore(t, func(t *testing.T) webhook.ClaimStore {
		table := fmt.Sprintf("claims-%d", n.Add(1))
		if err := claims.CreateTable(context.Background(), client, table); err != nil {
			t.Fatal(err)
		}
		return claims.New(client, table)
	})
}

// TestUnavailableTableIsAnError proves a DynamoDB failure surfaces as an
// error (the receiver answers 5xx), never as a claim outcome.
func TestUnavailableTableIsAnError(t *testing.T) {
	client := dynaliteClient(t)
	s := claims.New(client, "no-such-table")
	at := time.Now()
	c := webhook.Claim{Key: "1/d", Token: "a", At: at, LeaseUntil: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)}
	if got, err := s.Claim(context.Background(), c); err == nil {
		t.Fatalf("Claim on a missing table = %s, want an error", got)
	}
	if err := s.Finish(context.Background(), c); err == nil || errors.Is(err, webhook.ErrNotHolder) {
		t.Fatalf("Finish on a missing table = %v, want a non-ErrNotHolder error", err)
	}
	if err := s.Release(context.Background(), c); err == nil {
		t.Fatal("Release on a missing table succeeded")
	}
}
