package render_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	"github.com/sbalswa/ai3-mvp/workflows"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// fixture is one golden render: a job, its DAG and the render's options.
type fixture struct {
	name string
	job  *jobs.Job
	dag  []render.Node
	opts render.Options
}

func baseJob(id, workflow string, status jobs.Status) *jobs.Job {
	return &jobs.Job{
		ID: id, Workflow: workflow, Status: status,
		Thread:       jobs.Thread{Repo: "octo/app", Kind: jobs.PullThread, Number: 7, CommentID: 42},
		HeadSHA:      "3f9a1c2e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",
		Ref:          "feature-x",
		User:         jobs.User{ID: 1001, Login: "alice"},
		ExecutionARN: "arn:aws:states:eu-west-1:123456789012:execution:ai3-" + workflow + ":" + id,
		Version:      7, CreatedAt: t0, UpdatedAt: at(3 * time.Minute),
		Steps: map[string]*jobs.Step{},
	}
}

func done(start, end time.Duration, link, detail string) *jobs.Step {
	return &jobs.Step{Status: jobs.Succeeded, Attempts: 1, StartedAt: at(start), FinishedAt: at(end), Link: link, Detail: detail}
}

// releaseDAG has parallel branches, so one run can hold a waiting approval
// and a retrying step at once.
var releaseDAG = []render.Node{
	{Name: "build"},
	{Name: "lint", Needs: []string{"build"}},
	{Name: "unit", Needs: []string{"build"}},
	{Name: "approval", Needs: []string{"build"}, Title: "Release approval"},
	{Name: "deploy_staging", Needs: []string{"lint", "unit", "approval"}},
	{Name: "deploy_production", Needs: []string{"deploy_staging"}},
}

func fixtures() []fixture {
	aws := render.ConsoleURL("", "arn:aws:states:eu-west-1:123456789012:execution:ai3-deploy:deploy-3f9a1c2")
	dash := func(id string) string { return render.DashboardURL("http://127.0.0.1:8080", id) }
	var out []fixture

	running := baseJob("release-5c0ffee", "release", jobs.Running)
	running.Steps["build"] = done(0, 95*time.Second, "https://github.com/octo/app/actions/runs/101", "artifact app-3f9a1c2.tar.gz")
	running.Steps["lint"] = &jobs.Step{Status: jobs.Running, Attempts: 1, StartedAt: at(96 * time.Second)}
	running.Steps["unit"] = &jobs.Step{Status: jobs.Retrying, Attempts: 2, StartedAt: at(96 * time.Second),
		Error: "TransientError", Cause: "runner lost | exit <137>\nretrying in 10s",
		Link: "https://github.com/octo/app/actions/runs/102?attempt=2"}
	running.Steps["approval"] = &jobs.Step{Status: jobs.Waiting, Attempts: 1, StartedAt: at(96 * time.Second),
		Detail: "waiting for a maintainer: `@ai3-mvp approve release-5c0ffee`"}
	out = append(out, fixture{"running", running, releaseDAG, render.Options{Now: at(4*time.Minute + 12*time.Second), ExecutionURL: dash("release-5c0ffee")}})

	deploy := render.NodesOf(workflows.Deploy())
	ok := baseJob("deploy-3f9a1c2", "deploy", jobs.Succeeded)
	ok.Steps["build"] = done(0, 3*time.Minute, "https://github.com/octo/app/actions/runs/201", "")
	ok.Steps["approval"] = done(3*time.Minute, 47*time.Minute, "", "approved by @bob")
	ok.Steps["deploy_staging"] = done(47*time.Minute, 52*time.Minute, "https://staging.example.com", "")
	ok.Steps["smoke_test"] = done(52*time.Minute, 53*time.Minute, "", "12 checks passed")
	ok.Steps["deploy_production"] = &jobs.Step{Status: jobs.Succeeded, Attempts: 2, StartedAt: at(53 * time.Minute),
		FinishedAt: at(61*time.Minute + 5*time.Second), Link: "https://app.example.com", Detail: "released v1.4.0"}
	ok.FinishedAt = at(61*time.Minute + 7*time.Second)
	out = append(out, fixture{"succeeded", ok, deploy, render.Options{Now: at(62 * time.Minute), ExecutionURL: aws}})

	failed := baseJob("deploy-3f9a1c2", "deploy", jobs.Failed)
	failed.Steps["build"] = done(0, 3*time.Minute, "https://github.com/octo/app/actions/runs/201", "")
	failed.Steps["approval"] = done(3*time.Minute, 4*time.Minute, "", "auto-approved (staging only)")
	failed.Steps["deploy_staging"] = done(4*time.Minute, 9*time.Minute, "", "")
	failed.Steps["smoke_test"] = &jobs.Step{Status: jobs.Failed, Attempts: 3, StartedAt: at(9 * time.Minute), FinishedAt: at(11 * time.Minute),
		Error: "SmokeTestFailed", Cause: "GET /health → 503 <html><b>down</b></html> | upstream `db` unreachable"}
	failed.Error = "States.TaskFailed"
	failed.Cause = "{\"errorMessage\":\"smoke_test: GET /health returned 503\",\"errorType\":\"SmokeTestFailed\",\n\"trace\":[\"```\",\"</details><script>alert(1)</script>\"]}"
	failed.FinishedAt = at(11*time.Minute + 2*time.Second)
	out = append(out, fixture{"failed", failed, deploy, render.Options{Now: at(12 * time.Minute), ExecutionURL: aws}})

	aborted := baseJob("deploy-3f9a1c2", "deploy", jobs.Aborted)
	aborted.Steps["build"] = done(0, 3*time.Minute, "", "")
	aborted.Steps["approval"] = &jobs.Step{Status: jobs.Aborted, Attempts: 1, StartedAt: at(3 * time.Minute), FinishedAt: at(20 * time.Minute)}
	aborted.Error = "Cancelled"
	aborted.Cause = "cancelled by @carol with `@ai3-mvp cancel deploy-3f9a1c2`"
	aborted.FinishedAt = at(20 * time.Minute)
	out = append(out, fixture{"aborted", aborted, deploy, render.Options{Now: at(20 * time.Minute), ExecutionURL: aws}})

	ci := render.NodesOf(workflows.CI())
	timedOut := baseJob("ci-77aa01", "ci", jobs.TimedOut)
	timedOut.Steps["lint"] = done(0, 4*time.Minute, "https://github.com/octo/app/actions/runs/301", "success")
	timedOut.Steps["unit"] = &jobs.Step{Status: jobs.TimedOut, Attempts: 1, StartedAt: at(0), FinishedAt: at(time.Hour),
		Link: "https://github.com/octo/app/actions/runs/302", Error: "States.Timeout"}
	timedOut.Error = "States.Timeout"
	timedOut.Cause = "The task of step unit ran longer than 3600 seconds."
	timedOut.FinishedAt = at(time.Hour + time.Second)
	out = append(out, fixture{"timed_out", timedOut, ci, render.Options{Now: at(time.Hour + 5*time.Second), ExecutionURL: dash("ci-77aa01")}})

	big, bigDAG := bigJob(1000, 80)
	out = append(out, fixture{"steps_1000", big, bigDAG, render.Options{Now: at(2 * time.Hour), ExecutionURL: aws}})
	return out
}

// bigJob is a running job of n steps in layers of ten (each step needs two
// of the layer before): most succeeded, a few failed, retrying, running and
// waiting, the rest pending. Failed steps carry errors of errLen runes.
func bigJob(n, errLen int) (*jobs.Job, []render.Node) {
	j := baseJob("matrix-0badc0de", "matrix", jobs.Running)
	dag := make([]render.Node, n)
	long := strings.Repeat("a|<b>&`x`\n", errLen/10+1)[:errLen]
	for i := range dag {
		name := fmt.Sprintf("shard_%04d", i)
		dag[i] = render.Node{Name: name}
		if i >= 10 {
			other := (i/10-1)*10 + (i+1)%10
			dag[i].Needs = []string{fmt.Sprintf("shard_%04d", i-10), fmt.Sprintf("shard_%04d", other)}
		}
		start := time.Duration(i) * time.Second
		switch {
		case i%97 == 13:
			j.Steps[name] = &jobs.Step{Status: jobs.Failed, Attempts: 3, StartedAt: at(start), FinishedAt: at(start + time.Minute),
				Error: "States.TaskFailed", Cause: long, Link: "https://github.com/octo/app/actions/runs/" + fmt.Sprint(9000+i)}
		case i%89 == 7:
			j.Steps[name] = &jobs.Step{Status: jobs.Retrying, Attempts: 2, StartedAt: at(start), Error: "TransientError"}
		case i%250 == 3:
			j.Steps[name] = &jobs.Step{Status: jobs.Waiting, Attempts: 1, StartedAt: at(start), Detail: "waiting for approval"}
		case i < n*9/10:
			j.Steps[name] = done(start, start+90*time.Second, "", "")
		case i < n*9/10+20:
			j.Steps[name] = &jobs.Step{Status: jobs.Running, Attempts: 1, StartedAt: at(start)}
		}
	}
	return j, dag
}

// worstJob fails every one of n steps with long texts, links and details:
// the most a render could be asked to hold.
func worstJob(n int) (*jobs.Job, []render.Node) {
	j, dag := bigJob(n, 5000)
	long := strings.Repeat("<&|\"`>", 2000)
	for i, node := range dag {
		dag[i].Title = long
		j.Steps[node.Name] = &jobs.Step{Status: jobs.Failed, Attempts: 9, StartedAt: at(0), FinishedAt: at(time.Hour),
			Detail: long, Error: long, Cause: long, Link: "https://example.com/" + strings.Repeat("(|)", 150)}
	}
	j.Status, j.Error, j.Cause, j.Workflow, j.User.Login = jobs.Failed, long, long, long, long
	return j, dag
}
