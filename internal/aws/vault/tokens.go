// Package vault holds the DynamoDB adapters of the token vault's ports: the
// user token store and the OAuth state nonce store. Every conditional write
// is a single DynamoDB condition expression, so Lambdas racing on one record
// cannot both win.
package vault

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// API is the part of the DynamoDB client the stores use (*dynamodb.Client
// satisfies it).
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// TokenStore is a tokens.Store on a DynamoDB table whose hash key is the
// string attribute "pk".
type TokenStore struct {
	Client API
	Table  string
}

func userKey(id int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s("user#" + strconv.FormatInt(id, 10))}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Get implements tokens.Store with a strongly consistent read.
func (t *TokenStore) Get(ctx context.Context, userID int64) (tokens.Record, error) {
	out, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Table), Key: userKey(userID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return tokens.Record{}, fmt.Errorf("read token record of user %d: %w", userID, err)
	}
	if out.Item == nil {
		return tokens.Record{}, tokens.ErrNotFound
	}
	return decode(userID, out.Item)
}

func decode(userID int64, it map[string]types.AttributeValue) (tokens.Record, error) {
	r := tokens.Record{UserID: userID}
	str := func(k string) string {
		if v, ok := it[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	num := func(k string) int64 {
		if v, ok := it[k].(*types.AttributeValueMemberN); ok {
			x, _ := strconv.ParseInt(v.Value, 10, 64)
			return x
		}
		return 0
	}
	bin := func(k string) []byte {
		if v, ok := it[k].(*types.AttributeValueMemberB); ok {
			return v.Value
		}
		return nil
	}
	r.Login = str("login")
	if sc := str("scopes"); sc != "" {
		r.Scopes = strings.Split(sc, " ")
	}
	r.AccessExpiresAt, r.RefreshExpiresAt = fromNanos(num("access_expires_at")), fromNanos(num("refresh_expires_at"))
	r.Version = num("version")
	if b, ok := it["reauth_required"].(*types.AttributeValueMemberBOOL); ok {
		r.ReauthRequired = b.Value
	}
	r.WrappedKey, r.Sealed = bin("wrapped_key"), bin("sealed")
	r.LeaseOwner, r.LeaseUntil, r.UpdatedAt = str("lease_owner"), fromNanos(num("lease_until")), fromNanos(num("updated_at"))
	if r.Version == 0 {
		return tokens.Record{}, fmt.Errorf("token record of user %d has no version", userID)
	}
	return r, nil
}

// Put implements tokens.Store: a whole-item replace conditional on the
// version, which also drops the lease attributes.
func (t *TokenStore) Put(ctx context.Context, r tokens.Record, prevVersion int64) error {
	if r.Version != prevVersion+1 {
		return fmt.Errorf("put token record of user %d: version %d does not follow %d", r.UserID, r.Version, prevVersion)
	}
	item := userKey(r.UserID)
	item["login"] = s(r.Login)
	item["scopes"] = s(strings.Join(r.Scopes, " "))
	item["access_expires_at"] = n(nanos(r.AccessExpiresAt))
	item["refresh_expires_at"] = n(nanos(r.RefreshExpiresAt))
	item["version"] = n(r.Version)
	item["reauth_required"] = &types.AttributeValueMemberBOOL{Value: r.ReauthRequired}
	item["updated_at"] = n(nanos(r.UpdatedAt))
	if len(r.WrappedKey) > 0 {
		item["wrapped_key"] = &types.AttributeValueMemberB{Value: r.WrappedKey}
	}
	if len(r.Sealed) > 0 {
		item["sealed"] = &types.AttributeValueMemberB{Value: r.Sealed}
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(t.Table), Item: item}
	if prevVersion == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("version = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": n(prevVersion)}
	}
	if _, err := t.Client.PutItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return fmt.Errorf("put token record of user %d at version %d: %w", r.UserID, prevVersion, tokens.ErrConflict)
		}
		return fmt.Errorf("put token record of user %d: %w", r.UserID, err)
	}
	return nil
}

// Lease implements tokens.Store.
func (t *TokenStore) Lease(ctx context.Context, userID int64, owner string, now, until time.Time) (bool, error) {
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Table), Key: userKey(userID),
		UpdateExpression:    aws.String("SET lease_owner = :o, lease_until = :u"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(lease_owner) OR lease_owner = :o OR lease_until <= :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": s(owner), ":u": n(nanos(until)), ":now": n(nanos(now)),
		},
	})
	if err == nil {
		return true, nil
	}
	if !isConditionFailed(err) {
		return false, fmt.Errorf("lease token record of user %d: %w", userID, err)
	}
	if _, err := t.Get(ctx, userID); err != nil {
		return false, err
	}
	return false, nil
}

// Release implements tokens.Store.
func (t *TokenStore) Release(ctx context.Context, userID int64, owner string) error {
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Table), Key: userKey(userID),
		UpdateExpression:          aws.String("REMOVE lease_owner, lease_until"),
		ConditionExpression:       aws.String("lease_owner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": s(owner)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release lease of user %d: %w", userID, err)
	}
	return nil
}

// Delete implements tokens.Store.
func (t *TokenStore) Delete(ctx context.Context, userID int64) error {
	if _, err := t.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.Table), Key: userKey(userID)}); err != nil {
		return fmt.Errorf("delete token record of user %d: %w", userID, err)
	}
	return nil
}
