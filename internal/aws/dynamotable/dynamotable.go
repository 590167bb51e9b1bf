// Package dynamotable holds what ai3's DynamoDB adapters do alike with their
// tables: check that a table answers (the health handler's check) and wait
// until a table they created (tests, local tooling; Pulumi creates the real
// ones) is active with its indexes.
package dynamotable

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Describer is the part of the DynamoDB client this package uses.
type Describer interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// PollInterval is how often WaitActive asks for the table's state.
const PollInterval = 50 * time.Millisecond

// Check reports whether table answers a DescribeTable.
func Check(ctx context.Context, api Describer, table string) error {
	if _, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		return fmt.Errorf("table %s: %w", table, err)
	}
	return nil
}

// WaitActive asks every PollInterval until table and all its global
// secondary indexes are ACTIVE; it returns ctx's error if ctx ends first.
func WaitActive(ctx context.Context, api Describer, table string) error {
	for {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", table, err)
		}
		if active(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(PollInterval):
		}
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, ix := range t.GlobalSecondaryIndexes {
		if ix.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}
