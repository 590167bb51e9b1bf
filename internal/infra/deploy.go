// Package infra is ai3's Pulumi program: the whole AWS shape of the design
// (ingestion, auth, orchestration, monitoring), one component each. Deploy
// is what `pulumi up` runs.
package infra

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// VaultUsers are the Lambda packages that seal or open user tokens: the KMS
// key policy lets their roles (and no one else) use the key.
var VaultUsers = []string{"oauth-callback", "comment", "step", "workflow-run", "finalizer"}

// Deploy creates every resource of ai3 on AWS. It builds the Lambdas first
// (at preview and at up), so an unchanged Lambda keeps its hash.
func Deploy(ctx *pulumi.Context) error {
	_, err := deployStack(ctx)
	return err
}

// deployStack is Deploy; it also returns the stack outputs it exported.
func deployStack(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		return nil, err
	}
	pkgs, err := LambdaPackages(root)
	if err != nil {
		return nil, err
	}
	for _, p := range expectedPackages() {
		if !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p) // Build names it as missing
		}
	}
	archives, err := Builder{Root: root, GOARCH: cfg.GOARCH()}.Build(ctx.Context(), pkgs)
	if err != nil {
		return nil, fmt.Errorf("build lambdas: %w", err)
	}
	s, err := newStack(ctx, cfg, archives)
	if err != nil {
		return nil, err
	}
	return s.deploy()
}

// expectedPackages are the Lambdas the program wires; every one must exist.
func expectedPackages() []string {
	return []string{"receiver", "oauth-login", "oauth-callback", "credentials", "revocation", "stub", "alert", "health",
		"comment", "step", "workflow-run", "finalizer"}
}

func newStack(ctx *pulumi.Context, cfg Config, archives map[string]Archive) (*stack, error) {
	id, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("AWS account (are credentials set?): %w", err)
	}
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("AWS region (pulumi config set aws:region ...): %w", err)
	}
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("AWS partition: %w", err)
	}
	return &stack{ctx: ctx, cfg: cfg, prefix: "ai3-" + ctx.Stack(), account: id.AccountId, region: region.Name,
		partition: part.Partition, archives: archives}, nil
}

func (s *stack) deploy() (pulumi.Map, error) {
	mon, err := NewMonitoring(s, "monitoring")
	if err != nil {
		return nil, err
	}
	auth, err := NewAuth(s, "auth", VaultUsers)
	if err != nil {
		return nil, err
	}
	ing, err := NewIngestion(s, "ingestion", IngestionArgs{WebhookSecretARN: auth.WebhookSecret.Arn, DeadLetterARN: mon.DLQ.Arn})
	if err != nil {
		return nil, err
	}
	if err := auth.Handlers(ing, LoginPath, CallbackPath); err != nil {
		return nil, err
	}
	stub, err := s.function(ing, FunctionArgs{
		Package: "stub", Description: "Logs and counts every GitHub event", DeadLetter: mon.DLQ.Arn,
	})
	if err != nil {
		return nil, err
	}
	all := map[string]*Function{}
	for _, f := range []*Function{ing.Receiver, auth.Credentials, auth.Login, auth.Callback, auth.Revocation, stub, mon.Alert} {
		all[f.Package] = f
	}
	orch, err := NewOrchestration(s, "orchestration", OrchestrationArgs{Auth: auth, Ingestion: ing, Functions: all})
	if err != nil {
		return nil, err
	}
	if err := ing.Subscribe(map[string]*Function{
		events.TargetStub:             stub,
		events.TargetComment:          orch.Comment,
		events.TargetWorkflowRun:      orch.WorkflowRun,
		events.TargetAppAuthorization: auth.Revocation,
	}); err != nil {
		return nil, err
	}
	var account pulumi.Resource
	if s.cfg.ManageAPIGatewayAccount {
		if account, err = s.apiGatewayAccount(ing, ing.AccessLogs); err != nil {
			return nil, err
		}
	}
	if err := ing.Publish(account); err != nil {
		return nil, err
	}
	if err := mon.Watch(ing); err != nil {
		return nil, err
	}
	outs := s.outputs(ing, orch, mon)
	for _, c := range []pulumi.ComponentResource{mon, auth, ing, orch} {
		if err := s.ctx.RegisterResourceOutputs(c, pulumi.Map{}); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// AppEvents are the webhook events the GitHub App must subscribe to: every
// detail-type a routing rule names (github_app_authorization is sent to
// every App without subscribing).
func AppEvents() []string {
	var out []string
	for _, r := range events.Rules() {
		for _, d := range r.DetailTypes {
			if d != "github_app_authorization" && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// AppPermissions are the GitHub App permissions ai3 needs.
var AppPermissions = map[string]string{
	"actions":       "write", // dispatch workflow runs and read their results
	"contents":      "write", // commit comments (GitHub files their writes under Contents); ai3 never pushes
	"issues":        "write", // status comments on issues
	"pull_requests": "write", // status comments and checks on pull requests
	"members":       "read",  // organization membership (authorization)
	"metadata":      "read",  // required by GitHub for every App
}

// The permissions of the installation tokens each caller of the credentials
// Lambda asks for (finding 7 of the hardening review: each caller gets what
// it needs, not all the App may). Every other GitHub call is made with the
// user's token. The step, workflow-run and finalizer Lambdas write a job's
// last comment when the user's token is gone (issue, pull request or commit
// comment); the comment Lambda also checks organization membership and the
// user's repository permission, reacts and refuses.
const (
	StepTokenPermissions    = "contents=write,issues=write,metadata=read,pull_requests=write"
	CommandTokenPermissions = "contents=write,issues=write,members=read,metadata=read,pull_requests=write"
)

func (s *stack) outputs(ing *Ingestion, orch *Orchestration, mon *Monitoring) pulumi.Map {
	machines := pulumi.StringMap{}
	for name, m := range orch.Machines {
		machines[name] = m.Arn
	}
	perms := pulumi.StringMap{}
	for _, k := range slices.Sorted(maps.Keys(AppPermissions)) {
		perms[k] = pulumi.String(AppPermissions[k])
	}
	var evs pulumi.StringArray
	for _, e := range AppEvents() {
		evs = append(evs, pulumi.String(e))
	}
	outs := pulumi.Map{
		"webhookUrl":       ing.URL(WebhookPath),
		"oauthCallbackUrl": ing.URL(CallbackPath),
		"oauthLoginUrl":    ing.URL(LoginPath),
		"stateMachineArns": machines,
		"dashboardUrl": pulumi.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s",
			s.region, s.region, mon.Dashboard.DashboardName),
		"githubApp": pulumi.Map{
			"webhookUrl":  ing.URL(WebhookPath),
			"callbackUrl": ing.URL(CallbackPath),
			"events":      evs,
			"permissions": perms,
			"secrets": pulumi.StringArray{pulumi.String(s.name("webhook-secret")), pulumi.String(s.name("app-private-key")),
				pulumi.String(s.name("oauth-client-secret"))},
		},
	}
	for k, v := range outs {
		s.ctx.Export(k, v)
	}
	return outs
}
