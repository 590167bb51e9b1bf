package infra

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// starExceptions are the only statements whose resource may be "*" or a
// wildcard over every resource of a kind, each because AWS offers no
// narrower resource for its actions:
//   - Step Functions' log delivery (logs:*LogDelivery*, resource policies):
//     AWS's vended-logs API has no resource-level permissions;
//   - X-Ray's PutTraceSegments/PutTelemetryRecords/sampling calls: same;
//   - logs:DescribeLogGroups (the API Gateway logging role): it lists
//     groups, so its resource is every group of the region;
//   - a KMS key policy's Resource is always "*", meaning the key itself.
var starExceptions = map[string][]string{
	"LogDeliveryAWSRequiresStar": LogDeliveryActions,
	"XRayAWSRequiresStar":        XRayActions,
	"FindLogGroup":               {"logs:DescribeLogGroups"},
}

// TestPoliciesNameTheirActionsAndResources: no IAM or queue policy allows a
// "*" action, and every resource is a named ARN but for starExceptions.
func TestPoliciesNameTheirActionsAndResources(t *testing.T) {
	d := deployed(t)
	check := func(r res, key string, keyPolicy bool) {
		for _, s := range r.policy(t, key).Statement {
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					t.Errorf("%s %s: statement %s allows action %q", r.Type, r.Name, s.Sid, a)
				}
			}
			for _, res := range s.Resource {
				// a named ARN, or everything under one: "<arn>/*", "<arn>:*"
				stars := strings.Count(res, "*")
				named := strings.HasPrefix(res, "arn:aws:") && (stars == 0 ||
					stars == 1 && (strings.HasSuffix(res, "/*") || strings.HasSuffix(res, ":*")) && !strings.HasSuffix(res, "log-group:*"))
				switch {
				case keyPolicy && res == "*":
				case res == "*" || strings.HasSuffix(res, "log-group:*"):
					allowed, ok := starExceptions[s.Sid]
					if !ok || slices.ContainsFunc(s.Action, func(a string) bool { return !slices.Contains(allowed, a) }) {
						t.Errorf("%s %s: statement %s gives %v on %q", r.Type, r.Name, s.Sid, s.Action, res)
					}
				case !named:
					t.Errorf("%s %s: statement %s resource %q is not a named ARN", r.Type, r.Name, s.Sid, res)
				}
			}
		}
	}
	n := 0
	for _, r := range d.byType("aws:iam/rolePolicy:RolePolicy") {
		check(r, "policy", false)
		n++
	}
	for _, r := range d.byType("aws:sqs/queuePolicy:QueuePolicy") {
		check(r, "policy", false)
	}
	check(d.one(t, "aws:kms/key:Key", prefix+"tokens"), "policy", true)
	if n < len(d.byType("aws:lambda/function:Function")) {
		t.Errorf("%d role policies for %d functions", n, len(d.byType("aws:lambda/function:Function")))
	}
}

// TestOneRolePerFunction: least privilege starts with no shared role.
func TestOneRolePerFunction(t *testing.T) {
	seen := map[string]string{}
	for _, f := range deployed(t).byType("aws:lambda/function:Function") {
		if other, ok := seen[f.str("role")]; ok {
			t.Errorf("%s and %s share role %s", f.Name, other, f.str("role"))
		}
		seen[f.str("role")] = f.Name
	}
}

// TestKeyPolicy: the key rotates; the account administers it but cannot
// encrypt or decrypt with it; data keys come only with the vault's
// encryption context (and to the vault's roles), or through DynamoDB for
// the UserTokens table.
func TestKeyPolicy(t *testing.T) {
	d := deployed(t)
	key := d.one(t, "aws:kms/key:Key", prefix+"tokens")
	if !key.In["enableKeyRotation"].BoolValue() {
		t.Error("key rotation off")
	}
	var vaultRoles []string
	for _, p := range VaultUsers {
		vaultRoles = append(vaultRoles, fmt.Sprintf("arn:aws:iam::%s:role/%s%s", testAccount, prefix, p))
	}
	for _, s := range key.policy(t, "policy").Statement {
		usesKey := slices.ContainsFunc(s.Action, func(a string) bool {
			return slices.Contains([]string{"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:GenerateDataKeyWithoutPlaintext"}, a)
		})
		if !usesKey {
			continue
		}
		c := s.Condition
		viaDynamoDB := c["StringEquals"]["kms:ViaService"] == "dynamodb."+testRegion+".amazonaws.com" &&
			c["StringEquals"]["kms:EncryptionContext:aws:dynamodb:tableName"] == prefix+"user-tokens"
		vaultCtx := c["StringEquals"]["kms:EncryptionContext:"+tokens.PurposeKey] == tokens.Purpose &&
			c["Null"]["kms:EncryptionContext:"+tokens.UserIDKey] == "false"
		switch {
		case viaDynamoDB:
		case vaultCtx:
			if !slices.Equal(s.Action, VaultKeyActions) {
				t.Errorf("statement %s: vault may %v, want %v", s.Sid, s.Action, VaultKeyActions)
			}
			if got := fmt.Sprint(c["ArnEquals"]["aws:PrincipalArn"]); got != fmt.Sprint(vaultRoles) {
				t.Errorf("statement %s: principals %s, want the vault's roles %v", s.Sid, got, vaultRoles)
			}
		default:
			t.Errorf("statement %s allows %v without the vault's encryption context: %v", s.Sid, s.Action, c)
		}
	}
	// Roles that use the key carry the same conditions in their own policy:
	// the vault's context (vault users only), or DynamoDB's for the
	// UserTokens table. The key policy delegates DynamoDB's use of the key to
	// IAM, so every role that touches the table has the latter, or DynamoDB
	// refuses it on AWS (the mocks cannot tell).
	userTokens := d.one(t, "aws:dynamodb/table:Table", prefix+"user-tokens").Out["arn"].StringValue()
	for _, r := range d.byType("aws:iam/rolePolicy:RolePolicy") {
		touchesTable, tableKey := false, false
		for _, s := range r.policy(t, "policy").Statement {
			if slices.Contains(s.Resource, userTokens) && slices.ContainsFunc(s.Action, func(a string) bool { return strings.HasPrefix(a, "dynamodb:") }) {
				touchesTable = true
			}
			if !slices.Contains(s.Action, "kms:Decrypt") && !slices.Contains(s.Action, "kms:GenerateDataKey") {
				continue
			}
			c := s.Condition["StringEquals"]
			switch {
			case c["kms:EncryptionContext:"+tokens.PurposeKey] == tokens.Purpose:
				if !slices.Contains(VaultUsers, strings.TrimPrefix(r.Name, prefix)) {
					t.Errorf("role %s uses the vault key but is not a vault user", r.Name)
				}
			case c["kms:ViaService"] == "dynamodb."+testRegion+".amazonaws.com" && c["kms:CallerAccount"] == testAccount &&
				c["kms:EncryptionContext:aws:dynamodb:tableName"] == prefix+"user-tokens":
				tableKey = true
			default:
				t.Errorf("role policy %s lets %v use the key without the vault's or the table's context: %v", r.Name, s.Action, s.Condition)
			}
		}
		if touchesTable && !tableKey {
			t.Errorf("role policy %s uses the UserTokens table but may not have DynamoDB use its key", r.Name)
		}
	}
}

// TestSecretsStayInSecretsManager: the secret values set with `pulumi
// config set --secret` reach their Secrets Manager versions, as secrets, and
// no other resource; no Lambda environment holds a secret.
func TestSecretsStayInSecretsManager(t *testing.T) {
	d := deployed(t)
	secrets := []string{testWebhookSecret, testAppKey, testOAuthSecret}
	found := map[string]bool{}
	for _, r := range d.all {
		for k, v := range r.In {
			walkStrings(v, false, func(s string, secret bool) {
				for _, want := range secrets {
					if !strings.Contains(s, want) {
						continue
					}
					if r.Type != "aws:secretsmanager/secretVersion:SecretVersion" || k != "secretString" || !secret {
						t.Errorf("%s %s input %s holds a secret value (secret-marked %v)", r.Type, r.Name, k, secret)
					}
					found[want] = true
				}
			})
		}
	}
	if len(found) != len(secrets) {
		t.Errorf("secret versions hold %d of the %d configured secrets", len(found), len(secrets))
	}
	for _, f := range d.byType("aws:lambda/function:Function") {
		for k, v := range f.env() {
			if v == "<secret>" {
				t.Errorf("%s: environment %s is a secret", f.Name, k)
			}
			if regexp.MustCompile(`SECRET|PRIVATE|PASSWORD|TOKEN$`).MatchString(k) && !strings.HasSuffix(k, "_ARN") {
				t.Errorf("%s: environment %s looks like a secret's value, not its name or ARN", f.Name, k)
			}
		}
	}
}

// TestOnlyCredentialsReadsTheAppKey: the App private key's secret appears in
// the policy of the credentials function alone.
func TestOnlyCredentialsReadsTheAppKey(t *testing.T) {
	d := deployed(t)
	keyARN := d.one(t, "aws:secretsmanager/secret:Secret", prefix+"app-private-key").Out["arn"].StringValue()
	var readers []string
	for _, r := range d.byType("aws:iam/rolePolicy:RolePolicy") {
		if strings.Contains(r.str("policy"), keyARN) {
			readers = append(readers, r.Name)
		}
	}
	if !slices.Equal(readers, []string{prefix + "credentials"}) {
		t.Errorf("roles that may read the App private key: %v, want the credentials function's alone", readers)
	}
	for _, f := range d.byType("aws:lambda/function:Function") {
		for k, v := range f.env() {
			if v == keyARN && f.Name != prefix+"credentials" {
				t.Errorf("%s: %s names the App private key", f.Name, k)
			}
		}
	}
}
