package sfnexec_test

import (
	"context"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/jobs/executortest"
	"github.com/sbalswa/ai3-mvp/internal/local/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

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
		t.Cleanup(func() { x.Close() })
		e := sfnexec.New(x)
		for name, def := range executortest.Definitions() {
			if err := e.Deploy(ctx, name, def, localsfn.Standard); err != nil {
				t.Fatal(err)
			}
		}
		return executortest.Env{Exec: e, Tokens: tokens,
			MissingARN: "arn:aws:states:us-east-1:000000000000:execution:" + executortest.Callback + ":missing"}
	})
}
