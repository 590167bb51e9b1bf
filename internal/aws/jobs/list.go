package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// batchGetMax is the most keys one BatchGetItem takes.
const batchGetMax = 100

// List implements jobs.Store: keys newest first from CreatedIndex, then the
// jobs themselves, read consistently in batches.
func (s *Store) List(ctx context.Context, limit int, before time.Time) ([]*jobs.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs: limit %d: must be positive", limit)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(CreatedIndex),
		KeyConditionExpression:    aws.String("#all = :all"),
		ExpressionAttributeNames:  map[string]string{"#all": ListAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":all": str(ListPartition)},
		ScanIndexForward:          aws.Bool(false),
	}
	if !before.IsZero() {
		// A job created at before sorts after it ("<time>#<id>" > "<time>").
		*in.KeyConditionExpression += " AND #c < :before"
		in.ExpressionAttributeNames["#c"] = CreatedAttribute
		in.ExpressionAttributeValues[":before"] = str(jobs.CreatedKey(before))
	}
	var ids []string
	for len(ids) < limit {
		in.Limit = aws.Int32(int32(min(limit-len(ids), 1000)))
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		for _, it := range out.Items {
			id, err := jobID(it)
			if err != nil {
				return nil, fmt.Errorf("list jobs: %w", err)
			}
			ids = append(ids, id)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	found := make(map[string]*jobs.Job, len(ids))
	for start := 0; start < len(ids); start += batchGetMax {
		if err := s.batchGet(ctx, ids[start:min(start+batchGetMax, len(ids))], found); err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
	}
	out := make([]*jobs.Job, 0, len(ids))
	for _, id := range ids {
		if j := found[id]; j != nil { // jobs are never deleted; a missing one is skipped
			out = append(out, j)
		}
	}
	return out, nil
}

// batchGet reads the jobs ids (at most batchGetMax) into found, asking again
// for the keys DynamoDB leaves unprocessed (throttling, 16 MB answers).
func (s *Store) batchGet(ctx context.Context, ids []string, found map[string]*jobs.Job) error {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(jobPrefix, id, jobSort)
	}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for wait := 10 * time.Millisecond; len(req) > 0; wait = min(2*wait, time.Second) {
		out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return err
		}
		for _, it := range out.Responses[s.table] {
			j, err := decode(it)
			if err != nil {
				return err
			}
			found[j.ID] = j
		}
		req = out.UnprocessedKeys
		if len(req) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil
}

// jobID is the id of the job whose key (from an index) is it.
func jobID(it map[string]types.AttributeValue) (string, error) {
	pk, _ := it[PartitionKey].(*types.AttributeValueMemberS)
	if pk == nil {
		return "", fmt.Errorf("index item without %s", PartitionKey)
	}
	id, ok := strings.CutPrefix(pk.Value, jobPrefix)
	if !ok {
		return "", fmt.Errorf("index item %q is not a job", pk.Value)
	}
	return id, nil
}
