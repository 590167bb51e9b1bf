package infra

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Config is the stack's configuration (Pulumi.<stack>.yaml, namespace
// "ai3"). Pulumi.yaml declares the same keys with their descriptions.
type Config struct {
	GitHubOrg   string // organization the App serves
	GitHubAppID int64  // the App's numeric id
	// GitHubInstallationID is the App's installation on the organization:
	// the only one the credentials Lambda mints tokens for.
	GitHubInstallationID int64
	GitHubClientID       string // the App's OAuth client id
	BotHandle            string // mention handle, without "@"
	GitHubURL            string // web URL (GHES: https://ghe.example.com)
	GitHubAPIURL         string // REST API URL (GHES: https://ghe.example.com/api/v3)
	AlarmEmail           string // where alarms are mailed; none when empty
	LogRetention         int    // days CloudWatch keeps every log group
	Architecture         string // Lambda architecture: arm64 or x86_64
	WAFRateLimit         int    // requests per 5 minutes per IP before WAF blocks
	// ManageAPIGatewayAccount sets the region's API Gateway CloudWatch role
	// (required for access logs); false when the account already has one.
	ManageAPIGatewayAccount bool

	// Optional secret values from `pulumi config set --secret`; when unset
	// the secrets are created empty and filled outside Pulumi.
	WebhookSecret     pulumi.StringOutput
	AppPrivateKey     pulumi.StringOutput
	OAuthClientSecret pulumi.StringOutput
	HasWebhookSecret  bool
	HasAppPrivateKey  bool
	HasOAuthSecret    bool
}

// ConfigKeys are every key LoadConfig reads (namespace "ai3"); Pulumi.yaml
// declares each with its type and description.
var ConfigKeys = []string{"githubOrg", "githubAppId", "githubClientId", "githubInstallationId", "botHandle", "githubUrl",
	"githubApiUrl", "alarmEmail", "logRetentionDays", "architecture", "wafRateLimit", "manageApiGatewayAccount",
	"webhookSecret", "githubAppPrivateKey", "oauthClientSecret"}

// logRetentions are the retention periods CloudWatch Logs accepts.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// GOARCH is the Go architecture of the Lambda binaries.
func (c Config) GOARCH() string {
	if c.Architecture == "x86_64" {
		return "amd64"
	}
	return "arm64"
}

// LoadConfig reads and checks the stack's configuration. Every error names
// the key and says how to set it.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
	get := func(key, def string) string {
		if !slices.Contains(ConfigKeys, key) {
			panic("infra: config key " + key + " is not in ConfigKeys") // a programming error, caught by every test
		}
		if v := config.Get(ctx, "ai3:"+key); v != "" {
			return v
		}
		return def
	}
	var errs []string
	bad := func(key, why string) {
		errs = append(errs, fmt.Sprintf("ai3:%s %s (pulumi config set ai3:%s VALUE)", key, why, key))
	}
	c := Config{
		GitHubOrg:      get("githubOrg", ""),
		GitHubClientID: get("githubClientId", ""),
		BotHandle:      strings.TrimPrefix(get("botHandle", "ai3-mvp"), "@"),
		GitHubURL:      strings.TrimRight(get("githubUrl", "https://github.com"), "/"),
		GitHubAPIURL:   strings.TrimRight(get("githubApiUrl", "https://api.github.com"), "/"),
		AlarmEmail:     get("alarmEmail", ""),
		Architecture:   get("architecture", "arm64"),
	}
	if c.GitHubOrg == "" {
		bad("githubOrg", "is required: the GitHub organization the App is installed on")
	}
	if c.GitHubClientID == "" {
		bad("githubClientId", "is required: the App's OAuth client id (App settings, 'Client ID')")
	}
	if id, err := strconv.ParseInt(get("githubAppId", ""), 10, 64); err != nil || id <= 0 {
		bad("githubAppId", "must be the App's numeric id (App settings, 'App ID')")
	} else {
		c.GitHubAppID = id
	}
	if id, err := strconv.ParseInt(get("githubInstallationId", ""), 10, 64); err != nil || id <= 0 {
		bad("githubInstallationId", "must be the numeric id of the App's installation on the organization (the number at the end of the installation's settings URL)")
	} else {
		c.GitHubInstallationID = id
	}
	for key, u := range map[string]string{"githubUrl": c.GitHubURL, "githubApiUrl": c.GitHubAPIURL} {
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" {
			bad(key, fmt.Sprintf("must be an https URL, got %q", u))
		}
	}
	if c.AlarmEmail != "" && !strings.Contains(c.AlarmEmail, "@") {
		bad("alarmEmail", fmt.Sprintf("must be an e-mail address, got %q", c.AlarmEmail))
	}
	if !slices.Contains([]string{"arm64", "x86_64"}, c.Architecture) {
		bad("architecture", fmt.Sprintf("must be arm64 or x86_64, got %q", c.Architecture))
	}
	var err error
	if c.LogRetention, err = strconv.Atoi(get("logRetentionDays", "30")); err != nil || !slices.Contains(logRetentions, c.LogRetention) {
		bad("logRetentionDays", fmt.Sprintf("must be one of CloudWatch's periods %v", logRetentions))
	}
	if c.WAFRateLimit, err = strconv.Atoi(get("wafRateLimit", "1000")); err != nil || c.WAFRateLimit < 10 {
		bad("wafRateLimit", "must be a whole number of requests per 5 minutes, at least 10")
	}
	if c.ManageAPIGatewayAccount, err = strconv.ParseBool(get("manageApiGatewayAccount", "true")); err != nil {
		bad("manageApiGatewayAccount", "must be true or false")
	}
	secret := func(key string) (pulumi.StringOutput, bool) {
		if !slices.Contains(ConfigKeys, key) {
			panic("infra: config key " + key + " is not in ConfigKeys")
		}
		full := "ai3:" + key
		if _, ok := ctx.GetConfig(full); !ok {
			return pulumi.StringOutput{}, false
		}
		if !ctx.IsConfigSecret(full) {
			errs = append(errs, fmt.Sprintf("ai3:%s is stored in plaintext: set it again with pulumi config set --secret ai3:%s", key, key))
		}
		return config.GetSecret(ctx, full), true
	}
	c.WebhookSecret, c.HasWebhookSecret = secret("webhookSecret")
	c.AppPrivateKey, c.HasAppPrivateKey = secret("githubAppPrivateKey")
	c.OAuthClientSecret, c.HasOAuthSecret = secret("oauthClientSecret")
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("stack configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}
