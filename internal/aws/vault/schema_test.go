package vault

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// putRecorder is an API that keeps the last item written.
type putRecorder struct {
	API
	item map[string]types.AttributeValue
}

func (p *putRecorder) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	p.item = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

// TestSchemaConstants proves the exported attribute names are the ones the
// stores write, so tables made from them (Pulumi) fit the adapters.
func TestSchemaConstants(t *testing.T) {
	rec := &putRecorder{}
	exp := time.Now().Add(10 * time.Minute)
	if err := (&NonceStore{Client: rec, Table: "states"}).Put(context.Background(), "k", oauth.Nonce{Verifier: "v", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.item[KeyAttribute].(*types.AttributeValueMemberS); !ok {
		t.Errorf("state item has no string %q key: %v", KeyAttribute, rec.item)
	}
	ttl, ok := rec.item[StateTTLAttribute].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("state item has no numeric %q: %v", StateTTLAttribute, rec.item)
	}
	// DynamoDB's TTL reads epoch seconds: a value in nanoseconds would never expire.
	if sec, err := strconv.ParseInt(ttl.Value, 10, 64); err != nil || sec < exp.Unix() || sec > exp.Add(25*time.Hour).Unix() {
		t.Errorf("%s = %s, want epoch seconds at or after the expiry %d", StateTTLAttribute, ttl.Value, exp.Unix())
	}
	rec.item = nil
	if err := (&TokenStore{Client: rec, Table: "tokens"}).Put(context.Background(), tokens.Record{UserID: 7, Login: "u", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	if k, ok := rec.item[KeyAttribute].(*types.AttributeValueMemberS); !ok || k.Value != "user#7" {
		t.Errorf("token item key %q = %v, want user#7", KeyAttribute, rec.item[KeyAttribute])
	}
}
