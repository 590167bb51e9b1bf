package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/jobstest"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

func client(endpoint string) *dynamodb.Client {
	return testenv.DynamoDB(endpoint)
}

var tables atomic.Int64

// newTable creates a fresh table on c and returns its name.
func newTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("jobs-%d", tables.Add(1))
	if err := CreateTable(context.Background(), c, name); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestContractAgainstDynalite(t *testing.T) {
	c := client(testenv.Dynalite(t))
	jobstest.Run(t, func(t *testing.T, now func() time.Time) jobs.Store {
		s := New(c, newTable(t, c), Options{Now: now})
		if err := s.Check(context.Background()); err != nil {
			t.Fatalf("Check of a fresh table: %v", err)
		}
		return s
	})
}

// The table dynalite builds from TableInput has the keys and indexes the
// constants name (what the Pulumi program creates from the same constants).
func TestTableLayout(t *testing.T) {
	c := client(testenv.Dynalite(t))
	name := newTable(t, c)
	out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(ks []types.KeySchemaElement) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
		}
		return strings.Join(parts, ",")
	}
	got := []string{"table " + keys(out.Table.KeySchema)}
	for _, ix := range out.Table.GlobalSecondaryIndexes {
		got = append(got, aws.ToString(ix.IndexName)+" "+keys(ix.KeySchema)+" "+string(ix.Projection.ProjectionType))
	}
	want := []string{
		"table " + PartitionKey + ":HASH," + SortKey + ":RANGE",
		ThreadIndex + " " + ThreadAttribute + ":HASH," + CreatedAttribute + ":RANGE KEYS_ONLY",
		CreatedIndex + " " + ListAttribute + ":HASH," + CreatedAttribute + ":RANGE KEYS_ONLY",
	}
	if !sameSet(got, want) {
		t.Fatalf("table layout:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// Bodies over 8 KB are gzipped, smaller ones stay JSON; the 1,000-step
// job's sizes are the figures the package documentation quotes.
func TestBodySizes(t *testing.T) {
	for _, tc := range []struct {
		steps int
		attr  string
	}{{10, attrBody}, {1000, attrBodyGzip}} {
		j := jobstest.Big("big", tc.steps)
		name, v, err := encode(j)
		if err != nil {
			t.Fatal(err)
		}
		if name != tc.attr {
			t.Errorf("%d steps stored in %s, want %s", tc.steps, name, tc.attr)
		}
		back, err := decode(map[string]types.AttributeValue{name: v})
		if err != nil || back.Steps["step-0000"].Link != j.Steps["step-0000"].Link {
			t.Fatalf("decode(encode(%d steps)) = %v", tc.steps, err)
		}
		if b, ok := v.(*types.AttributeValueMemberB); ok {
			js, _ := json.Marshal(j)
			t.Logf("%d steps: %d bytes of JSON, %d gzipped", tc.steps, len(js), len(b.Value))
		} else {
			t.Logf("%d steps: %d bytes of JSON", tc.steps, len(v.(*types.AttributeValueMemberS).Value))
		}
	}
}

// A job too large for an item is refused before DynamoDB is asked, and the
// stored job is unchanged.
func TestTooLarge(t *testing.T) {
	ctx := context.Background()
	c := client(testenv.Dynalite(t))
	s := New(c, newTable(t, c), Options{})
	j := jobstest.Sample("job-1", "octo/app", 7, time.Now())
	if err := s.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	big := j.Clone()
	big.Steps["noise"] = &jobs.Step{Status: jobs.Failed, Cause: incompressible(800 << 10)}
	if err := s.Update(ctx, big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Update of a 800 KB job = %v, want ErrTooLarge", err)
	}
	got, err := s.Get(ctx, "job-1")
	if err != nil || got.Version != 1 || got.Steps["noise"] != nil {
		t.Fatalf("after a refused Update, Get = version %d, %v", got.Version, err)
	}
	big.ID = "job-2"
	if err := s.Create(ctx, big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Create of a 800 KB job = %v, want ErrTooLarge", err)
	}
}

// incompressible returns n letters gzip cannot shrink much.
func incompressible(n int) string {
	b := make([]byte, n)
	x := uint64(88172645463325252)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

// DynamoDB failing: every call is an error, never a silent success or a
// made-up ErrNotFound.
func TestDynamoDBDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`)
	}))
	defer srv.Close()
	s := New(client(srv.URL), "missing", Options{})
	ctx := context.Background()
	j := jobstest.Sample("job-1", "octo/app", 7, time.Now())
	notFound := func(err error) bool { return errors.Is(err, jobs.ErrNotFound) }
	for name, err := range map[string]error{
		"Create":  s.Create(ctx, j.Clone()),
		"Update":  s.Update(ctx, j.Clone()),
		"Get":     second(s.Get(ctx, "job-1")),
		"Latest":  second(s.Latest(ctx, "octo/app", 7)),
		"List":    second(s.List(ctx, 10, time.Time{})),
		"PutRef":  second(s.PutRef(ctx, "k", "v", 0)),
		"GetRef":  second(s.GetRef(ctx, "k")),
		"SwapRef": s.SwapRef(ctx, "k", "v", "w"),
		"Check":   s.Check(ctx),
	} {
		if err == nil || notFound(err) || errors.Is(err, jobs.ErrConflict) {
			t.Errorf("%s against a missing table = %v, want the DynamoDB error", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// BenchmarkUpdate: one read-modify-write (Get, change a step, Update) of a
// 10-step job on dynalite (HTTP to a local Node.js server: it measures the
// adapter plus dynalite, not DynamoDB's latency).
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	c := client(testenv.Dynalite(b))
	s := New(c, newTable(b, c), Options{})
	if err := s.Create(ctx, jobstest.Big("bench", 10)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		j, err := s.Get(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		j.Steps["step-0001"].Attempts++
		if err := s.Update(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
}
