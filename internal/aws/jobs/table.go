// Package jobs is the AWS shape's jobs.Store: jobs and small references
// (locks, index entries) as items of one DynamoDB table, written only with
// condition expressions.
//
// # Table layout
//
// One table, partition key pk (S) and sort key sk (S), time-to-live on
// expires_at (N, epoch seconds), and two global secondary indexes:
//
//	item        pk          sk     other attributes
//	job         job#<id>    job    thread, created, pk_all, version, body | body_gz
//	reference   ref#<key>   ref    value, expires_ms, expires_at (when it has a ttl)
//
//	index       partition              sort      serves
//	by_thread   thread ("o/n#7")       created   Latest: newest job of a thread
//	by_created  pk_all (always "job")  created   List: every job, newest first
//
// created is CreatedAt in UTC at a fixed width (RFC 3339, nanoseconds) then
// "#<id>", so text order is time order and two jobs of one instant still
// have distinct, stable positions. References have neither attribute, so
// neither index holds them (sparse indexes).
//
// Why by_created has one constant partition: List must order every job by
// time, and DynamoDB orders only within a partition. The price is that
// partition's ceiling, about 1,000 index writes a second; an index is
// written only when an item's index keys change — once per job, at Create,
// since Update keeps thread and created — so that is 1,000 new jobs a
// second, far above the rate anyone asks the bot for workflows. Both
// indexes project only keys (KEYS_ONLY): Update, which rewrites the body,
// then writes no index at all, and the jobs an index finds are read from the
// table with a consistent read, so Latest and List hand out current
// versions. Index membership itself is eventually consistent in DynamoDB: a
// job appears in Latest and List a moment (typically under a second) after
// Create returns. Pagination by a time (List's before) needs no cursor.
//
// # Size limit
//
// A DynamoDB item holds at most 400 KB. A job is stored as one compact JSON
// attribute, body, or gzipped in body_gz when its JSON is over 8 KB.
// Create and Update refuse, with ErrTooLarge, a job whose stored body would
// be over MaxBody. A 1,000-step job with a link and a detail line per step
// is about 136 KB of JSON and 11 KB gzipped (measured by TestBodySizes;
// real details compress less than its synthetic ones).
//
// Wiring (a Lambda):
//
//	s := jobs.New(dynamodb.NewFromConfig(cfg), os.Getenv("JOBS_TABLE"), jobs.Options{})
package jobs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/aws/dynamotable"
)

// The table's key, time-to-live and index names: the Pulumi program and the
// tests read these (through TableInput where they can).
const (
	// PartitionKey is the table's partition key (S).
	PartitionKey = "pk"
	// SortKey is the table's sort key (S).
	SortKey = "sk"
	// TTLAttribute is the attribute the table's time-to-live is enabled
	// on (N, epoch seconds).
	TTLAttribute = "expires_at"

	// ThreadIndex finds a thread's jobs by time (Latest).
	ThreadIndex = "by_thread"
	// ThreadAttribute is ThreadIndex's partition key (S, "owner/name#number").
	ThreadAttribute = "thread"
	// CreatedAttribute is both indexes' sort key (S, fixed-width UTC
	// RFC 3339 with nanoseconds, then "#<id>").
	CreatedAttribute = "created"
	// CreatedIndex finds every job by time (List).
	CreatedIndex = "by_created"
	// ListAttribute is CreatedIndex's partition key (S); every job holds
	// ListPartition in it.
	ListAttribute = "pk_all"
	// ListPartition is ListAttribute's one value.
	ListPartition = "job"
)

// Attributes of the items besides the keys.
const (
	attrVersion   = "version"
	attrBody      = "body"    // S: the job's JSON
	attrBodyGzip  = "body_gz" // B: the job's JSON, gzipped
	attrValue     = "value"
	attrExpiresMS = "expires_ms" // N, unix ms: the exact expiry (DynamoDB's TTL deletes days late)

	jobPrefix = "job#"
	refPrefix = "ref#"
	jobSort   = "job"
	refSort   = "ref"
)

// TableInput is the table the store expects: its keys and both indexes, on
// on-demand billing. Time-to-live (TTLAttribute) is enabled separately
// (UpdateTimeToLive, or the Pulumi table's ttl block).
func TableInput(name string) *dynamodb.CreateTableInput {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	index := func(name, hash string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName:  aws.String(name),
			KeySchema:  keys(hash, CreatedAttribute),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			s(PartitionKey), s(SortKey), s(ThreadAttribute), s(CreatedAttribute), s(ListAttribute),
		},
		KeySchema:              keys(PartitionKey, SortKey),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{index(ThreadIndex, ThreadAttribute), index(CreatedIndex, ListAttribute)},
	}
}

// TableCreator is the part of the DynamoDB client CreateTable uses.
type TableCreator interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates TableInput(name) and waits until the table and its
// indexes are active (tests, local tooling; Pulumi creates the real one).
func CreateTable(ctx context.Context, c TableCreator, name string) error {
	if _, err := c.CreateTable(ctx, TableInput(name)); err != nil {
		return fmt.Errorf("dynamodb jobs: create table %s: %w", name, err)
	}
	if err := dynamotable.WaitActive(ctx, c, name); err != nil {
		return fmt.Errorf("dynamodb jobs: %w", err)
	}
	return nil
}
