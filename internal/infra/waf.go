package infra

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// WAF rule names and the managed rule groups the WebACL uses.
const (
	RateLimitRule     = "rate-limit-per-ip"
	CommonRuleSet     = "AWSManagedRulesCommonRuleSet"
	KnownBadInputsSet = "AWSManagedRulesKnownBadInputsRuleSet"
	// RateWindowSeconds is the window WAF counts an IP's requests over.
	RateWindowSeconds = 300
)

// BodyRulesExcluded are the common rule set's body-inspection rules that
// would block legitimate webhooks (code, diffs and bodies past 8 KB in
// GitHub payloads). WAFv2 excludes a managed rule by overriding its action
// to Count: it is still evaluated and counted, never blocks.
var BodyRulesExcluded = []string{"GenericLFI_BODY", "CrossSiteScripting_BODY", "GenericRFI_BODY", "SizeRestrictions_BODY", "EC2MetaDataSSRF_BODY"}

// firewall attaches a regional WebACL to the stage: a rate limit per IP,
// then AWS's common and known-bad-inputs rule groups.
func (c *Ingestion) firewall() error {
	s := c.s
	visibility := func(metric string) *wafv2.WebAclRuleVisibilityConfigArgs {
		return &wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric),
		}
	}
	var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
	for _, r := range BodyRulesExcluded {
		overrides = append(overrides, &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
			Name: pulumi.String(r),
			ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
				Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
			},
		})
	}
	managed := func(name string, priority int, overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray) *wafv2.WebAclRuleArgs {
		return &wafv2.WebAclRuleArgs{
			Name: pulumi.String(name), Priority: pulumi.Int(priority),
			OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: &wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
				VendorName: pulumi.String("AWS"), Name: pulumi.String(name), RuleActionOverrides: overrides,
			}},
			VisibilityConfig: visibility(name),
		}
	}
	acl, err := wafv2.NewWebAcl(s.ctx, s.name("waf"), &wafv2.WebAclArgs{
		Name:          pulumi.String(s.name("api")),
		Description:   pulumi.String("Rate limit and AWS managed rules in front of the ai3 API"),
		Scope:         pulumi.String("REGIONAL"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules: wafv2.WebAclRuleArray{
			&wafv2.WebAclRuleArgs{
				Name: pulumi.String(RateLimitRule), Priority: pulumi.Int(0),
				Action: &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
				Statement: &wafv2.WebAclRuleStatementArgs{RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
					Limit: pulumi.Int(s.cfg.WAFRateLimit), AggregateKeyType: pulumi.String("IP"),
					EvaluationWindowSec: pulumi.Int(RateWindowSeconds),
				}},
				VisibilityConfig: visibility(RateLimitRule),
			},
			managed(CommonRuleSet, 10, overrides),
			managed(KnownBadInputsSet, 20, nil),
		},
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(true), MetricName: pulumi.String(s.name("api")),
		},
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	_, err = wafv2.NewWebAclAssociation(s.ctx, s.name("waf"), &wafv2.WebAclAssociationArgs{
		ResourceArn: c.Stage.Arn, WebAclArn: acl.Arn,
	}, pulumi.Parent(c))
	return err
}
