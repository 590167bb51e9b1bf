package jobs

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
	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// putRefTries bounds PutRef's retries when the holder it was refused by is
// gone before it could be read (expired or deleted in between).
const putRefTries = 5

// A reference is live while it has no expires_ms or expires_ms is after
// now: DynamoDB's TTL deletes expired items up to days late, so the store
// treats them as absent itself.
const liveCondition = "(attribute_not_exists(#exp) OR #exp > :now)"

// PutRef implements jobs.Store with a PutItem on an absent or expired key.
func (s *Store) PutRef(ctx context.Context, key, value string, ttl time.Duration) (string, error) {
	if err := jobs.ValidRef(key, value, ttl); err != nil {
		return "", err
	}
	for range putRefTries {
		now := s.now()
		it := refKey(key)
		it[attrValue] = str(value)
		if ttl > 0 {
			exp := now.Add(ttl).UnixMilli()
			it[attrExpiresMS] = num(exp)
			it[TTLAttribute] = num((exp + 999) / 1000)
		}
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(s.table),
			Item:                      it,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#exp": attrExpiresMS},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixMilli())},
		})
		if err == nil {
			return "", nil
		}
		if !conditionFailed(err) {
			return "", fmt.Errorf("put ref %s: %w", key, err)
		}
		holder, err := s.getRef(ctx, key)
		if errors.Is(err, jobs.ErrNotFound) {
			continue // the holder ended meanwhile: try again
		}
		if err != nil {
			return "", fmt.Errorf("put ref %s: read the holder: %w", key, err)
		}
		return holder, fmt.Errorf("put ref %s: %w", key, jobs.ErrExists)
	}
	return "", fmt.Errorf("put ref %s: the key kept changing hands (%d tries)", key, putRefTries)
}

// GetRef implements jobs.Store with a consistent read.
func (s *Store) GetRef(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", errors.New("get ref: empty key")
	}
	v, err := s.getRef(ctx, key)
	if err != nil {
		return "", fmt.Errorf("get ref %s: %w", key, err)
	}
	return v, nil
}

func (s *Store) getRef(ctx context.Context, key string) (string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: refKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	v, _ := out.Item[attrValue].(*types.AttributeValueMemberS)
	if v == nil {
		return "", jobs.ErrNotFound
	}
	if exp, ok := out.Item[attrExpiresMS].(*types.AttributeValueMemberN); ok {
		ms, err := strconv.ParseInt(exp.Value, 10, 64)
		if err != nil {
			return "", fmt.Errorf("corrupt reference: %s %q", attrExpiresMS, exp.Value)
		}
		if ms <= s.now().UnixMilli() {
			return "", jobs.ErrNotFound
		}
	}
	return v.Value, nil
}

// SwapRef implements jobs.Store: an UpdateItem (or, to delete, a
// DeleteItem) conditioned on the live value old. The ttl is kept.
func (s *Store) SwapRef(ctx context.Context, key, old, value string) error {
	if key == "" {
		return errors.New("swap ref: empty key")
	}
	cond := aws.String("#val = :old AND " + liveCondition)
	names := map[string]string{"#val": attrValue, "#exp": attrExpiresMS}
	values := map[string]types.AttributeValue{":old": str(old), ":now": num(s.now().UnixMilli())}
	var err error
	if value == "" {
		_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.table), Key: refKey(key),
			ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	} else {
		values[":new"] = str(value)
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: refKey(key),
			UpdateExpression:    aws.String("SET #val = :new"),
			ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	}
	if conditionFailed(err) {
		return fmt.Errorf("swap ref %s: %w", key, jobs.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("swap ref %s: %w", key, err)
	}
	return nil
}

// Check reports whether the table answers (the health handler's check).
func (s *Store) Check(ctx context.Context) error {
	if err := dynamotable.Check(ctx, s.api, s.table); err != nil {
		return fmt.Errorf("dynamodb jobs: %w", err)
	}
	return nil
}

func refKey(k string) map[string]types.AttributeValue { return key(refPrefix, k, refSort) }
