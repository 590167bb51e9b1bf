package marks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/markstest"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

func client(endpoint string) *dynamodb.Client {
	return testenv.DynamoDB(endpoint)
}

func TestContractAgainstDynalite(t *testing.T) {
	c := client(testenv.Dynalite(t))
	var n atomic.Int64
	markstest.Run(t, func(t *testing.T, retention time.Duration) events.Marks {
		table := fmt.Sprintf("marks-%d", n.Add(1))
		if err := CreateTable(context.Background(), c, table); err != nil {
			t.Fatal(err)
		}
		s := New(c, table, Options{Retention: retention})
		if err := s.Check(context.Background()); err != nil {
			t.Fatalf("Check of a fresh table: %v", err)
		}
		return s
	})
}

// DynamoDB failing: every call is an error, never a silent "acquired".
func TestDynamoDBDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`)
	}))
	defer srv.Close()
	s := New(client(srv.URL), "missing", Options{})
	ctx := context.Background()
	if st, err := s.Acquire(ctx, "k", time.Minute); err == nil {
		t.Errorf("Acquire = %v, nil against a missing table", st)
	}
	if err := s.Done(ctx, "k"); err == nil {
		t.Error("Done succeeded against a missing table")
	}
	if err := s.Release(ctx, "k"); err == nil {
		t.Error("Release succeeded against a missing table")
	}
	if err := s.Check(ctx); err == nil {
		t.Error("Check succeeded against a missing table")
	}
}
