// Package stepwire wires internal/steps for the step, workflow-run and
// finalizer Lambdas over the AWS adapters internal/aws/lambdaenv builds from
// the environment (lambdaenv.Shared names what it needs: the job store, the
// token vault, the credentials Lambda, Step Functions, the payload
// archive). What is specific to the steps is here: the user's GitHub write
// budget kept in the jobs table (pace.Pacer), which every Lambda of every
// run shares, and the status comment's flowchart and console link.
package stepwire

import (
	"context"
	"log/slog"

	"github.com/sbalswa/ai3-mvp/internal/aws/lambdaenv"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// Wired is what the Lambdas need.
type Wired struct {
	Service *steps.Service
	Archive events.Archive
	Log     *slog.Logger
}

// FromEnv builds the service from the environment (getenv: os.Getenv). It
// fails, naming what is missing, rather than start half-wired.
func FromEnv(ctx context.Context, getenv func(string) string) (*Wired, error) {
	e, err := lambdaenv.LoadShared(ctx, getenv)
	if err != nil {
		return nil, err
	}
	region := e.Region
	svc := steps.New(steps.Deps{
		Store:         e.Jobs,
		Callbacks:     e.Executor,
		Executions:    e.Executor, // the finalizer's scheduled Reconcile
		Users:         e.Vault,
		Installations: e.Installations,
		APIURL:        e.APIURL,
		BotHandle:     e.Bot,
		Log:           e.Log,
		// One budget per user in the jobs table: every comment write of
		// every Lambda takes its slot there.
		Pacer: &pace.Pacer{Store: e.Jobs, Logger: e.Log},
		Nodes: func(name string) []render.Node {
			if w, err := workflows.Get(name); err == nil {
				return render.NodesOf(w)
			}
			return nil
		},
		ExecutionURL: func(j *jobs.Job) string { return render.ConsoleURL(region, j.ExecutionARN) },
		// AWS sends no status events for EXPRESS executions: their steps end them.
		Express: workflows.Express,
	})
	return &Wired{Service: svc, Archive: e.Archive, Log: e.Log}, nil
}
