package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/aws/claims"
	"github.com/sbalswa/ai3-mvp/internal/aws/marks"
	"github.com/sbalswa/ai3-mvp/internal/events"
)

// StageName is the API Gateway stage every URL goes through; the paths
// are the API's routes.
const (
	StageName    = "v1"
	WebhookPath  = "webhook"
	LoginPath    = "oauth/login"
	CallbackPath = "oauth/callback"
)

// PayloadRetentionDays is how long raw webhook payloads are kept.
const PayloadRetentionDays = 90

// Ingestion is the way in: the REST API and its WAF, the receiver, the
// payload bucket, the claims and handler-marks tables, and the event bus
// with its rules.
type Ingestion struct {
	pulumi.ResourceState

	API           *apigateway.RestApi
	AccessLogs    *cloudwatch.LogGroup
	Bucket        *s3.BucketV2
	Claims        *dynamodb.Table
	Marks         *dynamodb.Table
	Bus           *cloudwatch.EventBus
	Receiver      *Function
	Stage         *apigateway.Stage
	s             *stack
	deadLetterARN pulumi.StringInput
	routes        []pulumi.Resource // methods and integrations the deployment waits for
	paths         []string
	res           map[string]*apigateway.Resource
}

// IngestionArgs are what Ingestion uses from other components.
type IngestionArgs struct {
	WebhookSecretARN pulumi.StringInput
	DeadLetterARN    pulumi.StringInput
}

// NewIngestion creates the API (without routes other than POST /webhook:
// Route adds more, Publish deploys it), the storage and the bus.
func NewIngestion(s *stack, name string, a IngestionArgs) (*Ingestion, error) {
	c := &Ingestion{s: s, res: map[string]*apigateway.Resource{}, deadLetterARN: a.DeadLetterARN}
	if err := s.ctx.RegisterComponentResource("ai3:infra:Ingestion", name, c); err != nil {
		return nil, err
	}
	opt := pulumi.Parent(c)
	var err error
	if err = c.bucket(); err != nil {
		return nil, err
	}
	if c.Claims, err = s.table(c, TableSpec{Suffix: "claims", Hash: claims.KeyAttribute, TTL: claims.TTLAttribute}); err != nil {
		return nil, err
	}
	if c.Marks, err = s.table(c, TableSpec{Suffix: "marks", Hash: marks.KeyAttribute, TTL: marks.TTLAttribute}); err != nil {
		return nil, err
	}
	if c.Bus, err = cloudwatch.NewEventBus(s.ctx, s.name("events"), &cloudwatch.EventBusArgs{Name: pulumi.String(s.name("events"))}, opt); err != nil {
		return nil, err
	}
	if c.API, err = apigateway.NewRestApi(s.ctx, s.name("api"), &apigateway.RestApiArgs{
		Name:                  pulumi.String(s.name("api")),
		Description:           pulumi.String("ai3 GitHub webhooks and OAuth web flow"),
		EndpointConfiguration: &apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
	}, opt); err != nil {
		return nil, err
	}
	if c.AccessLogs, err = cloudwatch.NewLogGroup(s.ctx, s.name("api-access"), &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/apigateway/" + s.name("api") + "/access"),
		RetentionInDays: pulumi.Int(s.cfg.LogRetention),
	}, opt); err != nil {
		return nil, err
	}
	if c.Receiver, err = s.function(c, FunctionArgs{
		Package:     "receiver",
		Description: "Verifies, claims, archives and publishes GitHub webhook deliveries",
		Timeout:     29, Memory: 512,
		Env: pulumi.StringMap{
			"CLAIMS_TABLE":       c.Claims.Name,
			"ARCHIVE_BUCKET":     c.Bucket.Bucket,
			"EVENT_BUS_NAME":     c.Bus.Name,
			"WEBHOOK_SECRET_ARN": a.WebhookSecretARN,
		},
		Policy: []Statement{
			{Sid: "Claims", Actions: tableActions, Resources: S(c.Claims.Arn)},
			{Sid: "ArchivePayloads", Actions: []string{"s3:PutObject", "s3:GetObject"}, Resources: S(pulumi.Sprintf("%s/*", c.Bucket.Arn))},
			{Sid: "Publish", Actions: []string{"events:PutEvents"}, Resources: S(c.Bus.Arn)},
			{Sid: "WebhookSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: S(a.WebhookSecretARN)},
		},
	}); err != nil {
		return nil, err
	}
	if err := c.Route("POST", WebhookPath, c.Receiver); err != nil {
		return nil, err
	}
	return c, nil
}

// URL is the public URL of path on the stage, built from the API's id and
// the region (never from the stage resource, so Lambdas behind the API can
// know their own URLs without a dependency cycle).
func (c *Ingestion) URL(path string) pulumi.StringOutput {
	return pulumi.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s/%s", c.API.ID(), c.s.region, StageName, path)
}

// Route sends method path (e.g. "GET", "oauth/login") to f through a Lambda
// proxy integration, and lets this API's stage invoke f for it alone.
func (c *Ingestion) Route(method, path string, f *Function) error {
	s := c.s
	parentID := c.API.RootResourceId
	var res *apigateway.Resource
	parts := strings.Split(path, "/")
	for i, part := range parts {
		key := strings.Join(parts[:i+1], "/")
		r, ok := c.res[key]
		if !ok {
			var err error
			r, err = apigateway.NewResource(s.ctx, s.name("api-"+strings.ReplaceAll(key, "/", "-")), &apigateway.ResourceArgs{
				RestApi: c.API.ID(), ParentId: parentID, PathPart: pulumi.String(part),
			}, pulumi.Parent(c))
			if err != nil {
				return err
			}
			c.res[key] = r
		}
		res, parentID = r, r.ID().ToStringOutput()
	}
	id := strings.ToLower(method) + "-" + strings.ReplaceAll(path, "/", "-")
	m, err := apigateway.NewMethod(s.ctx, s.name("api-"+id), &apigateway.MethodArgs{
		RestApi: c.API.ID(), ResourceId: res.ID(), HttpMethod: pulumi.String(method), Authorization: pulumi.String("NONE"),
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	in, err := apigateway.NewIntegration(s.ctx, s.name("api-"+id), &apigateway.IntegrationArgs{
		RestApi: c.API.ID(), ResourceId: res.ID(), HttpMethod: m.HttpMethod,
		Type: pulumi.String("AWS_PROXY"), IntegrationHttpMethod: pulumi.String("POST"), Uri: f.Function.InvokeArn,
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	c.routes = append(c.routes, m, in)
	c.paths = append(c.paths, method+" /"+path)
	return s.allowInvoke(c, s.name("api-"+id), f, "apigateway.amazonaws.com",
		pulumi.Sprintf("%s/%s/%s/%s", c.API.ExecutionArn, StageName, method, path))
}

// bucket creates the payload bucket: private, encrypted, TLS only, objects
// expire after PayloadRetentionDays.
func (c *Ingestion) bucket() error {
	s := c.s
	opt := pulumi.Parent(c)
	var err error
	if c.Bucket, err = s3.NewBucketV2(s.ctx, s.name("payloads"), &s3.BucketV2Args{
		BucketPrefix: pulumi.String(s.name("payloads-")),
	}, opt); err != nil {
		return err
	}
	if _, err = s3.NewBucketOwnershipControls(s.ctx, s.name("payloads"), &s3.BucketOwnershipControlsArgs{
		Bucket: c.Bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opt); err != nil {
		return err
	}
	pab, err := s3.NewBucketPublicAccessBlock(s.ctx, s.name("payloads"), &s3.BucketPublicAccessBlockArgs{
		Bucket:          c.Bucket.ID(),
		BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opt)
	if err != nil {
		return err
	}
	if _, err = s3.NewBucketServerSideEncryptionConfigurationV2(s.ctx, s.name("payloads"), &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: c.Bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, opt); err != nil {
		return err
	}
	if _, err = s3.NewBucketLifecycleConfigurationV2(s.ctx, s.name("payloads"), &s3.BucketLifecycleConfigurationV2Args{
		Bucket: c.Bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String(fmt.Sprintf("expire-after-%d-days", PayloadRetentionDays)),
			Status:     pulumi.String("Enabled"),
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(PayloadRetentionDays)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(1),
			},
		}},
	}, opt); err != nil {
		return err
	}
	_, err = s3.NewBucketPolicy(s.ctx, s.name("payloads"), &s3.BucketPolicyArgs{
		Bucket: c.Bucket.ID(),
		Policy: denyInsecureTransport(c.Bucket.Arn),
	}, opt, pulumi.DependsOn([]pulumi.Resource{pab}))
	return err
}

// denyInsecureTransport refuses every request to the bucket and its objects
// that does not come over TLS.
func denyInsecureTransport(bucketARN pulumi.StringOutput) pulumi.StringOutput {
	return bucketARN.ApplyT(func(arn string) (string, error) {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":[%q,%q],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			arn, arn+"/*"), nil
	}).(pulumi.StringOutput)
}

// Subscribe renders every routing rule of internal/events on the bus and
// targets the handler function named by the rule, with a retry policy and
// the dead-letter queue. A rule whose target has no function is an error.
func (c *Ingestion) Subscribe(targets map[string]*Function) error {
	s := c.s
	for _, r := range events.Rules() {
		f, ok := targets[r.Target]
		if !ok {
			return fmt.Errorf("event rule %s routes to %q, which no function handles", r.Name, r.Target)
		}
		rule, err := cloudwatch.NewEventRule(s.ctx, s.name("rule-"+r.Name), &cloudwatch.EventRuleArgs{
			Name:         pulumi.String(s.name(r.Name)),
			EventBusName: c.Bus.Name,
			EventPattern: pulumi.String(r.EventPattern()),
			Description:  pulumi.String("GitHub events to the " + r.Target + " handler"),
		}, pulumi.Parent(c))
		if err != nil {
			return err
		}
		if err := s.target(c, "rule-"+r.Name, rule, f, c.deadLetterARN); err != nil {
			return err
		}
	}
	return nil
}

// target points rule at f with retries and the DLQ, and lets rule invoke f.
func (s *stack) target(parent pulumi.Resource, name string, rule *cloudwatch.EventRule, f *Function, deadLetterARN pulumi.StringInput) error {
	if _, err := cloudwatch.NewEventTarget(s.ctx, s.name(name), &cloudwatch.EventTargetArgs{
		Rule: rule.Name, EventBusName: rule.EventBusName, Arn: f.Function.Arn,
		RetryPolicy: &cloudwatch.EventTargetRetryPolicyArgs{
			MaximumEventAgeInSeconds: pulumi.Int(3600), MaximumRetryAttempts: pulumi.Int(8),
		},
		DeadLetterConfig: &cloudwatch.EventTargetDeadLetterConfigArgs{Arn: deadLetterARN},
	}, pulumi.Parent(parent)); err != nil {
		return err
	}
	s.ruleARNs = append(s.ruleARNs, rule.Arn)
	return s.allowInvoke(parent, s.name(name), f, "events.amazonaws.com", rule.Arn)
}

// Publish deploys the routes to the stage, with access logs and the WAF.
func (c *Ingestion) Publish(accountSettings pulumi.Resource) error {
	s := c.s
	sum := sha256.Sum256([]byte(strings.Join(c.paths, "\n")))
	dep, err := apigateway.NewDeployment(s.ctx, s.name("api"), &apigateway.DeploymentArgs{
		RestApi:  c.API.ID(),
		Triggers: pulumi.StringMap{"routes": pulumi.String(hex.EncodeToString(sum[:]))},
	}, pulumi.Parent(c), pulumi.DependsOn(c.routes))
	if err != nil {
		return err
	}
	deps := []pulumi.Resource{c.AccessLogs}
	if accountSettings != nil {
		deps = append(deps, accountSettings)
	}
	if c.Stage, err = apigateway.NewStage(s.ctx, s.name("api"), &apigateway.StageArgs{
		RestApi: c.API.ID(), Deployment: dep.ID(), StageName: pulumi.String(StageName),
		AccessLogSettings: &apigateway.StageAccessLogSettingsArgs{
			DestinationArn: c.AccessLogs.Arn,
			Format:         pulumi.String(accessLogFormat),
		},
	}, pulumi.Parent(c), pulumi.DependsOn(deps)); err != nil {
		return err
	}
	return c.firewall()
}

// accessLogFormat is one JSON line per request; it names no header or body.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime",` +
	`"method":"$context.httpMethod","path":"$context.resourcePath","status":"$context.status",` +
	`"length":"$context.responseLength","latencyMs":"$context.responseLatency","waf":"$context.wafResponseCode",` +
	`"error":"$context.error.message","integrationError":"$context.integration.error"}`

// apiGatewayAccount gives API Gateway, region-wide, the role it writes
// access logs with (AWS refuses access logging until one is set).
func (s *stack) apiGatewayAccount(parent pulumi.Resource, logs *cloudwatch.LogGroup) (pulumi.Resource, error) {
	name := s.name("apigateway-logs")
	role, err := iam.NewRole(s.ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(name),
		AssumeRolePolicy: pulumi.String(assumeRole("apigateway.amazonaws.com")),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	policy, err := iam.NewRolePolicy(s.ctx, name, &iam.RolePolicyArgs{
		Role: role.ID(), Name: pulumi.String("access-logs"),
		Policy: Policy(Statement{
			Sid:       "WriteAccessLogs",
			Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resources: S(logs.Arn, pulumi.Sprintf("%s:*", logs.Arn)),
		}, Statement{
			Sid:       "FindLogGroup",
			Actions:   []string{"logs:DescribeLogGroups"},
			Resources: S(pulumi.String(s.arn("logs", s.region, "log-group:*"))),
		}),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, err
	}
	return apigateway.NewAccount(s.ctx, name, &apigateway.AccountArgs{CloudwatchRoleArn: role.Arn},
		pulumi.Parent(parent), pulumi.DependsOn([]pulumi.Resource{policy}))
}
