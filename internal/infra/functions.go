package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Runtime is the Lambda runtime of every function: a Go `bootstrap` binary
// on Amazon Linux 2023.
const Runtime = "provided.al2023"

// stack holds what every component needs: the Pulumi context, the checked
// configuration, where the stack lives, and the built Lambda archives.
type stack struct {
	ctx       *pulumi.Context
	cfg       Config
	prefix    string // "ai3-<stack>": physical names start with it
	account   string
	region    string
	partition string
	archives  map[string]Archive
	// ruleARNs are every EventBridge rule with a target: the DLQ accepts
	// messages from these alone.
	ruleARNs []pulumi.StringInput
}

// arn builds an ARN in this stack's partition, region and account; region
// "" is left empty (IAM).
func (s *stack) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.partition, service, region, s.account, resource)
}

// name is the physical name of a stack resource: "ai3-<stack>-<suffix>".
func (s *stack) name(suffix string) string { return s.prefix + "-" + suffix }

// FunctionArgs describes one Lambda function of the stack.
type FunctionArgs struct {
	Package     string // directory under lambdas/
	Description string
	Timeout     int // seconds; 10 when 0
	Memory      int // MB; 256 when 0
	// Env holds resource names, ARNs and URLs only, never a secret.
	Env pulumi.StringMap
	// Policy is everything the function may do besides writing its logs.
	Policy []Statement
	// DeadLetter receives the events of failed asynchronous invocations
	// (EventBridge targets) once Lambda's own retries are spent.
	DeadLetter pulumi.StringInput
}

// Function is a Lambda function with its own role and log group.
type Function struct {
	Function *lambda.Function
	Role     *iam.Role
	Logs     *cloudwatch.LogGroup
	Package  string
	Name     string // the function's (and its role's) physical name
	RoleARN  string // known before the role exists (key policies name it)
}

// function creates a least-privilege Lambda: a role of its own whose policy
// holds a.Policy and log writes to its own log group, nothing else.
func (s *stack) function(parent pulumi.Resource, a FunctionArgs) (*Function, error) {
	archive, ok := s.archives[a.Package]
	if !ok {
		return nil, fmt.Errorf("lambda %s: no archive was built (is lambdas/%s missing?)", a.Package, a.Package)
	}
	name := s.name(a.Package)
	f := &Function{Package: a.Package, Name: name, RoleARN: s.arn("iam", "", "role/"+name)}
	opt := pulumi.Parent(parent)
	var err error
	if f.Role, err = iam.NewRole(s.ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(name),
		Description:      pulumi.String("Lambda " + a.Package + " of " + s.prefix),
		AssumeRolePolicy: pulumi.String(assumeRole("lambda.amazonaws.com")),
	}, opt); err != nil {
		return nil, err
	}
	if f.Logs, err = cloudwatch.NewLogGroup(s.ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + name),
		RetentionInDays: pulumi.Int(s.cfg.LogRetention),
	}, opt); err != nil {
		return nil, err
	}
	stmts := append([]Statement{{
		Sid:       "WriteOwnLogs",
		Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resources: S(pulumi.Sprintf("%s:*", f.Logs.Arn)),
	}}, a.Policy...)
	if a.DeadLetter != nil {
		stmts = append(stmts, Statement{Sid: "DeadLetters", Actions: []string{"sqs:SendMessage"}, Resources: S(a.DeadLetter)})
	}
	policy, err := iam.NewRolePolicy(s.ctx, name, &iam.RolePolicyArgs{
		Role: f.Role.ID(), Name: pulumi.String(a.Package), Policy: Policy(stmts...),
	}, opt)
	if err != nil {
		return nil, err
	}
	timeout, memory := a.Timeout, a.Memory
	if timeout == 0 {
		timeout = 10
	}
	if memory == 0 {
		memory = 256
	}
	args := &lambda.FunctionArgs{
		Name:           pulumi.String(name),
		Description:    pulumi.String(a.Description),
		Runtime:        pulumi.String(Runtime),
		Handler:        pulumi.String("bootstrap"),
		Architectures:  pulumi.StringArray{pulumi.String(s.cfg.Architecture)},
		Code:           pulumi.NewFileArchive(archive.Path),
		SourceCodeHash: pulumi.String(archive.SHA256),
		Role:           f.Role.Arn,
		Timeout:        pulumi.Int(timeout),
		MemorySize:     pulumi.Int(memory),
		LoggingConfig:  &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("Text"), LogGroup: f.Logs.Name},
	}
	if len(a.Env) > 0 {
		args.Environment = &lambda.FunctionEnvironmentArgs{Variables: a.Env}
	}
	if a.DeadLetter != nil {
		args.DeadLetterConfig = &lambda.FunctionDeadLetterConfigArgs{TargetArn: a.DeadLetter}
	}
	if f.Function, err = lambda.NewFunction(s.ctx, name, args, opt, pulumi.DependsOn([]pulumi.Resource{policy, f.Logs})); err != nil {
		return nil, err
	}
	return f, nil
}

// allowInvoke lets a service principal invoke f from sourceARN only.
func (s *stack) allowInvoke(parent pulumi.Resource, name string, f *Function, principal string, sourceARN pulumi.StringInput) error {
	_, err := lambda.NewPermission(s.ctx, name, &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  f.Function.Name,
		Principal: pulumi.String(principal),
		SourceArn: sourceARN,
	}, pulumi.Parent(parent))
	return err
}
