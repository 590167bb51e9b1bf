package infra

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Auth holds who may act: the App's secrets, the token vault (a KMS key and
// the UserTokens table), the OAuth state table and the Lambdas of the OAuth
// web flow, the credential manager and the revocation handler.
type Auth struct {
	pulumi.ResourceState

	Key           *kms.Key
	WebhookSecret *secretsmanager.Secret
	AppKeySecret  *secretsmanager.Secret
	OAuthSecret   *secretsmanager.Secret
	UserTokens    *dynamodb.Table
	States        *dynamodb.Table
	Credentials   *Function
	Login         *Function
	Callback      *Function
	Revocation    *Function
	vaultRoleARNs []string // roles that may use the key with the vault's context
	s             *stack
}

// keyAdminActions manage the key; none of them encrypts or decrypts.
var keyAdminActions = []string{
	"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:DescribeKey", "kms:EnableKey", "kms:DisableKey",
	"kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:PutKeyPolicy",
	"kms:ListKeyPolicies", "kms:ListResourceTags", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant", "kms:TagResource",
	"kms:UntagResource", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
	"kms:RotateKeyOnDemand", "kms:ListKeyRotations",
}

// VaultKeyActions are what the vault does with the key.
var VaultKeyActions = []string{"kms:GenerateDataKey", "kms:Decrypt"}

// vaultContext is the condition every use of the key by the vault carries.
func vaultContext() map[string]map[string]any {
	return map[string]map[string]any{
		"StringEquals": {"kms:EncryptionContext:" + tokens.PurposeKey: tokens.Purpose},
		"Null":         {"kms:EncryptionContext:" + tokens.UserIDKey: "false"},
	}
}

// NewAuth creates the key, the secrets, the vault's tables and the
// credentials Lambda. vaultUsers are the packages whose functions seal or
// open user tokens: the key policy names their roles.
func NewAuth(s *stack, name string, vaultUsers []string) (*Auth, error) {
	c := &Auth{s: s}
	if err := s.ctx.RegisterComponentResource("ai3:infra:Auth", name, c); err != nil {
		return nil, err
	}
	for _, p := range vaultUsers {
		c.vaultRoleARNs = append(c.vaultRoleARNs, s.arn("iam", "", "role/"+s.name(p)))
	}
	opt := pulumi.Parent(c)
	var err error
	if c.Key, err = kms.NewKey(s.ctx, s.name("tokens"), &kms.KeyArgs{
		Description:          pulumi.String("ai3 " + s.prefix + ": user token data keys and the UserTokens table"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               c.keyPolicy(),
	}, opt); err != nil {
		return nil, err
	}
	if _, err = kms.NewAlias(s.ctx, s.name("tokens"), &kms.AliasArgs{
		Name: pulumi.String("alias/" + s.name("tokens")), TargetKeyId: c.Key.KeyId,
	}, opt); err != nil {
		return nil, err
	}
	secret := func(suffix, what string, value pulumi.StringOutput, has bool) (*secretsmanager.Secret, error) {
		sec, err := secretsmanager.NewSecret(s.ctx, s.name(suffix), &secretsmanager.SecretArgs{
			Name: pulumi.String(s.name(suffix)), Description: pulumi.String(what), RecoveryWindowInDays: pulumi.Int(7),
		}, opt)
		if err != nil || !has {
			return sec, err
		}
		_, err = secretsmanager.NewSecretVersion(s.ctx, s.name(suffix), &secretsmanager.SecretVersionArgs{
			SecretId: sec.ID(), SecretString: value,
		}, opt)
		return sec, err
	}
	if c.WebhookSecret, err = secret("webhook-secret", "GitHub App webhook secret", s.cfg.WebhookSecret, s.cfg.HasWebhookSecret); err != nil {
		return nil, err
	}
	if c.AppKeySecret, err = secret("app-private-key", "GitHub App private key (PEM)", s.cfg.AppPrivateKey, s.cfg.HasAppPrivateKey); err != nil {
		return nil, err
	}
	if c.OAuthSecret, err = secret("oauth-client-secret", "GitHub App OAuth client secret", s.cfg.OAuthClientSecret, s.cfg.HasOAuthSecret); err != nil {
		return nil, err
	}
	if c.UserTokens, err = s.table(c, TableSpec{Suffix: "user-tokens", Hash: vault.KeyAttribute, PITR: true, KMSKey: c.Key.Arn}); err != nil {
		return nil, err
	}
	if c.States, err = s.table(c, TableSpec{Suffix: "oauth-states", Hash: vault.KeyAttribute, TTL: vault.StateTTLAttribute}); err != nil {
		return nil, err
	}
	if c.Credentials, err = s.function(c, FunctionArgs{
		Package:     "credentials",
		Description: "Mints GitHub App installation tokens; the only reader of the App private key",
		Env: pulumi.StringMap{
			"GITHUB_APP_ID":             pulumi.String(strconv.FormatInt(s.cfg.GitHubAppID, 10)),
			"GITHUB_INSTALLATION_ID":    pulumi.String(strconv.FormatInt(s.cfg.GitHubInstallationID, 10)),
			"TOKEN_PERMISSIONS":         pulumi.String(TokenPermissions()),
			"GITHUB_APP_KEY_SECRET_ARN": c.AppKeySecret.Arn,
			"GITHUB_API_URL":            pulumi.String(s.cfg.GitHubAPIURL),
		},
		Policy: []Statement{{Sid: "AppPrivateKey", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: S(c.AppKeySecret.Arn)}},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// TokenPermissions is the credentials Lambda's TOKEN_PERMISSIONS: the App's
// permissions, "name=level" joined by commas, sorted.
func TokenPermissions() string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(AppPermissions)) {
		out = append(out, k+"="+AppPermissions[k])
	}
	return strings.Join(out, ",")
}

// keyPolicy lets the account administer the key but not use it; the vault's
// roles use it only with the vault's encryption context, and DynamoDB only
// for the UserTokens table.
func (c *Auth) keyPolicy() pulumi.StringOutput {
	s := c.s
	root := map[string][]pulumi.StringInput{"AWS": S(pulumi.String(s.arn("iam", "", "root")))}
	var roles []pulumi.StringInput
	for _, r := range c.vaultRoleARNs {
		roles = append(roles, pulumi.String(r))
	}
	vaultCond := vaultContext()
	vaultCond["ArnEquals"] = map[string]any{"aws:PrincipalArn": roles}
	via := map[string]any{"kms:ViaService": "dynamodb." + s.region + ".amazonaws.com", "kms:CallerAccount": s.account}
	tableCtx := map[string]any{"kms:ViaService": "dynamodb." + s.region + ".amazonaws.com", "kms:CallerAccount": s.account,
		"kms:EncryptionContext:aws:dynamodb:tableName": s.name("user-tokens")}
	return Policy(
		Statement{Sid: "KeyAdministration", Principal: root, Actions: keyAdminActions, Resources: S(pulumi.String("*"))},
		Statement{Sid: "VaultDataKeys", Principal: root, Actions: VaultKeyActions, Resources: S(pulumi.String("*")), Condition: vaultCond},
		Statement{Sid: "DynamoDBTableKeyGrants", Principal: root, Actions: []string{"kms:DescribeKey", "kms:CreateGrant"},
			Resources: S(pulumi.String("*")), Condition: map[string]map[string]any{"StringEquals": via}},
		Statement{Sid: "DynamoDBTableEncryption", Principal: root,
			Actions:   TableKeyActions,
			Resources: S(pulumi.String("*")), Condition: map[string]map[string]any{"StringEquals": tableCtx}},
	)
}

// VaultStatements are the IAM statements of a function that seals or opens
// user tokens: its items in UserTokens and the key, with the vault's context,
// and the key as DynamoDB uses it for that table on the function's behalf.
func (c *Auth) VaultStatements() []Statement {
	return append([]Statement{
		{Sid: "UserTokens", Actions: tableActions, Resources: S(c.UserTokens.Arn)},
		{Sid: "TokenDataKeys", Actions: VaultKeyActions, Resources: S(c.Key.Arn), Condition: vaultContext()},
	}, c.TableKeyStatements()...)
}

// TableKeyActions are what DynamoDB does with the key for a caller of the
// UserTokens table (encrypted with it); the key policy delegates them to
// IAM, so every role that reads or writes the table needs them.
var TableKeyActions = []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"}

// TableKeyStatements let a role that uses the UserTokens table have DynamoDB
// use the key for it: only through DynamoDB, in this account, and only with
// that table's encryption context (DescribeKey carries no context).
func (c *Auth) TableKeyStatements() []Statement {
	s := c.s
	via := map[string]any{"kms:ViaService": "dynamodb." + s.region + ".amazonaws.com", "kms:CallerAccount": s.account}
	table := map[string]any{"kms:ViaService": "dynamodb." + s.region + ".amazonaws.com", "kms:CallerAccount": s.account,
		"kms:EncryptionContext:aws:dynamodb:tableName": s.name("user-tokens")}
	return []Statement{
		{Sid: "UserTokensTableKey", Actions: TableKeyActions, Resources: S(c.Key.Arn), Condition: map[string]map[string]any{"StringEquals": table}},
		{Sid: "UserTokensTableKeyInfo", Actions: []string{"kms:DescribeKey"}, Resources: S(c.Key.Arn), Condition: map[string]map[string]any{"StringEquals": via}},
	}
}

// Handlers creates the OAuth web flow's Lambdas (their URLs come from the
// API, built from its id) and the revocation handler.
func (c *Auth) Handlers(ing *Ingestion, loginPath, callbackPath string) error {
	s := c.s
	var err error
	if c.Login, err = s.function(c, FunctionArgs{
		Package:     "oauth-login",
		Description: "GET /oauth/login: stores a state nonce and redirects to GitHub",
		Env: pulumi.StringMap{
			"GITHUB_URL": pulumi.String(s.cfg.GitHubURL), "GITHUB_CLIENT_ID": pulumi.String(s.cfg.GitHubClientID),
			"OAUTH_STATES_TABLE": c.States.Name, "OAUTH_REDIRECT_URL": ing.URL(callbackPath),
		},
		Policy: []Statement{{Sid: "OAuthStates", Actions: []string{"dynamodb:PutItem"}, Resources: S(c.States.Arn)}},
	}); err != nil {
		return err
	}
	if c.Callback, err = s.function(c, FunctionArgs{
		Package:     "oauth-callback",
		Description: "GET /oauth/callback: consumes the state, exchanges the code, seals the user's tokens",
		Timeout:     15,
		Env: pulumi.StringMap{
			"GITHUB_URL": pulumi.String(s.cfg.GitHubURL), "GITHUB_API_URL": pulumi.String(s.cfg.GitHubAPIURL),
			"GITHUB_CLIENT_ID": pulumi.String(s.cfg.GitHubClientID), "OAUTH_CLIENT_SECRET_ARN": c.OAuthSecret.Arn,
			"OAUTH_STATES_TABLE": c.States.Name, "OAUTH_REDIRECT_URL": ing.URL(callbackPath),
			"USER_TOKENS_TABLE": c.UserTokens.Name, "TOKENS_KMS_KEY_ID": c.Key.Arn,
		},
		Policy: append([]Statement{
			{Sid: "OAuthStates", Actions: []string{"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DeleteItem"}, Resources: S(c.States.Arn)},
			{Sid: "OAuthClientSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: S(c.OAuthSecret.Arn)},
		}, c.VaultStatements()...),
	}); err != nil {
		return err
	}
	if c.Revocation, err = s.function(c, FunctionArgs{
		Package:     "revocation",
		Description: "Deletes a user's stored tokens when they revoke the App",
		Env:         pulumi.StringMap{"USER_TOKENS_TABLE": c.UserTokens.Name, "ARCHIVE_BUCKET": ing.Bucket.Bucket},
		Policy: append([]Statement{
			{Sid: "DeleteUserTokens", Actions: []string{"dynamodb:DeleteItem"}, Resources: S(c.UserTokens.Arn)},
			{Sid: "ReadPayloads", Actions: []string{"s3:GetObject"}, Resources: S(pulumi.Sprintf("%s/*", ing.Bucket.Arn))},
		}, c.TableKeyStatements()...),
		DeadLetter: ing.deadLetterARN,
	}); err != nil {
		return err
	}
	if err := ing.Route("GET", loginPath, c.Login); err != nil {
		return err
	}
	return ing.Route("GET", callbackPath, c.Callback)
}
