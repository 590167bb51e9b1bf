// Package workflows defines ai3's CI/CD workflows with the typed builder of
// internal/asl: checks (EXPRESS), ci and deploy (STANDARD). Each workflow is
// a DAG of steps whose tasks are logical names ("check-title", "gha-job"),
// resolved at compile time to Lambda ARNs (Pulumi, CloudFormation export) or,
// in the embedded shape, to the in-process handlers of LocalHandlers.
package workflows

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sbalswa/ai3-mvp/internal/asl"
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

// transient retries what a step's own code reports as a passing problem
// (TransientError) on top of the Lambda service's transient errors.
func transient() []asl.Retrier {
	three := 3
	return []asl.Retrier{
		asl.TransientLambdaErrors(),
		{ErrorEquals: []string{"TransientError"}, IntervalSeconds: 5, MaxAttempts: &three, BackoffRate: 2, JitterStrategy: "FULL"},
	}
}

// Checks is the EXPRESS workflow of fast pull-request checks: title
// convention, diff size, labels and mergeability run at the same time inside
// their Lambdas; summary combines them into one conclusion.
func Checks() *asl.Workflow {
	w := asl.NewWorkflow("checks", asl.Express).
		Comment("Fast pull-request checks: title, diff size, labels, mergeability, then a summary.").
		Timeout(120).
		ReportFailuresWith("report")
	check := func(task string) *asl.StepTask {
		return asl.Invoke(task).Retry(asl.TransientLambdaErrors()).Timeout(30)
	}
	w.Step("title", check("check-title").Comment("Title follows Conventional Commits."))
	w.Step("diff_size", check("check-diff-size").Comment("Added plus deleted lines stay under the limit."))
	w.Step("labels", check("check-labels").Comment("No blocking label (do-not-merge, wip)."))
	w.Step("mergeable", check("check-mergeable").Comment("GitHub can merge the branch cleanly."))
	w.Step("summary", check("checks-summary").Comment("One conclusion from the four checks.")).
		Needs("title", "diff_size", "labels", "mergeable")
	return w
}

// CI is the STANDARD workflow that dispatches the repository's GitHub
// Actions jobs and waits for each to finish (callback with a task token):
// lint and unit start at once, integration needs unit.
func CI() *asl.Workflow {
	w := asl.NewWorkflow("ci", asl.Standard).
		Comment("Runs the repository's GitHub Actions jobs: lint and unit at once, integration after unit.").
		Timeout(4 * 3600).
		ReportFailuresWith("report")
	job := func(name string, minutes int) *asl.StepTask {
		return asl.InvokeAndWait("gha-job").With("job", name).Retry(asl.TransientLambdaErrors()).
			Timeout(minutes * 60).Comment("GitHub Actions job " + name + "; the job's completion sends the token back.")
	}
	w.Step("lint", job("lint", 30))
	w.Step("unit", job("unit", 60))
	w.Step("integration", job("integration", 120)).Needs("unit")
	return w
}

// Deploy is the STANDARD release workflow: build, a human approval gate
// (task token), staging, a smoke test, production; steps retry on transient
// errors.
func Deploy() *asl.Workflow {
	w := asl.NewWorkflow("deploy", asl.Standard).
		Comment("Build, approval gate, deploy to staging, smoke test, deploy to production.").
		Timeout(7 * 24 * 3600).
		ReportFailuresWith("report")
	w.Step("build", asl.Invoke("build").Retry(transient()...).Timeout(900).
		Comment("Builds and stores the release artifact."))
	w.Step("approval", asl.InvokeAndWait("approval").Retry(asl.TransientLambdaErrors()).Timeout(3*24*3600).
		Comment("Waits for a maintainer to approve the release (or auto-approval).")).
		Needs("build")
	w.Step("deploy_staging", asl.Invoke("deploy").With("environment", "staging").Retry(transient()...).
		Timeout(900)).Needs("approval")
	w.Step("smoke_test", asl.Invoke("smoke-test").With("environment", "staging").Retry(transient()...).
		Timeout(300)).Needs("deploy_staging")
	w.Step("deploy_production", asl.Invoke("deploy").With("environment", "production").Retry(transient()...).
		Timeout(900)).Needs("smoke_test")
	return w
}
