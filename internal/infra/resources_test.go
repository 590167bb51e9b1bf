package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sbalswa/ai3-mvp/internal/aws/claims"
	"github.com/sbalswa/ai3-mvp/internal/aws/jobs"
	"github.com/sbalswa/ai3-mvp/internal/aws/marks"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/workflows"
)

const prefix = "ai3-" + testStack + "-"

// TestTables checks every table against the attribute names its adapter
// exports: keys, TTL, point-in-time recovery and encryption.
func TestTables(t *testing.T) {
	d := deployed(t)
	keyARN := d.one(t, "aws:kms/key:Key", prefix+"tokens").Out["arn"].StringValue()
	tests := []struct {
		table, hash, rng, ttl string
		pitr                  bool
		kms                   string // customer key ARN, "" for AWS's key
	}{
		{"claims", claims.KeyAttribute, "", claims.TTLAttribute, false, ""},
		{"marks", marks.KeyAttribute, "", marks.TTLAttribute, false, ""},
		{"user-tokens", vault.KeyAttribute, "", "", true, keyARN},
		{"oauth-states", vault.KeyAttribute, "", vault.StateTTLAttribute, false, ""},
		{"jobs", jobs.PartitionKey, jobs.SortKey, jobs.TTLAttribute, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			tb := d.one(t, "aws:dynamodb/table:Table", prefix+tt.table)
			if tb.str("hashKey") != tt.hash || tb.str("rangeKey") != tt.rng {
				t.Errorf("keys %q/%q, want %q/%q", tb.str("hashKey"), tb.str("rangeKey"), tt.hash, tt.rng)
			}
			if tb.str("billingMode") != "PAY_PER_REQUEST" {
				t.Errorf("billing %q", tb.str("billingMode"))
			}
			ttl := tb.In["ttl"]
			switch {
			case tt.ttl == "" && ttl.HasValue():
				t.Errorf("ttl %v, want none", ttl)
			case tt.ttl != "" && (!ttl.HasValue() || ttl.ObjectValue()["attributeName"].StringValue() != tt.ttl || !ttl.ObjectValue()["enabled"].BoolValue()):
				t.Errorf("ttl %v, want enabled on %s", ttl, tt.ttl)
			}
			if got := tb.In["pointInTimeRecovery"].ObjectValue()["enabled"].BoolValue(); got != tt.pitr {
				t.Errorf("point-in-time recovery %v, want %v", got, tt.pitr)
			}
			sse := tb.In["serverSideEncryption"].ObjectValue()
			gotKey := ""
			if k, ok := sse["kmsKeyArn"]; ok && k.IsString() {
				gotKey = k.StringValue()
			}
			if gotKey != tt.kms || sse["enabled"].BoolValue() != (tt.kms != "") {
				t.Errorf("encryption %v, want customer key %q", sse, tt.kms)
			}
		})
	}
}

// TestJobsTableIsTheAdapters compares the Jobs table with jobs.TableInput,
// the layout the store's queries need (attributes, indexes, projections).
func TestJobsTableIsTheAdapters(t *testing.T) {
	tb := deployed(t).one(t, "aws:dynamodb/table:Table", prefix+"jobs")
	want := jobs.TableInput("")
	var attrs, wantAttrs []string
	for _, a := range tb.In["attributes"].ArrayValue() {
		attrs = append(attrs, a.ObjectValue()["name"].StringValue()+":"+a.ObjectValue()["type"].StringValue())
	}
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	slices.Sort(attrs)
	slices.Sort(wantAttrs)
	if !slices.Equal(attrs, wantAttrs) {
		t.Errorf("attributes %v, want %v", attrs, wantAttrs)
	}
	var got, wantIdx []string
	for _, g := range tb.In["globalSecondaryIndexes"].ArrayValue() {
		o := g.ObjectValue()
		got = append(got, fmt.Sprintf("%s(%s,%s)%s", o["name"].StringValue(), o["hashKey"].StringValue(), o["rangeKey"].StringValue(), o["projectionType"].StringValue()))
	}
	for _, g := range want.GlobalSecondaryIndexes {
		var h, r string
		for _, k := range g.KeySchema {
			if k.KeyType == types.KeyTypeHash {
				h = aws.ToString(k.AttributeName)
			} else {
				r = aws.ToString(k.AttributeName)
			}
		}
		wantIdx = append(wantIdx, fmt.Sprintf("%s(%s,%s)%s", aws.ToString(g.IndexName), h, r, g.Projection.ProjectionType))
	}
	if !slices.Equal(got, wantIdx) {
		t.Errorf("indexes %v, want %v", got, wantIdx)
	}
}

// TestPayloadBucket: private, encrypted, TLS only, objects gone after 90 days.
func TestPayloadBucket(t *testing.T) {
	d := deployed(t)
	name := prefix + "payloads"
	pab := d.one(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if v, ok := pab.In[resource.PropertyKey(k)]; !ok || !v.BoolValue() {
			t.Errorf("public access block %s is not true", k)
		}
	}
	if own := d.one(t, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name); !strings.Contains(fmt.Sprint(own.In), "BucketOwnerEnforced") {
		t.Errorf("ownership %v, want ACLs disabled (BucketOwnerEnforced)", own.In)
	}
	sse := d.one(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", name)
	rule := sse.In["rules"].ArrayValue()[0].ObjectValue()["applyServerSideEncryptionByDefault"].ObjectValue()
	if rule["sseAlgorithm"].StringValue() != "AES256" {
		t.Errorf("default encryption %v", rule)
	}
	lc := d.one(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", name).In["rules"].ArrayValue()
	if len(lc) != 1 {
		t.Fatalf("%d lifecycle rules, want 1", len(lc))
	}
	r := lc[0].ObjectValue()
	if r["status"].StringValue() != "Enabled" || r["expiration"].ObjectValue()["days"].NumberValue() != 90 ||
		r["filter"].ObjectValue()["prefix"].StringValue() != "" {
		t.Errorf("lifecycle rule %v, want every object expiring after 90 days", r)
	}
	bucketARN := d.one(t, "aws:s3/bucketV2:BucketV2", name).Out["arn"].StringValue()
	var pol struct {
		Statement []struct {
			Effect, Action string
			Principal      any
			Resource       []string
			Condition      map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(d.one(t, "aws:s3/bucketPolicy:BucketPolicy", name).str("policy")), &pol); err != nil {
		t.Fatal(err)
	}
	tlsOnly := false
	for _, s := range pol.Statement {
		if s.Effect == "Deny" && s.Action == "s3:*" && s.Principal == "*" && s.Condition["Bool"]["aws:SecureTransport"] == "false" &&
			slices.Contains(s.Resource, bucketARN) && slices.Contains(s.Resource, bucketARN+"/*") {
			tlsOnly = true
		}
		if s.Effect == "Allow" {
			t.Errorf("bucket policy allows %v to %v", s.Action, s.Principal)
		}
	}
	if !tlsOnly {
		t.Errorf("bucket policy does not deny requests without TLS: %+v", pol)
	}
}

// TestWAF: 1000 requests per 5 minutes per IP, AWS's common and known bad
// inputs groups, the common group's body rules counted instead of blocking.
func TestWAF(t *testing.T) {
	d := deployed(t)
	acl := d.one(t, "aws:wafv2/webAcl:WebAcl", prefix+"waf")
	if acl.str("scope") != "REGIONAL" {
		t.Errorf("scope %q", acl.str("scope"))
	}
	rules := map[string]map[string]any{}
	for _, r := range acl.plain()["rules"].([]any) {
		m := r.(map[string]any)
		rules[m["name"].(string)] = m
	}
	rate := rules[RateLimitRule]
	if rate == nil {
		t.Fatalf("no rule %s in %v", RateLimitRule, rules)
	}
	rb := rate["statement"].(map[string]any)["rateBasedStatement"].(map[string]any)
	if rb["limit"] != 1000.0 || rb["evaluationWindowSec"] != 300.0 || rb["aggregateKeyType"] != "IP" {
		t.Errorf("rate rule %v, want 1000 per 300 s per IP", rb)
	}
	if _, ok := rate["action"].(map[string]any)["block"]; !ok {
		t.Errorf("rate rule action %v, want block", rate["action"])
	}
	for _, group := range []string{CommonRuleSet, KnownBadInputsSet} {
		g := rules[group]
		if g == nil {
			t.Fatalf("no managed group %s", group)
		}
		if _, ok := g["overrideAction"].(map[string]any)["none"]; !ok {
			t.Errorf("%s override %v, want none (the group's own actions)", group, g["overrideAction"])
		}
		st := g["statement"].(map[string]any)["managedRuleGroupStatement"].(map[string]any)
		if st["vendorName"] != "AWS" || st["name"] != group {
			t.Errorf("%s statement %v", group, st)
		}
		counted := map[string]bool{}
		if ov, ok := st["ruleActionOverrides"].([]any); ok {
			for _, o := range ov {
				m := o.(map[string]any)
				if _, ok := m["actionToUse"].(map[string]any)["count"]; ok {
					counted[m["name"].(string)] = true
				}
			}
		}
		want := map[string]bool{}
		if group == CommonRuleSet {
			for _, r := range []string{"GenericLFI_BODY", "CrossSiteScripting_BODY", "GenericRFI_BODY", "SizeRestrictions_BODY", "EC2MetaDataSSRF_BODY"} {
				want[r] = true
			}
		}
		if fmt.Sprint(counted) != fmt.Sprint(want) {
			t.Errorf("%s rules overridden to count %v, want %v", group, counted, want)
		}
	}
	assoc := d.one(t, "aws:wafv2/webAclAssociation:WebAclAssociation", prefix+"waf")
	stage := d.one(t, "aws:apigateway/stage:Stage", prefix+"api")
	if assoc.str("resourceArn") != stage.Out["arn"].StringValue() || assoc.str("webAclArn") != acl.Out["arn"].StringValue() {
		t.Errorf("WebACL associated with %q, want the stage %q", assoc.str("resourceArn"), stage.Out["arn"].StringValue())
	}
}

// TestStateMachines: one machine per workflow, of its declared type, whose
// definition is the compiler's ASL with the real Lambda ARNs, logged and
// traced, with a role that may invoke exactly those Lambdas.
func TestStateMachines(t *testing.T) {
	d := deployed(t)
	arnOf := func(fn string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", testRegion, testAccount, fn)
	}
	for _, wf := range workflows.Names() {
		t.Run(wf, func(t *testing.T) {
			m := d.one(t, "aws:sfn/stateMachine:StateMachine", prefix+"wf-"+wf)
			var used []string
			want, kind, err := workflows.Definition(wf, func(task string) string {
				// the stack's function for the task: "ai3-<stack>-<package>"
				a := arnOf(prefix + strings.TrimPrefix(workflows.FunctionName(task), workflows.FunctionPrefix))
				used = append(used, a)
				return a
			})
			if err != nil {
				t.Fatal(err)
			}
			if m.str("definition") != string(want) {
				t.Errorf("definition differs from the compiled ASL:\n got %s\nwant %s", m.str("definition"), want)
			}
			if strings.Contains(m.str("definition"), "000000000000") {
				t.Error("definition holds a placeholder ARN")
			}
			if m.str("type") != kind {
				t.Errorf("type %q, want %q", m.str("type"), kind)
			}
			lc := m.In["loggingConfiguration"].ObjectValue()
			if dest := lc["logDestination"].StringValue(); !strings.HasPrefix(dest, "arn:aws:logs:") || !strings.HasSuffix(dest, ":*") {
				t.Errorf("log destination %q, want a log group ARN ending :*", dest)
			}
			if !m.In["tracingConfiguration"].ObjectValue()["enabled"].BoolValue() {
				t.Error("X-Ray tracing off")
			}
			pol := d.one(t, "aws:iam/rolePolicy:RolePolicy", prefix+"wf-"+wf).policy(t, "policy")
			var invokable []string
			for _, s := range pol.Statement {
				if slices.Contains(s.Action, "lambda:InvokeFunction") {
					invokable = append(invokable, s.Resource...)
				}
			}
			slices.Sort(invokable)
			used = slices.Compact(slices.Sorted(slices.Values(used)))
			if !slices.Equal(invokable, used) {
				t.Errorf("role may invoke %v, the definition uses %v", invokable, used)
			}
		})
	}
	machines, _ := deployed(t).outputs["stateMachineArns"].(map[string]string)
	if len(machines) != len(workflows.Names()) {
		t.Errorf("stateMachineArns output %v, want one per workflow %v", machines, workflows.Names())
	}
}

// TestEventRules renders each rule of internal/events on the bus with its
// handler, a retry policy and the DLQ; the execution-status rule feeds the
// finalizer.
func TestEventRules(t *testing.T) {
	d := deployed(t)
	dlq := d.one(t, "aws:sqs/queue:Queue", prefix+"dlq").Out["arn"].StringValue()
	handler := map[string]string{
		events.TargetStub: "stub", events.TargetComment: "comment", events.TargetWorkflowRun: "workflow-run",
		events.TargetAppAuthorization: "revocation",
	}
	type check struct{ rule, pattern, bus, pkg string }
	var checks []check
	for _, r := range events.Rules() {
		checks = append(checks, check{"rule-" + r.Name, r.EventPattern(), prefix + "events", handler[r.Target]})
	}
	for _, c := range checks {
		t.Run(c.rule, func(t *testing.T) {
			rule := d.one(t, "aws:cloudwatch/eventRule:EventRule", prefix+c.rule)
			if rule.str("eventPattern") != c.pattern || rule.str("eventBusName") != c.bus {
				t.Errorf("pattern %s on %s, want %s on %s", rule.str("eventPattern"), rule.str("eventBusName"), c.pattern, c.bus)
			}
			target := d.one(t, "aws:cloudwatch/eventTarget:EventTarget", prefix+c.rule)
			fn := d.fn(t, c.pkg)
			if target.str("arn") != fn.Out["arn"].StringValue() {
				t.Errorf("target %s, want %s", target.str("arn"), fn.Out["arn"].StringValue())
			}
			rp := target.In["retryPolicy"].ObjectValue()
			if rp["maximumRetryAttempts"].NumberValue() < 1 || rp["maximumEventAgeInSeconds"].NumberValue() < 60 {
				t.Errorf("retry policy %v", rp)
			}
			if got := target.In["deadLetterConfig"].ObjectValue()["arn"].StringValue(); got != dlq {
				t.Errorf("target DLQ %s, want %s", got, dlq)
			}
			perm := d.one(t, "aws:lambda/permission:Permission", prefix+c.rule)
			if perm.str("principal") != "events.amazonaws.com" || perm.str("sourceArn") != rule.Out["arn"].StringValue() {
				t.Errorf("invoke permission %v", perm.In)
			}
			if got := fn.In["deadLetterConfig"].ObjectValue()["targetArn"].StringValue(); got != dlq {
				t.Errorf("function's async DLQ %q, want %s", got, dlq)
			}
		})
	}
	status := d.one(t, "aws:cloudwatch/eventRule:EventRule", prefix+"rule-execution-status")
	var p struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			StateMachineArn []string `json:"stateMachineArn"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(status.str("eventPattern")), &p); err != nil {
		t.Fatal(err)
	}
	if status.str("eventBusName") != "default" || fmt.Sprint(p.Source) != "[aws.states]" ||
		fmt.Sprint(p.DetailType) != "[Step Functions Execution Status Change]" || len(p.Detail.StateMachineArn) != len(workflows.Names()) {
		t.Errorf("execution status rule %s on %s", status.str("eventPattern"), status.str("eventBusName"))
	}
	if got := d.one(t, "aws:cloudwatch/eventTarget:EventTarget", prefix+"rule-execution-status").str("arn"); got != d.fn(t, "finalizer").Out["arn"].StringValue() {
		t.Errorf("execution status goes to %s, want the finalizer", got)
	}
	// The schedule that runs the finalizer's Reconcile, allowed to invoke it.
	sched := d.one(t, "aws:cloudwatch/eventRule:EventRule", prefix+"rule-reconcile")
	if sched.str("scheduleExpression") != ReconcileSchedule || sched.str("eventBusName") != "default" || sched.str("eventPattern") != "" {
		t.Errorf("reconcile rule %v", sched.In)
	}
	if got := d.one(t, "aws:cloudwatch/eventTarget:EventTarget", prefix+"rule-reconcile").str("arn"); got != d.fn(t, "finalizer").Out["arn"].StringValue() {
		t.Errorf("the reconcile schedule goes to %s, want the finalizer", got)
	}
	if perm := d.one(t, "aws:lambda/permission:Permission", prefix+"rule-reconcile"); perm.str("sourceArn") != sched.Out["arn"].StringValue() {
		t.Errorf("reconcile invoke permission %v", perm.In)
	}
	// Reconcile describes executions, and completes the task token of a
	// step whose run's webhook was lost: the finalizer may, only of ai3's
	// machines.
	var describes, completes []string
	for _, s := range d.one(t, "aws:iam/rolePolicy:RolePolicy", prefix+"finalizer").policy(t, "policy").Statement {
		if slices.Contains(s.Action, "states:DescribeExecution") {
			describes = append(describes, s.Resource...)
		}
		if slices.Contains(s.Action, "states:SendTaskSuccess") && slices.Contains(s.Action, "states:SendTaskFailure") {
			completes = append(completes, s.Resource...)
		}
	}
	if len(completes) != len(workflows.Names()) {
		t.Errorf("the finalizer may complete task tokens of %v, want each of ai3's state machines", completes)
	}
	for _, r := range completes {
		if !strings.Contains(r, ":stateMachine:"+prefix+"wf-") {
			t.Errorf("the finalizer may complete task tokens of %s, not one of ai3's machines", r)
		}
	}
	if len(describes) != len(workflows.Names()) {
		t.Errorf("the finalizer may describe executions of %v, want one ARN pattern per workflow", describes)
	}
	for _, r := range describes {
		if !strings.Contains(r, ":execution:"+prefix+"wf-") && !strings.Contains(r, ":express:"+prefix+"wf-") {
			t.Errorf("the finalizer may describe %s, not an execution of ai3's machines", r)
		}
	}
}
