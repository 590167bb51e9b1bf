// Package claims is the DynamoDB webhook.ClaimStore: one item per hook id +
// delivery id, written only with condition expressions, forgotten by the
// table's TTL on expires_at.
package claims

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// Attribute names of a claim item. expires_at (unix seconds) is the table's
// TTL attribute; lease_until is unix milliseconds.
const (
	attrKey        = "pk"
	attrState      = "state"
	attrToken      = "token"
	attrLeaseUntil = "lease_until"
	attrExpiresAt  = "expires_at"

	// TTLAttribute is the attribute the table's time-to-live is enabled on.
	TTLAttribute = attrExpiresAt
	// KeyAttribute is the table's partition key (a string).
	KeyAttribute = attrKey
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Store keeps claims in one DynamoDB table.
type Store struct {
	api   API
	table string
}

var _ webhook.ClaimStore = (*Store)(nil)

// New returns a store over table (partition key "pk", a string).
func New(api API, table string) *Store { return &Store{api: api, table: table} }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// names maps the placeholders of the holder condition (state and token are
// DynamoDB reserved words).
func holderNames() map[string]string { return map[string]string{"#st": attrState, "#tok": attrToken} }

// Claim implements webhook.ClaimStore with a conditional PutItem that only
// succeeds when the key is absent, expired, or processing with an ended lease.
func (s *Store) Claim(ctx context.Context, c webhook.Claim) (webhook.Outcome, error) {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrKey:        str(c.Key),
			attrState:      str("processing"),
			attrToken:      str(c.Token),
			attrLeaseUntil: num(c.LeaseUntil.UnixMilli()),
			attrExpiresAt:  num(c.ExpiresAt.Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(" + attrKey + ") OR " + attrExpiresAt + " <= :now_s OR (#st = :processing AND " + attrLeaseUntil + " <= :now_ms)"),
		ExpressionAttributeNames: map[string]string{"#st": attrState},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now_s":      num(c.At.Unix()),
			":now_ms":     num(c.At.UnixMilli()),
			":processing": str("processing"),
		},
	})
	if err == nil {
		return webhook.Acquired, nil
	}
	if !conditionFailed(err) {
		return 0, fmt.Errorf("claim %s: %w", c.Key, err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrKey: str(c.Key)},
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#st"),
		ExpressionAttributeNames: map[string]string{"#st": attrState},
	})
	if err != nil {
		return 0, fmt.Errorf("claim %s: read holder: %w", c.Key, err)
	}
	if st, ok := out.Item[attrState].(*types.AttributeValueMemberS); ok && st.Value == "done" {
		return webhook.Duplicate, nil
	}
	// Processing, or released between our two calls: someone else is on it.
	return webhook.InProgress, nil
}

// Finish implements webhook.ClaimStore.
func (s *Store) Finish(ctx context.Context, c webhook.Claim) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{attrKey: str(c.Key)},
		UpdateExpression:          aws.String("SET #st = :done"),
		ConditionExpression:       aws.String("#tok = :token AND #st = :processing"),
		ExpressionAttributeNames:  holderNames(),
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": str("done"), ":token": str(c.Token), ":processing": str("processing")},
	})
	if conditionFailed(err) {
		return fmt.Errorf("finish claim %s: %w", c.Key, webhook.ErrNotHolder)
	}
	if err != nil {
		return fmt.Errorf("finish claim %s: %w", c.Key, err)
	}
	return nil
}

// Release implements webhook.ClaimStore.
func (s *Store) Release(ctx context.Context, c webhook.Claim) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{attrKey: str(c.Key)},
		ConditionExpression:       aws.String("#tok = :token AND #st = :processing"),
		ExpressionAttributeNames:  holderNames(),
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": str(c.Token), ":processing": str("processing")},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("release claim %s: %w", c.Key, err)
	}
	return nil
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// CreateTable creates a claims table the way the infrastructure does
// (on-demand, partition key "pk") and waits until it is active. Tests and
// local setups use it; production tables come from Pulumi.
func CreateTable(ctx context.Context, api *dynamodb.Client, table string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	return nil
}
