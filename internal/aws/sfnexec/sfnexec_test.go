package sfnexec_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sbalswa/ai3-mvp/internal/aws/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/jobs/executortest"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
)

// TestExecutorContract runs the executor contract on the AWS adapter, its
// real sfn client talking over HTTP to the embedded Step Functions API: the
// same suite the embedded adapter passes, so the two cannot drift.
func TestExecutorContract(t *testing.T) {
	executortest.Run(t, func(t *testing.T) executortest.Env {
		ctx := context.Background()
		tokens := make(chan string, 16)
		x, err := localsfn.New(ctx, localsfn.Options{Handlers: map[string]localsfn.Handler{
			executortest.WaitFunction: executortest.WaitHandler(tokens),
		}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sfnapi.New(x, sfnapi.Options{}))
		t.Cleanup(func() { srv.Close(); x.Close() })
		client := sfnapi.NewClient(srv.URL)
		machines := map[string]string{}
		for name, def := range executortest.Definitions() {
			out, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name),
				Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::000000000000:role/ai3-test")})
			if err != nil {
				t.Fatal(err)
			}
			machines[name] = aws.ToString(out.StateMachineArn)
		}
		return executortest.Env{Exec: &sfnexec.Executor{API: client, Machines: machines}, Tokens: tokens,
			MissingARN: "arn:aws:states:us-east-1:000000000000:execution:" + executortest.Callback + ":missing"}
	})
}

func TestParseMachines(t *testing.T) {
	m, err := sfnexec.ParseMachines(`{"deploy":"arn:aws:states:eu-west-1:1:stateMachine:ai3-deploy"}`)
	if err != nil || m["deploy"] != "arn:aws:states:eu-west-1:1:stateMachine:ai3-deploy" {
		t.Fatalf("got %v, %v", m, err)
	}
	if _, err := sfnexec.ParseMachines(`not json`); err == nil {
		t.Fatal("malformed STATE_MACHINES accepted")
	}
}
