// Package stepwire wires internal/steps over the AWS adapters, the same way
// for the step, workflow-run and finalizer Lambdas: the job store in
// DynamoDB, the user-token vault (DynamoDB + KMS, refreshed with the OAuth
// client secret read from Secrets Manager at start), installation tokens
// from the credentials Lambda, Step Functions for task callbacks, and the
// payload archive in S3. The environment holds names and ARNs only.
package stepwire

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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
	"github.com/sbalswa/ai3-mvp/internal/aws/sfnexec"
	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// Wired is what the Lambdas need.
type Wired struct {
	Service *steps.Service
	Archive events.Archive // nil without ARCHIVE_BUCKET
	Log     *slog.Logger
}

// required lists the environment variables every step Lambda needs.
var required = []string{"JOBS_TABLE", "USER_TOKENS_TABLE", "TOKENS_KMS_KEY_ID", "CREDENTIALS_FUNCTION",
	"GITHUB_CLIENT_ID", "OAUTH_CLIENT_SECRET_ARN"}

// FromEnv builds the service from the environment. It fails, naming what is
// missing, rather than start half-wired.
func FromEnv(ctx context.Context) (*Wired, error) {
	log := slog.New(tokens.RedactingHandler(monitor.ContextHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)}))
	var missing []string
	for _, k := range required {
		if os.Getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment lacks %s", strings.Join(missing, ", "))
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	secret, err := appcreds.Secret(secretsmanager.NewFromConfig(cfg), os.Getenv("OAUTH_CLIENT_SECRET_ARN"))(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the OAuth client secret: %w", err)
	}
	db := dynamodb.NewFromConfig(cfg)
	apiURL := os.Getenv("GITHUB_API_URL")
	client := oauth.NewClient(oauth.Config{BaseURL: os.Getenv("GITHUB_URL"), APIURL: apiURL,
		ClientID: os.Getenv("GITHUB_CLIENT_ID"), ClientSecret: strings.TrimSpace(string(secret))})
	users := tokens.New(tokens.Config{
		Store:     &vault.TokenStore{Client: db, Table: os.Getenv("USER_TOKENS_TABLE")},
		Keys:      kmskeys.Keys{Client: kms.NewFromConfig(cfg), KeyID: os.Getenv("TOKENS_KMS_KEY_ID")},
		Refresher: client, Log: log,
	})
	region := cfg.Region
	svc := steps.New(steps.Deps{
		Store:         awsjobs.New(db, os.Getenv("JOBS_TABLE"), awsjobs.Options{}),
		Callbacks:     &sfnexec.Executor{API: sfn.NewFromConfig(cfg)},
		Users:         users,
		Installations: &appcreds.Client{Lambda: lambda.NewFromConfig(cfg), Function: os.Getenv("CREDENTIALS_FUNCTION")},
		APIURL:        apiURL,
		BotHandle:     os.Getenv("BOT_HANDLE"),
		Log:           log,
		Nodes: func(name string) []render.Node {
			if w, err := workflows.Get(name); err == nil {
				return render.NodesOf(w)
			}
			return nil
		},
		ExecutionURL: func(j *jobs.Job) string { return render.ConsoleURL(region, j.ExecutionARN) },
	})
	var arch events.Archive
	if b := os.Getenv("ARCHIVE_BUCKET"); b != "" {
		arch = archive.New(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = os.Getenv("ARCHIVE_S3_PATH_STYLE") == "true" }), b, archive.Options{})
	}
	return &Wired{Service: svc, Archive: arch, Log: log}, nil
}
