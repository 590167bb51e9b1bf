package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/commands"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	localjobs "github.com/sbalswa/ai3-mvp/internal/local/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local/marks"
	"github.com/sbalswa/ai3-mvp/internal/local/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// mountJobs hosts what makes a comment run a workflow: the job store, the
// embedded executor with every workflow of workflows/ (STANDARD executions
// durable in DATA/executions.db and resumed at start), the step handler, the
// comment handler and the workflow_run handler on the bus (each once per
// delivery), and the finaliser, fed by the executor's status changes and by a
// reconciler that finishes jobs whose change was lost in a crash.
func mountJobs(ctx context.Context, env *devEnv, out io.Writer) error {
	gh := env.GitHub
	if gh == nil {
		fmt.Fprintln(out, "ai3 dev: commands disabled — no GitHub App configured and sandbox mode off")
		return nil
	}
	gh.Authorizer.Tokens = env.Vault
	store, err := localjobs.Open(ctx, env.DB, localjobs.Options{Committer: env.Committer})
	if err != nil {
		return err
	}
	handlerMarks, err := marks.Open(ctx, env.DB, marks.Options{WriteLock: env.WriteLock})
	if err != nil {
		return err
	}
	// This process alone handles the database's deliveries: marks a killed
	// run left processing are free now, as the bus's leases are, so their
	// redeliveries run instead of waiting out the dead run's lease.
	if _, err := handlerMarks.ReleaseUnfinished(ctx); err != nil {
		return err
	}
	xdb, err := localsfn.OpenDB(ctx, filepath.Join(env.DataDir, "executions.db"))
	if err != nil {
		return err
	}
	env.Cleanup(xdb.Close)

	dashboard := strings.TrimSuffix(env.BaseURL, "/") + "/api"
	renderJob := func(j *jobs.Job) string {
		w, err := workflows.Get(j.Workflow)
		var nodes []render.Node
		if err == nil {
			nodes = render.NodesOf(w)
		}
		return render.Status(j, nodes, render.Options{Now: time.Now(), Bot: gh.Bot, ExecutionURL: render.DashboardURL(dashboard, j.ID)})
	}
	// The step handler and the executor need each other: the executor calls
	// the handler, approvals and Actions runs complete tokens through the
	// executor. late is filled once both exist.
	late := &lateExecutor{}
	// Every comment write is made with the user's token, so it spends their
	// GitHub budget: one pacer, kept in the job store, spaces them all.
	pacer := &pace.Pacer{Store: store, Logger: env.Log}
	svc := steps.New(steps.Deps{Store: store, Callbacks: late, Users: env.Vault, Installations: gh.Installations,
		APIURL: gh.APIURL, Render: renderJob, BotHandle: gh.Bot, Log: env.Log, Pacer: pacer,
		Express:    workflows.Express, // as in AWS: EXPRESS jobs end from their steps
		Executions: late})             // the finaliser's Reconcile describes through it
	final := svc.Finalizer()
	changes := make(chan localsfn.StatusChange, 1024)
	x, err := localsfn.New(ctx, localsfn.Options{DB: xdb, Log: env.Log,
		Handlers: map[string]localsfn.Handler{
			workflows.FunctionName(steps.Task): svc.Step,
		},
		Notify: func(_ context.Context, c localsfn.StatusChange) {
			if c.Status == localsfn.StatusRunning {
				return
			}
			select {
			case changes <- c:
			default: // the reconciler finishes it
			}
		}})
	if err != nil {
		return err
	}
	env.Cleanup(x.Close)
	exec := sfnexec.New(x)
	late.Executor = exec
	for _, name := range workflows.Names() {
		def, typ, err := workflows.Definition(name, workflows.FunctionName)
		if err != nil {
			return err
		}
		if err := exec.Deploy(ctx, name, def, typ); err != nil {
			return err
		}
	}
	env.Executor = x
	// The Step Functions API over the same executor, for the SDKs and the
	// aws CLI (`aws stepfunctions --endpoint-url LOCAL/sfn …`). Local only:
	// it reads and completes task tokens, so it answers direct clients on
	// this machine and 403 to anyone through a proxy or tunnel.
	api := localOnly(env.Log, sfnLocalOnly, http.StripPrefix("/sfn", sfnapi.New(x, sfnapi.Options{Logger: env.Log})))
	env.Mux.Handle("/sfn", api) // the SDKs post to the endpoint URL itself
	env.Mux.Handle("/sfn/", api)

	deps := &commands.Deps{Bot: gh.Bot, Jobs: store, Executor: exec, Authorizer: gh.Authorizer, Tokens: env.Vault,
		LoginURL: strings.TrimSuffix(env.BaseURL, "/") + "/oauth/login", Render: renderJob, Log: env.Log,
		Decided: func(ctx context.Context, jobID string) error { return svc.Reporter().Publish(ctx, jobID) },
		JobURL:  func(j *jobs.Job) string { return render.DashboardURL(dashboard, j.ID) },
		Pacer:   pacer} // the status comment a run posts spends the user's budget too
	comments := &commands.Handler{Bot: gh.Bot, AppID: gh.AppID, Registry: commands.NewRegistry(deps),
		Authorizer: gh.Authorizer, Tokens: env.Vault, Archive: env.Payloads, LoginURL: deps.LoginURL, Log: env.Log, Pacer: pacer,
		GitHub: githubapp.Clients{Users: env.Vault, Installations: gh.Installations, APIURL: gh.APIURL}}
	var commentHandler events.Handler = comments
	if gh.Sandbox != nil {
		commentHandler = sandboxLogins{next: comments, sb: gh.Sandbox, vault: env.Vault, refs: store}
	}
	env.Bus.Subscribe(events.Once(handlerMarks, commentHandler, 0))
	env.Bus.Subscribe(events.Once(handlerMarks, svc.WorkflowRunHandler(env.Payloads), 0))
	env.Jobs = store
	env.Check("jobs", store.Check)
	mountJobsAPI(env, store)

	// Status comment leases in the store were taken by this process's dead
	// predecessor: drop them, or a job's comment stays behind until they
	// expire (the finaliser's reconcile writes what they held back).
	if err := dropCommentLeases(ctx, store, svc.Reporter()); err != nil {
		return err
	}
	resumed, err := x.Resume(ctx)
	if err != nil {
		return fmt.Errorf("resume executions: %w", err)
	}
	if resumed > 0 {
		fmt.Fprintf(out, "ai3 dev: resumed %d workflow executions\n", resumed)
	}
	env.Go(func(ctx context.Context) error {
		return finalize(ctx, env, final, changes)
	})
	// Expired job references (comment leases, Actions run indexes) go hourly,
	// as DynamoDB's TTL removes them in AWS.
	env.Every(time.Hour, func(ctx context.Context) {
		if n, err := store.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
			env.Log.Warn("sweep job references", "err", err)
		} else if n > 0 {
			env.Log.Info("swept expired job references", "count", n)
		}
	})
	fmt.Fprintf(out, "ai3 dev: commands for @%s; workflows %s on the embedded executor\n", gh.Bot, strings.Join(workflows.Names(), ", "))
	fmt.Fprintf(out, "ai3 dev: Step Functions API at %s/sfn (aws stepfunctions --endpoint-url %s/sfn …); jobs at %s/api/jobs — local only: from this machine, never through a tunnel\n",
		env.LocalURL, env.LocalURL, env.LocalURL)
	return nil
}

// dropCommentLeases drops the status comment leases of the newest jobs.
func dropCommentLeases(ctx context.Context, store jobs.Store, rep *steps.Reporter) error {
	list, err := store.List(ctx, 500, time.Time{})
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	for _, j := range list {
		if err := rep.DropLease(ctx, j.ID); err != nil {
			return err
		}
	}
	return nil
}

// lateExecutor forwards task callbacks to an executor set after it is made.
type lateExecutor struct{ jobs.Executor }

// finalize ends jobs: at once from the executor's status changes, and every
// 30 s (and at start) through the finaliser's Reconcile, as the finalizer
// Lambda's schedule does in AWS, so a change lost in a crash still ends its
// job and a final state missing from its comment is written.
func finalize(ctx context.Context, env *devEnv, f *steps.Finalizer, changes <-chan localsfn.StatusChange) error {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	reconcile := func() {
		if _, err := f.Reconcile(ctx, steps.ReconcileLimit); err != nil && ctx.Err() == nil {
			env.Log.Warn("reconcile jobs", "err", err)
		}
	}
	reconcile()
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-changes:
			sc := steps.StatusChange(c) // the same event, as the steps package names it
			for attempt := range 5 {
				err := f.Handle(ctx, sc)
				if err == nil || errors.Is(err, context.Canceled) {
					break
				}
				env.Log.Warn("finalise job", "job_id", sc.Name, "attempt", attempt+1, "err", err)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(time.Duration(attempt+1) * time.Second):
				}
			}
		case <-tick.C:
			reconcile()
		}
	}
}
