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

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Options configure the store; the zero value is usable.
type Options struct {
	// Now is the store's clock (a zero CreatedAt, references' ttl);
	// default time.Now.
	Now func() time.Time
}

// Store keeps jobs and references in one DynamoDB table laid out as the
// package documentation says. It is safe for concurrent use.
type Store struct {
	api   API
	table string
	now   func() time.Time
}

var _ jobs.Store = (*Store)(nil)

// New returns the store over table (see TableInput).
func New(api API, table string, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{api: api, table: table, now: opts.Now}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func key(prefix, id, sort string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{PartitionKey: str(prefix + id), SortKey: str(sort)}
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// item is j's table item.
func item(j *jobs.Job) (map[string]types.AttributeValue, error) {
	it := key(jobPrefix, j.ID, jobSort)
	it[ThreadAttribute] = str(jobs.ThreadKey(j.Thread.Repo, j.Thread.Number))
	it[CreatedAttribute] = str(jobs.CreatedKey(j.CreatedAt) + "#" + j.ID)
	it[ListAttribute] = str(ListPartition)
	it[attrVersion] = num(j.Version)
	name, body, err := encode(j)
	if err != nil {
		return nil, err
	}
	it[name] = body
	return it, nil
}

// Create implements jobs.Store with a PutItem on an absent key.
func (s *Store) Create(ctx context.Context, j *jobs.Job) error {
	if err := jobs.Validate(j); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	c := j.Clone()
	c.Version = 1
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	it, err := item(c)
	if err != nil {
		return fmt.Errorf("create job %s: %w", j.ID, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	})
	if conditionFailed(err) {
		return fmt.Errorf("create job %s: %w", j.ID, jobs.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create job %s: %w", j.ID, err)
	}
	j.Version, j.CreatedAt = 1, c.CreatedAt
	return nil
}

// Update implements jobs.Store with a PutItem conditioned on the version read.
func (s *Store) Update(ctx context.Context, j *jobs.Job) error {
	if err := jobs.Validate(j); err != nil {
		return fmt.Errorf("update job: %w", err)
	}
	c := j.Clone()
	c.Version++
	it, err := item(c)
	if err != nil {
		return fmt.Errorf("update job %s: %w", j.ID, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      it,
		ConditionExpression:       aws.String("#v = :read"),
		ExpressionAttributeNames:  map[string]string{"#v": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":read": num(j.Version)},
	})
	if err == nil {
		j.Version = c.Version
		return nil
	}
	if !conditionFailed(err) {
		return fmt.Errorf("update job %s: %w", j.ID, err)
	}
	// The condition also fails on an absent item: tell the two apart.
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(jobPrefix, j.ID, jobSort), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#v"), ExpressionAttributeNames: map[string]string{"#v": attrVersion},
	})
	switch {
	case err != nil:
		return fmt.Errorf("update job %s: version changed or job gone, and reading it failed: %w", j.ID, err)
	case out.Item == nil:
		return fmt.Errorf("update job %s: %w", j.ID, jobs.ErrNotFound)
	default:
		return fmt.Errorf("update job %s at version %d: %w", j.ID, j.Version, jobs.ErrConflict)
	}
}

// Get implements jobs.Store with a consistent read.
func (s *Store) Get(ctx context.Context, id string) (*jobs.Job, error) {
	if id == "" {
		return nil, errors.New("get job: empty id")
	}
	j, err := s.get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", id, err)
	}
	return j, nil
}

func (s *Store) get(ctx context.Context, id string) (*jobs.Job, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(jobPrefix, id, jobSort), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if out.Item == nil {
		return nil, jobs.ErrNotFound
	}
	return decode(out.Item)
}

// Latest implements jobs.Store: the thread's newest key from ThreadIndex,
// then the job itself with a consistent read.
func (s *Store) Latest(ctx context.Context, repo string, number int) (*jobs.Job, error) {
	if repo == "" {
		return nil, errors.New("latest job: empty repository")
	}
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(ThreadIndex),
		KeyConditionExpression:    aws.String("#t = :t"),
		ExpressionAttributeNames:  map[string]string{"#t": ThreadAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(jobs.ThreadKey(repo, number))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return nil, fmt.Errorf("latest job of %s#%d: %w", repo, number, err)
	}
	if len(out.Items) == 0 {
		return nil, fmt.Errorf("latest job of %s#%d: %w", repo, number, jobs.ErrNotFound)
	}
	id, err := jobID(out.Items[0])
	if err != nil {
		return nil, fmt.Errorf("latest job of %s#%d: %w", repo, number, err)
	}
	j, err := s.get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("latest job of %s#%d: %w", repo, number, err)
	}
	return j, nil
}
