// Package marks is the AWS shape's events.Marks: handler idempotency marks in
// a DynamoDB table with partition key "key" (S) and TTL on "expires_at"
// (epoch seconds). Pulumi creates the table; CreateTable exists for tests
// and local tooling.
//
// Wiring (a handler Lambda):
//
//	m := marks.New(dynamodb.NewFromConfig(cfg), os.Getenv("MARKS_TABLE"), marks.Options{})
//	h := events.Once(m, handler, 0)
package marks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/aws/dynamotable"
	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Attribute names of the table.
const (
	KeyAttribute = "key"        // partition key (S)
	TTLAttribute = "expires_at" // DynamoDB TTL, epoch seconds (N)
)

// DefaultRetention is how long a done mark is kept.
const DefaultRetention = 7 * 24 * time.Hour

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Options configure the store.
type Options struct {
	Retention time.Duration // default DefaultRetention
}

// Store keeps marks in one DynamoDB table.
type Store struct {
	client    DynamoDB
	table     string
	retention time.Duration
}

// New returns the store over table.
func New(client DynamoDB, table string, opts Options) *Store {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	return &Store{client: client, table: table, retention: opts.Retention}
}

// item builds a mark. expires_ms is the exact expiry the conditions use;
// expires_at (seconds, rounded up) is for DynamoDB's TTL sweeper, which may
// run days late, so expired items are also treated as absent explicitly.
func item(key, state string, leaseUntil, expires time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		KeyAttribute:  &types.AttributeValueMemberS{Value: key},
		"state":       &types.AttributeValueMemberS{Value: state},
		"lease_until": num(leaseUntil.UnixMilli()),
		"expires_ms":  num(expires.UnixMilli()),
		TTLAttribute:  num((expires.UnixMilli() + 999) / 1000),
	}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: key}}
}

// Acquire takes key with a conditional put: absent, expired, or processing
// with an expired lease.
func (s *Store) Acquire(ctx context.Context, key string, lease time.Duration) (events.MarkState, error) {
	if key == "" {
		return 0, errors.New("dynamodb marks: empty key")
	}
	if lease <= 0 {
		return 0, fmt.Errorf("dynamodb marks: acquire %s: lease must be positive", key)
	}
	now := time.Now()
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item(key, "processing", now.Add(lease), now.Add(max(lease, s.retention))),
		ConditionExpression: aws.String("attribute_not_exists(#k) OR expires_ms <= :now OR (#s = :processing AND lease_until <= :now)"),
		ExpressionAttributeNames: map[string]string{
			"#k": KeyAttribute, "#s": "state",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":        num(now.UnixMilli()),
			":processing": &types.AttributeValueMemberS{Value: "processing"},
		},
	})
	if err == nil {
		return events.MarkAcquired, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return 0, fmt.Errorf("dynamodb marks: acquire %s: %w", key, err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("dynamodb marks: acquire %s: read holder: %w", key, err)
	}
	if st, ok := out.Item["state"].(*types.AttributeValueMemberS); ok && st.Value == "done" {
		return events.MarkDone, nil
	}
	return events.MarkBusy, nil
}

// Done records key as finished for the retention period.
func (s *Store) Done(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("dynamodb marks: empty key")
	}
	now := time.Now()
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item(key, "done", time.UnixMilli(0), now.Add(s.retention))})
	if err != nil {
		return fmt.Errorf("dynamodb marks: done %s: %w", key, err)
	}
	return nil
}

// Release deletes an unfinished mark; a done mark is kept.
func (s *Store) Release(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("dynamodb marks: empty key")
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf(key),
		ConditionExpression:       aws.String("#s = :processing"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":processing": &types.AttributeValueMemberS{Value: "processing"}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("dynamodb marks: release %s: %w", key, err)
	}
	return nil
}

// Check reports whether the table answers (the health handler's check).
func (s *Store) Check(ctx context.Context) error {
	if err := dynamotable.Check(ctx, s.client, s.table); err != nil {
		return fmt.Errorf("dynamodb marks: %w", err)
	}
	return nil
}

// TableCreator is the part of the DynamoDB client CreateTable uses.
type TableCreator interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates the marks table (on-demand billing) and waits until it
// is active. Production tables come from Pulumi with the same key and TTL.
func CreateTable(ctx context.Context, c TableCreator, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(KeyAttribute), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return fmt.Errorf("dynamodb marks: create table %s: %w", table, err)
	}
	if err := dynamotable.WaitActive(ctx, c, table); err != nil {
		return fmt.Errorf("dynamodb marks: %w", err)
	}
	return nil
}
