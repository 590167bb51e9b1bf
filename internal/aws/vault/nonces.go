package vault

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
)

// NonceStore is an oauth.NonceStore on a DynamoDB table whose hash key is the
// string attribute "pk". Items carry "expires_ttl" (epoch seconds) equal to
// the state's expiry, so the table's TTL removes a state as soon as it can no
// longer be used (Consume checks expires_at itself, since TTL deletion lags).
type NonceStore struct {
	Client API
	Table  string
}

func stateKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s("state#" + key)}
}

// Put implements oauth.NonceStore.
func (ns *NonceStore) Put(ctx context.Context, key string, nonce oauth.Nonce) error {
	item := stateKey(key)
	item["verifier"] = s(nonce.Verifier)
	item["browser"] = s(nonce.Browser)
	item["expires_at"] = n(nonce.ExpiresAt.UnixNano())
	item["expires_ttl"] = n(nonce.ExpiresAt.Unix())
	_, err := ns.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(ns.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if isConditionFailed(err) {
		return oauth.ErrStateExists
	}
	if err != nil {
		return fmt.Errorf("store login state: %w", err)
	}
	return nil
}

// Consume implements oauth.NonceStore with one conditional UpdateItem that
// sets used_at only if it is absent.
func (ns *NonceStore) Consume(ctx context.Context, key string, now time.Time) (oauth.Nonce, error) {
	out, err := ns.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(ns.Table), Key: stateKey(key),
		UpdateExpression:          aws.String("SET used_at = :now"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(used_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.UnixNano())},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		got, gerr := ns.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(ns.Table), Key: stateKey(key), ConsistentRead: aws.Bool(true)})
		switch {
		case gerr != nil:
			return oauth.Nonce{}, fmt.Errorf("consume login state: %w", gerr)
		case got.Item == nil:
			return oauth.Nonce{}, oauth.ErrStateUnknown
		}
		return oauth.Nonce{}, oauth.ErrStateUsed
	}
	if err != nil {
		return oauth.Nonce{}, fmt.Errorf("consume login state: %w", err)
	}
	var nonce oauth.Nonce
	if v, ok := out.Attributes["verifier"].(*types.AttributeValueMemberS); ok {
		nonce.Verifier = v.Value
	}
	if v, ok := out.Attributes["browser"].(*types.AttributeValueMemberS); ok {
		nonce.Browser = v.Value
	}
	if v, ok := out.Attributes["expires_at"].(*types.AttributeValueMemberN); ok {
		x, _ := strconv.ParseInt(v.Value, 10, 64)
		nonce.ExpiresAt = time.Unix(0, x).UTC()
	}
	if !now.Before(nonce.ExpiresAt) {
		return oauth.Nonce{}, oauth.ErrStateExpired
	}
	return nonce, nil
}
