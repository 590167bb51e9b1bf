package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/aws/jobs"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// The state machine execution events the finalizer receives (default bus).
const (
	ExecutionStatusSource     = "aws.states"
	ExecutionStatusDetailType = "Step Functions Execution Status Change"
)

// Orchestration runs the workflows: one state machine per workflow, the
// Jobs table, and the Lambdas that start (comment), run (step), resume
// (workflow-run) and finish (finalizer) them.
type Orchestration struct {
	pulumi.ResourceState

	Jobs        *dynamodb.Table
	Step        *Function
	Comment     *Function
	WorkflowRun *Function
	Finalizer   *Function
	// Machines are the state machines by workflow name.
	Machines map[string]*sfn.StateMachine
	s        *stack
}

// OrchestrationArgs are what Orchestration uses from the other components.
type OrchestrationArgs struct {
	Auth      *Auth
	Ingestion *Ingestion
	// Functions are every function of the stack so far, by package; a
	// workflow task resolves to the one whose workflows.FunctionName matches.
	Functions map[string]*Function
}

// NewOrchestration creates the Jobs table, the handlers and the machines.
func NewOrchestration(s *stack, name string, a OrchestrationArgs) (*Orchestration, error) {
	c := &Orchestration{s: s, Machines: map[string]*sfn.StateMachine{}}
	if err := s.ctx.RegisterComponentResource("ai3:infra:Orchestration", name, c); err != nil {
		return nil, err
	}
	var err error
	if c.Jobs, err = s.table(c, jobsTable()); err != nil {
		return nil, err
	}
	auth, ing := a.Auth, a.Ingestion
	// stepEnv is what the step, workflow-run and finalizer Lambdas read
	// (lambdas/internal/stepwire); the comment Lambda reads more (commandEnv).
	stepEnv := func() pulumi.StringMap {
		return pulumi.StringMap{
			"JOBS_TABLE": c.Jobs.Name, "USER_TOKENS_TABLE": auth.UserTokens.Name,
			"TOKENS_KMS_KEY_ID": auth.Key.Arn, "ARCHIVE_BUCKET": ing.Bucket.Bucket, "CREDENTIALS_FUNCTION": auth.Credentials.Function.Arn,
			"GITHUB_API_URL": pulumi.String(s.cfg.GitHubAPIURL), "GITHUB_URL": pulumi.String(s.cfg.GitHubURL),
			"GITHUB_CLIENT_ID": pulumi.String(s.cfg.GitHubClientID), "OAUTH_CLIENT_SECRET_ARN": auth.OAuthSecret.Arn,
			"BOT_HANDLE":                     pulumi.String(s.cfg.BotHandle),
			"INSTALLATION_TOKEN_PERMISSIONS": pulumi.String(StepTokenPermissions),
		}
	}
	commandEnv := func() pulumi.StringMap {
		m := stepEnv()
		m["MARKS_TABLE"] = ing.Marks.Name
		m["GITHUB_ORG"] = pulumi.String(s.cfg.GitHubOrg)
		m["GITHUB_APP_ID"] = pulumi.String(strconv.FormatInt(s.cfg.GitHubAppID, 10))
		m["OAUTH_LOGIN_URL"] = ing.URL(LoginPath)
		m["STATE_MACHINES"] = c.machineMap()
		m["INSTALLATION_TOKEN_PERMISSIONS"] = pulumi.String(CommandTokenPermissions)
		return m
	}
	shared := func(readPayloads bool) []Statement {
		st := append([]Statement{
			{Sid: "Jobs", Actions: append(slices.Clone(tableActions), "dynamodb:Query", "dynamodb:BatchGetItem"),
				Resources: S(c.Jobs.Arn, pulumi.Sprintf("%s/index/%s", c.Jobs.Arn, jobs.ThreadIndex), pulumi.Sprintf("%s/index/%s", c.Jobs.Arn, jobs.CreatedIndex))},
			{Sid: "InstallationTokens", Actions: []string{"lambda:InvokeFunction"}, Resources: S(auth.Credentials.Function.Arn)},
			{Sid: "OAuthClientSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: S(auth.OAuthSecret.Arn)},
		}, auth.VaultStatements()...)
		if readPayloads {
			st = append(st, Statement{Sid: "ReadPayloads", Actions: []string{"s3:GetObject"}, Resources: S(pulumi.Sprintf("%s/*", ing.Bucket.Arn))})
		}
		return st
	}
	// The step Lambda completes its own task token when the GitHub Actions
	// run it waits on has already ended; the machines need its ARN first, so
	// its policy names their (deterministic) ARNs.
	var stepMachines []pulumi.StringInput
	for _, wf := range workflows.Names() {
		stepMachines = append(stepMachines, pulumi.String(s.arn("states", s.region, "stateMachine:"+s.name("wf-"+wf))))
	}
	if c.Step, err = s.function(c, FunctionArgs{
		Package: "step", Description: "Runs one workflow step and reports it into the job's status comment",
		Timeout: 900, Memory: 512, Env: stepEnv(),
		Policy: append(shared(false), Statement{Sid: "TaskTokens", Actions: taskTokenActions, Resources: stepMachines}),
	}); err != nil {
		return nil, err
	}
	fns := map[string]*Function{}
	for k, f := range a.Functions {
		fns[k] = f
	}
	fns[c.Step.Package] = c.Step
	machineARNs, executionARNs, err := c.machines(fns)
	if err != nil {
		return nil, err
	}
	states := []Statement{
		{Sid: "Executions", Actions: []string{"states:StartExecution"}, Resources: machineARNs},
		{Sid: "ExecutionControl", Actions: []string{"states:StopExecution", "states:DescribeExecution"}, Resources: executionARNs},
		{Sid: "TaskTokens", Actions: taskTokenActions, Resources: machineARNs},
	}
	if c.Comment, err = s.function(c, FunctionArgs{
		Package: "comment", Description: "Mentions and commands in GitHub comments",
		Timeout: 60, Memory: 512, Env: commandEnv(),
		Policy:     append(shared(true), append(states, Statement{Sid: "HandlerMarks", Actions: tableActions, Resources: S(ing.Marks.Arn)})...),
		DeadLetter: ing.deadLetterARN,
	}); err != nil {
		return nil, err
	}
	if c.WorkflowRun, err = s.function(c, FunctionArgs{
		Package: "workflow-run", Description: "Resumes workflow steps waiting on GitHub Actions runs",
		Timeout: 30, Env: stepEnv(), Policy: append(shared(true), states...), DeadLetter: ing.deadLetterARN,
	}); err != nil {
		return nil, err
	}
	if c.Finalizer, err = s.function(c, FunctionArgs{
		Package: "finalizer", Description: "Records a finished execution and renders the final status; reconciles jobs on a schedule",
		// The scheduled reconcile may write several comments, each paced.
		Timeout: 300, Env: stepEnv(), DeadLetter: ing.deadLetterARN,
		// Reconcile describes executions, and completes a github.actions
		// step whose run ended while its workflow_run webhook was lost.
		Policy: append(shared(false), Statement{Sid: "DescribeExecutions", Actions: []string{"states:DescribeExecution"}, Resources: executionARNs},
			Statement{Sid: "TaskTokens", Actions: taskTokenActions, Resources: machineARNs}),
	}); err != nil {
		return nil, err
	}
	if err := c.statusRule(ing.deadLetterARN); err != nil {
		return nil, err
	}
	return c, c.reconcileRule(ing.deadLetterARN)
}

// taskTokenActions complete or extend a waiting step's task token.
var taskTokenActions = []string{"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}

// machines creates one state machine per workflow, of its declared type,
// whose definition is the compiler's ASL with each task resolved to the ARN
// of its Lambda. It returns the machines' and their executions' ARNs.
func (c *Orchestration) machines(fns map[string]*Function) (machines, executions []pulumi.StringInput, err error) {
	s := c.s
	byFunctionName := map[string]*Function{}
	for pkg, f := range fns {
		byFunctionName[workflows.FunctionName(pkg)] = f
	}
	for _, wf := range workflows.Names() {
		var tasks []string
		_, kind, err := workflows.Definition(wf, func(task string) string {
			if !slices.Contains(tasks, task) {
				tasks = append(tasks, task)
			}
			return workflows.PlaceholderARN(task)
		})
		if err != nil {
			return nil, nil, err
		}
		var arns []any
		var invoke []pulumi.StringInput
		invoked := map[string]bool{}
		for _, task := range tasks {
			f, ok := byFunctionName[workflows.FunctionName(task)]
			if !ok {
				return nil, nil, fmt.Errorf("workflow %s: task %q runs Lambda %s, and no lambdas/* package of the stack is that function",
					wf, task, workflows.FunctionName(task))
			}
			arns = append(arns, f.Function.Arn)
			if !invoked[f.Package] {
				invoked[f.Package] = true
				invoke = append(invoke, f.Function.Arn)
			}
		}
		definition := pulumi.All(arns...).ApplyT(func(vals []any) (string, error) {
			resolved := map[string]string{}
			for i, t := range tasks {
				resolved[t] = vals[i].(string)
			}
			def, _, err := workflows.Definition(wf, func(task string) string { return resolved[task] })
			return string(def), err
		}).(pulumi.StringOutput)
		name := s.name("wf-" + wf)
		logs, err := cloudwatch.NewLogGroup(s.ctx, name, &cloudwatch.LogGroupArgs{
			Name: pulumi.String("/aws/vendedlogs/states/" + name), RetentionInDays: pulumi.Int(s.cfg.LogRetention),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, nil, err
		}
		role, err := s.machineRole(c, name, invoke)
		if err != nil {
			return nil, nil, err
		}
		m, err := sfn.NewStateMachine(s.ctx, name, &sfn.StateMachineArgs{
			Name: pulumi.String(name), Type: pulumi.String(kind), RoleArn: role.Arn, Definition: definition,
			LoggingConfiguration: &sfn.StateMachineLoggingConfigurationArgs{
				// Execution data may hold user input; errors and state
				// transitions are enough to debug.
				Level: pulumi.String("ALL"), IncludeExecutionData: pulumi.Bool(false),
				LogDestination: pulumi.Sprintf("%s:*", logs.Arn),
			},
			TracingConfiguration: &sfn.StateMachineTracingConfigurationArgs{Enabled: pulumi.Bool(true)},
		}, pulumi.Parent(c))
		if err != nil {
			return nil, nil, err
		}
		c.Machines[wf] = m
		machines = append(machines, m.Arn)
		if kind == "EXPRESS" {
			executions = append(executions, pulumi.String(s.arn("states", s.region, "express:"+name+":*")))
		} else {
			executions = append(executions, pulumi.String(s.arn("states", s.region, "execution:"+name+":*")))
		}
	}
	return machines, executions, nil
}

// machineRole may invoke the given Lambdas and nothing else but the
// logging and tracing calls AWS offers on no narrower resource than "*".
func (s *stack) machineRole(parent pulumi.Resource, name string, lambdas []pulumi.StringInput) (*iam.Role, error) {
	role, err := iam.NewRole(s.ctx, name, &iam.RoleArgs{
		Name: pulumi.String(name), AssumeRolePolicy: pulumi.String(assumeRole("states.amazonaws.com")),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	_, err = iam.NewRolePolicy(s.ctx, name, &iam.RolePolicyArgs{
		Role: role.ID(), Name: pulumi.String("workflow"),
		Policy: Policy(
			Statement{Sid: "InvokeTaskLambdas", Actions: []string{"lambda:InvokeFunction"}, Resources: lambdas},
			Statement{Sid: "LogDeliveryAWSRequiresStar", Actions: LogDeliveryActions, Resources: S(pulumi.String("*"))},
			Statement{Sid: "XRayAWSRequiresStar", Actions: XRayActions, Resources: S(pulumi.String("*"))},
		),
	}, pulumi.Parent(parent))
	return role, err
}

// LogDeliveryActions and XRayActions support no resource narrower than "*"
// (AWS's Service Authorization Reference); they are the only exceptions to
// "every statement names its resources".
var (
	LogDeliveryActions = []string{"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
		"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
	XRayActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}
)

// machineMap is STATE_MACHINES: {"<workflow>": "<state machine ARN>"}.
func (c *Orchestration) machineMap() pulumi.StringOutput {
	names := workflows.Names()
	var arns []any
	for _, n := range names {
		arns = append(arns, c.Machines[n].Arn)
	}
	return pulumi.All(arns...).ApplyT(func(vals []any) (string, error) {
		m := map[string]string{}
		for i, n := range names {
			m[n] = vals[i].(string)
		}
		b, err := json.Marshal(m)
		return string(b), err
	}).(pulumi.StringOutput)
}

// ReconcileSchedule is how often the finalizer reconciles jobs: it ends
// those whose status event was lost or whose EXPRESS execution went silent,
// and writes final states missing from their comments (steps.Finalizer's
// Reconcile).
const ReconcileSchedule = "rate(5 minutes)"

// reconcileRule invokes the finalizer on ReconcileSchedule.
func (c *Orchestration) reconcileRule(deadLetterARN pulumi.StringInput) error {
	s := c.s
	rule, err := cloudwatch.NewEventRule(s.ctx, s.name("rule-reconcile"), &cloudwatch.EventRuleArgs{
		Name: pulumi.String(s.name("reconcile")), EventBusName: pulumi.String("default"),
		ScheduleExpression: pulumi.String(ReconcileSchedule),
		Description:        pulumi.String("Jobs whose end was lost or not yet shown, to the finalizer"),
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	return s.target(c, "rule-reconcile", rule, c.Finalizer, deadLetterARN)
}

// statusRule sends the machines' execution status changes (default bus) to
// the finalizer. Only STANDARD machines emit them; EXPRESS executions end
// through their own report step.
func (c *Orchestration) statusRule(deadLetterARN pulumi.StringInput) error {
	s := c.s
	names := workflows.Names()
	var arns []any
	for _, n := range names {
		arns = append(arns, c.Machines[n].Arn)
	}
	pattern := pulumi.All(arns...).ApplyT(func(vals []any) (string, error) {
		var list []string
		for _, v := range vals {
			list = append(list, v.(string))
		}
		b, err := json.Marshal(map[string]any{
			"source": []string{ExecutionStatusSource}, "detail-type": []string{ExecutionStatusDetailType},
			"detail": map[string]any{"stateMachineArn": list},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	rule, err := cloudwatch.NewEventRule(s.ctx, s.name("rule-execution-status"), &cloudwatch.EventRuleArgs{
		Name: pulumi.String(s.name("execution-status")), EventBusName: pulumi.String("default"),
		EventPattern: pattern, Description: pulumi.String("Workflow executions that ended, to the finalizer"),
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	return s.target(c, "rule-execution-status", rule, c.Finalizer, deadLetterARN)
}
