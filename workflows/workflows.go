// Package workflows defines ai3's CI/CD workflows with the typed builder of
// internal/asl: checks (EXPRESS), ci and deploy (STANDARD). Each workflow is
// a DAG of steps; every step invokes the one logical task "step" (the Lambda
// ai3-step, or internal/steps' handler embedded) and says what it does with
// its kind and arguments (see internal/steps and docs/steps.md).
package workflows

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// ErrUnknown is returned for a workflow name that is not defined.
var ErrUnknown = errors.New("unknown workflow")

// FunctionPrefix starts the Lambda function name of every logical task.
const FunctionPrefix = "ai3-"

// PlaceholderARN is the Lambda ARN a task resolves to when no real ARN is
// known (`ai3 workflows build` without --resolve, golden files).
func PlaceholderARN(task string) string {
	return "arn:aws:lambda:us-east-1:000000000000:function:" + FunctionName(task)
}

// FunctionName is the Lambda function name of a logical task: "ai3-<task>".
func FunctionName(task string) string { return FunctionPrefix + task }

// all builds every workflow afresh (they are cheap and mutable).
func all() []*asl.Workflow {
	return []*asl.Workflow{Checks(), CI(), Deploy()}
}

// Names returns the sorted workflow names.
func Names() []string {
	var out []string
	for _, w := range all() {
		out = append(out, w.Name())
	}
	slices.Sort(out)
	return out
}

// Get returns the workflow called name, or an error wrapping ErrUnknown.
func Get(name string) (*asl.Workflow, error) {
	for _, w := range all() {
		if w.Name() == name {
			return w, nil
		}
	}
	return nil, fmt.Errorf("workflow %q: %w (known: %v)", name, ErrUnknown, Names())
}

// Definition compiles the workflow called name to ASL JSON (deterministic:
// the same inputs give byte-identical output), resolving each logical task
// with arn. machineType is "EXPRESS" or "STANDARD".
func Definition(name string, arn func(task string) string) (definition []byte, machineType string, err error) {
	w, err := Get(name)
	if err != nil {
		return nil, "", err
	}
	def, err := w.Definition(arn)
	if err != nil {
		return nil, "", fmt.Errorf("compile workflow %s: %w", name, err)
	}
	return def, string(w.Type()), nil
}

// transient retries what a step reports as a passing problem
// (steps.TransientError: GitHub 5xx, a run not listed yet) on top of the
// Lambda service's transient errors.
func transient(intervalSeconds int) []asl.Retrier {
	three := 3
	return []asl.Retrier{
		asl.TransientLambdaErrors(),
		{ErrorEquals: []string{"TransientError"}, IntervalSeconds: intervalSeconds, MaxAttempts: &three, BackoffRate: 2, JitterStrategy: "FULL"},
	}
}

// actions is a step that runs a GitHub Actions workflow of the repository
// (workflow_dispatch with the user's token) and waits for its run.
func actions(file string, inputs map[string]string, minutes int) *asl.StepTask {
	t := asl.InvokeAndWait(steps.Task).With("kind", steps.KindActions).With("workflow_file", file)
	if len(inputs) > 0 {
		t.With("inputs", inputs)
	}
	return t.Retry(transient(5)...).Timeout(minutes * 60)
}

// pinned has an actions step dispatch only while the job's branch still
// points at the commit the job started at (github.actions pin_head): after a
// push to the branch, the step fails instead of running the new commit.
func pinned(t *asl.StepTask) *asl.StepTask { return t.With("pin_head", true) }

// Checks is the EXPRESS workflow of fast pull-request checks: title
// convention, diff size, labels and mergeability, read from GitHub with the
// user's token at the same time; summary concludes.
func Checks() *asl.Workflow {
	w := asl.NewWorkflow("checks", asl.Express).
		Comment("Fast pull-request checks: title, diff size, labels, mergeability, then a summary.").
		Timeout(120).
		ReportFailuresWith(steps.Task)
	check := func(name string) *asl.StepTask {
		return asl.Invoke(steps.Task).With("kind", steps.KindChecks).With("check", name).Retry(transient(1)...).Timeout(30)
	}
	w.Step("title", check("title").Comment("Title follows Conventional Commits."))
	w.Step("diff_size", check("diff_size").Comment("Added plus deleted lines stay under max_diff_lines."))
	w.Step("labels", check("labels").Comment("No blocking label (do-not-merge, wip, blocked)."))
	w.Step("mergeable", check("mergeable").Comment("GitHub can merge the branch cleanly."))
	w.Step("summary", asl.Invoke(steps.Task).With("kind", steps.KindGo).With("func", "checks.summary").Timeout(30).
		Comment("One conclusion from the four checks.")).
		Needs("title", "diff_size", "labels", "mergeable")
	return w
}

// CI is the STANDARD workflow that runs the repository's GitHub Actions
// workflow ci.yml once per job (input "job") and waits for each run: lint
// and unit start at once, integration needs unit.
func CI() *asl.Workflow {
	w := asl.NewWorkflow("ci", asl.Standard).
		Comment("Runs the repository's GitHub Actions jobs: lint and unit at once, integration after unit.").
		Timeout(4 * 3600).
		ReportFailuresWith(steps.Task)
	job := func(name string, minutes int) *asl.StepTask {
		return actions("ci.yml", map[string]string{"job": name}, minutes).
			Comment("ci.yml with job=" + name + "; its workflow_run completion resumes the step.")
	}
	w.Step("lint", job("lint", 30))
	w.Step("unit", job("unit", 60))
	w.Step("integration", job("integration", 120)).Needs("unit")
	return w
}

// Deploy is the STANDARD release workflow: build via Actions, a human
// approval, staging via Actions, a smoke test of smoke_url, production via
// Actions. The Actions workflows' environments (staging, production) make
// GitHub record the deployments and their statuses. GitHub dispatches at a
// branch, so the three Actions steps are pinned: on a pull request (or a
// commit) each dispatches only while the branch is still at the job's
// commit, the one built, approved and shown; a push since fails the step,
// and deploy is run again for the new commit.
func Deploy() *asl.Workflow {
	w := asl.NewWorkflow("deploy", asl.Standard).
		Comment("Build, approval gate, deploy to staging, smoke test, deploy to production.").
		Timeout(7 * 24 * 3600).
		ReportFailuresWith(steps.Task)
	w.Step("build", pinned(actions("build.yml", nil, 60)).Comment("Builds and stores the release artifact."))
	w.Step("approval", asl.InvokeAndWait(steps.Task).With("kind", steps.KindApproval).
		With("prompt", "Deploy to staging, then production?").Retry(transient(5)...).Timeout(3*24*3600).
		Comment("Waits for a maintainer's approve or reject.")).
		Needs("build")
	w.Step("deploy_staging", pinned(actions("deploy.yml", map[string]string{"environment": "staging"}, 60))).Needs("approval")
	w.Step("smoke_test", asl.Invoke(steps.Task).With("kind", steps.KindHTTP).With("url", "{args.smoke_url}").
		With("expect_status", 200).With("retries", 5).With("interval_seconds", 10).Retry(transient(5)...).
		Timeout(300).Comment("GET smoke_url answers 200.")).Needs("deploy_staging")
	w.Step("deploy_production", pinned(actions("deploy.yml", map[string]string{"environment": "production"}, 60))).Needs("smoke_test")
	return w
}
