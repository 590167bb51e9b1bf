package sfnapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
)

// api is one executor behind the API, and an SDK client for it.
type api struct {
	ex     *localsfn.Executor
	srv    *httptest.Server
	client *sfn.Client
}

// newAPI serves a new executor (opts as given; region and account default)
// and returns an SDK client with static credentials pointed at it.
func newAPI(t testing.TB, opts localsfn.Options) *api {
	t.Helper()
	ex, err := localsfn.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	a := &api{ex: ex}
	a.srv = httptest.NewServer(sfnapi.New(ex, sfnapi.Options{Region: opts.Region, Account: opts.Account}))
	t.Cleanup(func() { a.srv.Close(); ex.Close() })
	a.client = sfnapi.NewClient(a.srv.URL)
	return a
}

const role = "arn:aws:iam::000000000000:role/test"

// create makes a STANDARD (or typ) machine and returns its ARN.
func (a *api) create(t testing.TB, name, def string, typ types.StateMachineType) string {
	t.Helper()
	out, err := a.client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role), Type: typ,
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

// start starts an execution and returns its ARN.
func (a *api) start(t testing.TB, machine, name, input string) string {
	t.Helper()
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := a.client.StartExecution(context.Background(), in)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return aws.ToString(out.ExecutionArn)
}

// waitStatus polls DescribeExecution until the execution leaves RUNNING.
func (a *api) waitDone(t testing.TB, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := a.client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("describe %s: %v", arn, err)
		}
		if d.Status != types.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still RUNNING after 20 s", arn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// history reads the whole history, page by page.
func (a *api) history(t testing.TB, arn string) []types.HistoryEvent {
	t.Helper()
	var all []types.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(a.client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("history of %s: %v", arn, err)
		}
		all = append(all, page.Events...)
	}
	return all
}

func eventTypes(events []types.HistoryEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e.Type)
	}
	return out
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
