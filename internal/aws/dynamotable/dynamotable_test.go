package dynamotable_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/aws/dynamotable"
)

// script answers DescribeTable with its tables in turn (the last one
// forever) and counts the calls.
type script struct {
	tables []*types.TableDescription
	err    error
	calls  int
	names  []string
}

func (s *script) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	s.names = append(s.names, aws.ToString(in.TableName))
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return &dynamodb.DescribeTableOutput{Table: s.tables[min(s.calls, len(s.tables))-1]}, nil
}

func table(status types.TableStatus, indexes ...types.IndexStatus) *types.TableDescription {
	t := &types.TableDescription{TableStatus: status}
	for _, ix := range indexes {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{IndexStatus: ix})
	}
	return t
}

func TestWaitActive(t *testing.T) {
	const (
		creating = types.TableStatusCreating
		act      = types.TableStatusActive
		ixNew    = types.IndexStatusCreating
		ixAct    = types.IndexStatusActive
	)
	for _, tc := range []struct {
		name      string
		tables    []*types.TableDescription
		wantCalls int
	}{
		{"active at once", []*types.TableDescription{table(act)}, 1},
		{"creating, then active", []*types.TableDescription{table(creating), table(creating), table(act)}, 3},
		{"no description yet", []*types.TableDescription{nil, table(act)}, 2},
		{"table active before its indexes", []*types.TableDescription{table(act, ixAct, ixNew), table(act, ixNew, ixAct), table(act, ixAct, ixAct)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{tables: tc.tables}
			if err := dynamotable.WaitActive(context.Background(), s, "jobs"); err != nil {
				t.Fatal(err)
			}
			if s.calls != tc.wantCalls {
				t.Fatalf("%d DescribeTable calls, want %d (returned before the table and its indexes were active?)", s.calls, tc.wantCalls)
			}
			for _, n := range s.names {
				if n != "jobs" {
					t.Fatalf("described table %q, want jobs", n)
				}
			}
		})
	}
}

func TestWaitActiveStops(t *testing.T) {
	refused := errors.New("ResourceNotFoundException")
	if err := dynamotable.WaitActive(context.Background(), &script{err: refused}, "jobs"); !errors.Is(err, refused) || !strings.Contains(err.Error(), "describe table jobs") {
		t.Fatalf("WaitActive on a failing DescribeTable = %v, want the error naming the table", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*dynamotable.PollInterval)
	defer cancel()
	start := time.Now()
	err := dynamotable.WaitActive(ctx, &script{tables: []*types.TableDescription{table(types.TableStatusCreating)}}, "jobs")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitActive on a table never active = %v, want the context's deadline", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("WaitActive went on %v after its context ended", waited)
	}
}

func TestCheck(t *testing.T) {
	if err := dynamotable.Check(context.Background(), &script{tables: []*types.TableDescription{table(types.TableStatusActive)}}, "marks"); err != nil {
		t.Fatalf("Check of an answering table = %v", err)
	}
	down := errors.New("connection refused")
	err := dynamotable.Check(context.Background(), &script{err: down}, "marks")
	if !errors.Is(err, down) || err.Error() != "table marks: connection refused" {
		t.Fatalf("Check of a table that does not answer = %v, want %q wrapping the cause", err, "table marks: connection refused")
	}
}
