// Command comment is the Lambda target of the "comments" EventBridge rule:
// it runs the commands of comments that mention the bot (internal/commands),
// once per delivery, acting with the requesting user's own token. Its
// environment is internal/aws/lambdaenv's (names and ARNs only).
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sbalswa/ai3-mvp/internal/aws/lambdaenv"
	"github.com/sbalswa/ai3-mvp/internal/commands"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/workflows"
)

func main() {
	ctx := context.Background()
	e, err := lambdaenv.Load(ctx, os.Getenv, "STATE_MACHINES")
	if err != nil {
		os.Stderr.WriteString("comment cannot start: " + err.Error() + "\n")
		os.Exit(1)
	}
	region := e.Region
	renderJob := func(j *jobs.Job) string {
		var nodes []render.Node
		if w, err := workflows.Get(j.Workflow); err == nil {
			nodes = render.NodesOf(w)
		}
		return render.Status(j, nodes, render.Options{Now: time.Now(), Bot: e.Bot,
			ExecutionURL: render.ConsoleURL(region, j.ExecutionARN)})
	}
	pacer := &pace.Pacer{Store: e.Jobs, Logger: e.Log}
	auth := &githubapp.Authorizer{Org: e.Org, Installations: e.Installations, Tokens: e.Vault, APIURL: e.APIURL}
	deps := &commands.Deps{Bot: e.Bot, Jobs: e.Jobs, Executor: e.Executor, Authorizer: auth, Tokens: e.Vault,
		LoginURL: e.LoginURL, Render: renderJob, Log: e.Log,
		JobURL: func(j *jobs.Job) string { return render.ConsoleURL(region, j.ExecutionARN) },
		// The user's one write budget, shared with the steps' comment updates.
		Pacer: pacer}
	h := &commands.Handler{Bot: e.Bot, AppID: e.AppID, Registry: commands.NewRegistry(deps), Authorizer: auth,
		Tokens: e.Vault, Archive: e.Archive, LoginURL: e.LoginURL, Log: e.Log, Pacer: pacer,
		GitHub: githubapp.Clients{Users: e.Vault, Installations: e.Installations, APIURL: e.APIURL}}
	lambda.Start(monitor.EventBridgeHandler(e.Log, events.Once(e.Marks, h, 0)))
}
