package vault_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/oauth/oauthtest"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/internal/tokens/tokenstest"
)

var tableSeq atomic.Int64

// newTable creates a fresh table (hash key "pk") in a shared dynalite.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("ai3-test-%d", tableSeq.Add(1))
	ctx := context.Background()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	if err := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table: %v", err)
	}
	return name
}

func dynalite(t *testing.T) *dynamodb.Client {
	return testenv.DynamoDB(testenv.Dynalite(t))
}

func TestTokenStoreContract(t *testing.T) {
	client := dynalite(t)
	tokenstest.RunStore(t, func(t *testing.T) tokens.Store {
		return &vault.TokenStore{Client: client, Table: newTable(t, client)}
	})
}

func TestNonceStoreContract(t *testing.T) {
	client := dynalite(t)
	oauthtest.RunNonceStore(t, func(t *testing.T) oauth.NonceStore {
		return &vault.NonceStore{Client: client, Table: newTable(t, client)}
	})
}

// TestNonceTTLIsTheExpiry: the table's TTL attribute of a login state is
// its expiry itself (not a day later), so states that were never used, such
// as those a flood of /oauth/login requests leaves, are removed as soon as
// DynamoDB's TTL runs; the browser binding is stored as its hash.
func TestNonceTTLIsTheExpiry(t *testing.T) {
	client := dynalite(t)
	ns := &vault.NonceStore{Client: client, Table: newTable(t, client)}
	exp := time.Date(2026, 12, 4, 12, 10, 0, 0, time.UTC)
	if err := ns.Put(context.Background(), "k", oauth.Nonce{Verifier: "v", Browser: oauth.BrowserKey("c"), ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(ns.Table)})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("scan: %v", err)
	}
	ttl, _ := out.Items[0]["expires_ttl"].(*types.AttributeValueMemberN)
	browser, _ := out.Items[0]["browser"].(*types.AttributeValueMemberS)
	if ttl == nil || ttl.Value != fmt.Sprint(exp.Unix()) || browser == nil || browser.Value != oauth.BrowserKey("c") {
		t.Fatalf("item %v: want expires_ttl %d and the browser key", out.Items[0], exp.Unix())
	}
}
