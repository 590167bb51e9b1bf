package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestRoutesAndURLs: POST /webhook and the OAuth routes reach their
// Lambdas; the URLs are built from the API id and region, and the OAuth
// Lambdas know the callback URL GitHub will redirect to.
func TestRoutesAndURLs(t *testing.T) {
	d := deployed(t)
	base := fmt.Sprintf("https://a1b2c3d4e5.execute-api.%s.amazonaws.com/%s/", testRegion, StageName)
	routes := []struct{ method, path, pkg, output string }{
		{"POST", WebhookPath, "receiver", "webhookUrl"},
		{"GET", LoginPath, "oauth-login", "oauthLoginUrl"},
		{"GET", CallbackPath, "oauth-callback", "oauthCallbackUrl"},
	}
	for _, r := range routes {
		id := prefix + "api-" + strings.ToLower(r.method) + "-" + strings.ReplaceAll(r.path, "/", "-")
		m := d.one(t, "aws:apigateway/method:Method", id)
		if m.str("httpMethod") != r.method || m.str("authorization") != "NONE" {
			t.Errorf("%s: method %v", id, m.In)
		}
		in := d.one(t, "aws:apigateway/integration:Integration", id)
		if in.str("type") != "AWS_PROXY" || in.str("uri") != d.fn(t, r.pkg).Out["invokeArn"].StringValue() {
			t.Errorf("%s: integration %s to %s, want AWS_PROXY to %s", id, in.str("type"), in.str("uri"), r.pkg)
		}
		perm := d.one(t, "aws:lambda/permission:Permission", id)
		wantSource := fmt.Sprintf("arn:aws:execute-api:%s:%s:a1b2c3d4e5/%s/%s/%s", testRegion, testAccount, StageName, r.method, r.path)
		if perm.str("principal") != "apigateway.amazonaws.com" || perm.str("sourceArn") != wantSource {
			t.Errorf("%s: invoke permission for %s from %s, want %s", id, perm.str("principal"), perm.str("sourceArn"), wantSource)
		}
		if got := d.outputs[r.output]; got != base+r.path {
			t.Errorf("output %s = %v, want %s", r.output, got, base+r.path)
		}
	}
	for _, pkg := range []string{"oauth-login", "oauth-callback"} {
		if got := d.fn(t, pkg).env()["OAUTH_REDIRECT_URL"]; got != base+CallbackPath {
			t.Errorf("%s redirects to %q, want %s", pkg, got, base+CallbackPath)
		}
	}
	stage := d.one(t, "aws:apigateway/stage:Stage", prefix+"api")
	logs := d.one(t, "aws:cloudwatch/logGroup:LogGroup", prefix+"api-access")
	if stage.In["accessLogSettings"].ObjectValue()["destinationArn"].StringValue() != logs.Out["arn"].StringValue() {
		t.Errorf("stage access logs go to %v, want %s", stage.In["accessLogSettings"], logs.Out["arn"].StringValue())
	}
}

// TestMonitoring: encrypted DLQ drained by the alert Lambda with partial
// batch failures; the alarms; the health Lambda's schedule and exactly the
// read permissions its checks need.
func TestMonitoring(t *testing.T) {
	d := deployed(t)
	q := d.one(t, "aws:sqs/queue:Queue", prefix+"dlq")
	if !q.In["sqsManagedSseEnabled"].BoolValue() {
		t.Error("DLQ not encrypted")
	}
	esm := d.one(t, "aws:lambda/eventSourceMapping:EventSourceMapping", prefix+"alert-dlq")
	if esm.str("eventSourceArn") != q.Out["arn"].StringValue() || esm.str("functionName") != d.fn(t, "alert").Out["arn"].StringValue() ||
		fmt.Sprint(esm.plain()["functionResponseTypes"]) != "[ReportBatchItemFailures]" {
		t.Errorf("DLQ event source %v", esm.In)
	}
	topic := d.one(t, "aws:sns/topic:Topic", prefix+"alarms").Out["arn"].StringValue()
	alarms := map[string]string{
		"api-4xx": "4XXError", "api-5xx": "5XXError", "dlq-depth": "ApproximateNumberOfMessagesVisible",
		"receiver-errors": "Errors", "payload-size": "PayloadBytes", "heartbeat": "Heartbeat",
	}
	for key, metric := range alarms {
		a := d.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", prefix+key)
		if a.str("metricName") != metric || fmt.Sprint(a.plain()["alarmActions"]) != "["+topic+"]" {
			t.Errorf("alarm %s: metric %s actions %v", key, a.str("metricName"), a.plain()["alarmActions"])
		}
	}
	if got := d.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", prefix+"payload-size").In["threshold"].NumberValue(); got >= 10*1024*1024 || got < 5*1024*1024 {
		t.Errorf("payload alarm at %v bytes, want near (below) API Gateway's 10 MB", got)
	}
	if d.one(t, "aws:sns/topicSubscription:TopicSubscription", prefix+"alarms-email").str("endpoint") != "ops@example.com" {
		t.Error("alarm e-mail not subscribed")
	}
	rule := d.one(t, "aws:cloudwatch/eventRule:EventRule", prefix+"rule-health")
	if rule.str("scheduleExpression") != "rate(5 minutes)" {
		t.Errorf("health schedule %q", rule.str("scheduleExpression"))
	}
	var actions []string
	for _, s := range d.one(t, "aws:iam/rolePolicy:RolePolicy", prefix+"health").policy(t, "policy").Statement {
		actions = append(actions, s.Action...)
	}
	slices.Sort(actions)
	want := []string{"dynamodb:DescribeTable", "events:DescribeEventBus", "logs:CreateLogStream", "logs:PutLogEvents", "s3:ListBucket"}
	if !slices.Equal(actions, want) {
		t.Errorf("health may %v, want exactly %v", actions, want)
	}
	if _, ok := d.outputs["dashboardUrl"].(string); !ok {
		t.Errorf("no dashboardUrl output: %v", d.outputs)
	}
}

// TestGitHubAppSettings: the outputs tell what to paste into the App's
// settings: events every routing rule needs, and the permissions.
func TestGitHubAppSettings(t *testing.T) {
	app := deployed(t).outputs["githubApp"].(map[string]any)
	if got := fmt.Sprint(app["events"]); got != "[commit_comment issue_comment pull_request_review_comment workflow_run]" {
		t.Errorf("events %s", got)
	}
	perms, _ := app["permissions"].(map[string]string)
	for k, v := range map[string]string{"issues": "write", "pull_requests": "write", "actions": "write", "members": "read", "metadata": "read"} {
		if perms[k] != v {
			t.Errorf("permission %s = %v, want %s", k, perms[k], v)
		}
	}
	if app["webhookUrl"] != deployed(t).outputs["webhookUrl"] || app["callbackUrl"] != deployed(t).outputs["oauthCallbackUrl"] {
		t.Errorf("githubApp URLs %v", app)
	}
}

// TestBadConfigurationIsRefused: each mistake gets an error naming the key
// and how to fix it, and the program creates nothing.
func TestBadConfigurationIsRefused(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(map[string]string)
		secretKeys []string
		want       string
	}{
		{"no org", func(c map[string]string) { delete(c, "ai3:githubOrg") }, testSecretKeys, "ai3:githubOrg is required"},
		{"app id not a number", func(c map[string]string) { c["ai3:githubAppId"] = "my-app" }, testSecretKeys, "ai3:githubAppId must be"},
		{"http GHES", func(c map[string]string) { c["ai3:githubApiUrl"] = "http://ghe.example.com/api/v3" }, testSecretKeys, "ai3:githubApiUrl must be an https URL"},
		{"retention", func(c map[string]string) { c["ai3:logRetentionDays"] = "45" }, testSecretKeys, "ai3:logRetentionDays must be one of"},
		{"architecture", func(c map[string]string) { c["ai3:architecture"] = "riscv" }, testSecretKeys, "ai3:architecture must be arm64 or x86_64"},
		{"plaintext secret", func(map[string]string) {}, []string{"ai3:githubAppPrivateKey", "ai3:oauthClientSecret"},
			"ai3:webhookSecret is stored in plaintext: set it again with pulumi config set --secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(cfg)
			d, err := run(t, cfg, tt.secretKeys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testWebhookSecret) {
				t.Error("the error shows a secret value")
			}
			if d != nil && len(d.all) > 0 {
				t.Errorf("%d resources created from a bad configuration", len(d.all))
			}
		})
	}
}
