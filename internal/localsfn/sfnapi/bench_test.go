package sfnapi_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// tenStates is a chain of ten Pass states.
func tenStates() string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range 10 {
		if i > 0 {
			b.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == 9 {
			next = `"End":true`
		}
		fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Parameters":{"step":%d,"in.$":"$"},"OutputPath":"$.in",%s}`, i, i, next)
	}
	b.WriteString("}}")
	return b.String()
}

// BenchmarkStartExecutionRoundTrip measures, over HTTP with the SDK,
// StartExecution of a 10-state machine followed by DescribeExecution until
// it reports SUCCEEDED.
func BenchmarkStartExecutionRoundTrip(b *testing.B) {
	for _, durable := range []bool{false, true} {
		name := "memory"
		if durable {
			name = "sqlite"
		}
		b.Run(name, func(b *testing.B) {
			opts := localsfn.Options{}
			if durable {
				db, err := localsfn.OpenDB(context.Background(), filepath.Join(b.TempDir(), "sfn.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				opts.DB = db
			}
			a := newAPI(b, opts)
			ctx := context.Background()
			m := a.create(b, "ten", tenStates(), "")
			in := &sfn.StartExecutionInput{StateMachineArn: aws.String(m), Input: aws.String(`{"n":1}`)}
			for b.Loop() {
				out, err := a.client.StartExecution(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				for {
					d, err := a.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
					if err != nil {
						b.Fatal(err)
					}
					if d.Status == types.ExecutionStatusSucceeded {
						break
					}
					if d.Status != types.ExecutionStatusRunning {
						b.Fatalf("status %s", d.Status)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
		})
	}
}

// BenchmarkGetExecutionHistory10k reads, with the SDK's paginator (1,000
// events a page), the whole history of a finished durable execution of
// 10,000 events (a Map of 2,499 Pass iterations).
func BenchmarkGetExecutionHistory10k(b *testing.B) {
	ctx := context.Background()
	db, err := localsfn.OpenDB(ctx, filepath.Join(b.TempDir(), "sfn.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	a := newAPI(b, localsfn.Options{DB: db})
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
	items := make([]string, 2499)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	m := a.create(b, "big", def, "")
	arn := a.start(b, m, "", "["+strings.Join(items, ",")+"]")
	if d := a.waitDone(b, arn); d.Status != types.ExecutionStatusSucceeded {
		b.Fatalf("status %s", d.Status)
	}
	total := 0
	for b.Loop() {
		total = len(a.history(b, arn))
	}
	if total < 10000 {
		b.Fatalf("history of %d events, want 10,000", total)
	}
	b.ReportMetric(float64(total), "events")
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
