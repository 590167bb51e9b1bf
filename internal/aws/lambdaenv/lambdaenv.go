// Package lambdaenv wires, from a Lambda's environment, the AWS adapters the
// job Lambdas share (comment, step, workflow-run, finalizer): the jobs and
// marks tables, the payload bucket, the token vault (KMS envelope, refreshed
// with the OAuth client secret read from Secrets Manager at start), the
// credentials Lambda for installation tokens, and Step Functions. The
// environment names resources only, never a secret:
//
//	JOBS_TABLE, MARKS_TABLE, USER_TOKENS_TABLE   DynamoDB tables
//	TOKENS_KMS_KEY_ID                            the vault's KMS key
//	ARCHIVE_BUCKET                               S3 bucket of raw payloads
//	ARCHIVE_S3_PATH_STYLE                        "true": path-style S3 requests (S3 doubles)
//	CREDENTIALS_FUNCTION                         the credentials Lambda (name or ARN)
//	GITHUB_CLIENT_ID, OAUTH_CLIENT_SECRET_ARN    the App's OAuth client
//	GITHUB_API_URL, GITHUB_URL                   GitHub (Enterprise) roots; default github.com
//	GITHUB_ORG, GITHUB_APP_ID                    the organization, the App's numeric id
//	BOT_HANDLE                                   the mention handle (default ai3-mvp)
//	OAUTH_LOGIN_URL                              where users connect their account
//	STATE_MACHINES                               JSON: workflow name → state machine ARN
//
// The AWS SDK reads its own variables (AWS_REGION, credentials, and the
// service endpoints AWS_ENDPOINT_URL_DYNAMODB, _KMS, _S3, _SECRETS_MANAGER,
// _LAMBDA and _SFN that tests point at doubles).
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sbalswa/ai3-mvp/internal/aws/appcreds"
	"github.com/sbalswa/ai3-mvp/internal/aws/archive"
	awsjobs "github.com/sbalswa/ai3-mvp/internal/aws/jobs"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys"
	"github.com/sbalswa/ai3-mvp/internal/aws/marks"
	"github.com/sbalswa/ai3-mvp/internal/aws/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Required names the variables Load refuses to start without. GITHUB_ORG
// is what authorization asks membership of, and GITHUB_APP_ID is how the
// bot recognises the comments it wrote itself (with users' tokens, via the
// App): without it the bot would answer its own status comments.
var Required = []string{"JOBS_TABLE", "MARKS_TABLE", "USER_TOKENS_TABLE", "TOKENS_KMS_KEY_ID", "ARCHIVE_BUCKET",
	"CREDENTIALS_FUNCTION", "GITHUB_CLIENT_ID", "OAUTH_CLIENT_SECRET_ARN", "GITHUB_ORG", "GITHUB_APP_ID"}

// Shared names the variables every job Lambda needs, the ones LoadShared
// refuses to start without: Required less the marks table, the
// organization and the App id, which only the comment Lambda reads.
var Shared = []string{"JOBS_TABLE", "USER_TOKENS_TABLE", "TOKENS_KMS_KEY_ID", "ARCHIVE_BUCKET", "CREDENTIALS_FUNCTION",
	"GITHUB_CLIENT_ID", "OAUTH_CLIENT_SECRET_ARN"}

// Optional names the other variables Load reads. Load reads no variable
// outside Required, Optional and the AWS SDK's own.
var Optional = []string{"ARCHIVE_S3_PATH_STYLE", "GITHUB_API_URL", "GITHUB_URL", "BOT_HANDLE", "OAUTH_LOGIN_URL", "STATE_MACHINES",
	"INSTALLATION_TOKEN_PERMISSIONS"}

// Env is what a job Lambda works with.
type Env struct {
	Log           *slog.Logger // JSON on stdout, tokens redacted
	Jobs          *awsjobs.Store
	Marks         *marks.Store // nil from LoadShared without MARKS_TABLE
	Archive       *archive.Archive
	Vault         *tokens.Vault
	Installations *appcreds.Client
	Executor      *sfnexec.Executor
	APIURL        string
	Org, Bot      string
	AppID         int64
	LoginURL      string
	Region        string // the AWS region the SDK resolved (for console links)
}

// Load reads the environment through getenv (os.Getenv in main) and builds
// the adapters. It refuses to start, naming every missing variable, when one
// of Required or of also (the variables only this Lambda needs, such as
// STATE_MACHINES for the comment Lambda) is empty, and checks the values it
// can before any AWS call. The OAuth client secret is read from Secrets
// Manager, never from the environment.
func Load(ctx context.Context, getenv func(string) string, also ...string) (*Env, error) {
	return load(ctx, getenv, append(slices.Clone(Required), also...))
}

// LoadShared is Load for the Lambdas that need only Shared (step,
// workflow-run, finalizer): Marks is nil and AppID 0 unless MARKS_TABLE and
// GITHUB_APP_ID are set.
func LoadShared(ctx context.Context, getenv func(string) string, also ...string) (*Env, error) {
	return load(ctx, getenv, append(slices.Clone(Shared), also...))
}

func load(ctx context.Context, getenv func(string) string, required []string) (*Env, error) {
	var missing []string
	for _, k := range required {
		if getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	e := &Env{Log: slog.New(tokens.RedactingHandler(monitor.ContextHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)})),
		APIURL: getenv("GITHUB_API_URL"), Org: getenv("GITHUB_ORG"), Bot: getenv("BOT_HANDLE"), LoginURL: getenv("OAUTH_LOGIN_URL")}
	if e.Bot == "" {
		e.Bot = "ai3-mvp"
	}
	if v := getenv("GITHUB_APP_ID"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("GITHUB_APP_ID %q must be the App's numeric id", v)
		}
		e.AppID = id
	}
	machines := map[string]string{}
	if s := getenv("STATE_MACHINES"); s != "" {
		var err error
		if machines, err = sfnexec.ParseMachines(s); err != nil {
			return nil, fmt.Errorf("STATE_MACHINES: %w", err)
		}
		for name, arn := range machines {
			if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":stateMachine:") {
				return nil, fmt.Errorf("STATE_MACHINES: workflow %q maps to %q, not a state machine ARN", name, arn)
			}
		}
	}
	// The installation tokens this function asks the credentials Lambda
	// for carry only these permissions ("issues=write,members=read"; unset:
	// the App's).
	perms, err := appcreds.ParsePermissions(getenv("INSTALLATION_TOKEN_PERMISSIONS"))
	if err != nil {
		return nil, fmt.Errorf("INSTALLATION_TOKEN_PERMISSIONS: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	e.Region = cfg.Region
	secret, err := appcreds.Secret(secretsmanager.NewFromConfig(cfg), getenv("OAUTH_CLIENT_SECRET_ARN"))(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the OAuth client secret: %w", err)
	}
	clientSecret := strings.TrimSpace(string(secret))
	if clientSecret == "" {
		return nil, fmt.Errorf("the OAuth client secret %s is empty", getenv("OAUTH_CLIENT_SECRET_ARN"))
	}
	db := dynamodb.NewFromConfig(cfg)
	client := oauth.NewClient(oauth.Config{BaseURL: getenv("GITHUB_URL"), APIURL: e.APIURL,
		ClientID: getenv("GITHUB_CLIENT_ID"), ClientSecret: clientSecret})
	e.Vault = tokens.New(tokens.Config{Store: &vault.TokenStore{Client: db, Table: getenv("USER_TOKENS_TABLE")},
		Keys: kmskeys.Keys{Client: kms.NewFromConfig(cfg), KeyID: getenv("TOKENS_KMS_KEY_ID")}, Refresher: client, Log: e.Log})
	e.Jobs = awsjobs.New(db, getenv("JOBS_TABLE"), awsjobs.Options{})
	if t := getenv("MARKS_TABLE"); t != "" {
		e.Marks = marks.New(db, t, marks.Options{})
	}
	e.Archive = archive.New(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = getenv("ARCHIVE_S3_PATH_STYLE") == "true" }),
		getenv("ARCHIVE_BUCKET"), archive.Options{})
	e.Installations = &appcreds.Client{Lambda: lambda.NewFromConfig(cfg), Function: getenv("CREDENTIALS_FUNCTION"), Permissions: perms}
	e.Executor = &sfnexec.Executor{API: sfn.NewFromConfig(cfg), Machines: machines}
	return e, nil
}
