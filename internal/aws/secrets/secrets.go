// Package secrets is the AWS webhook.SecretSource: the webhook secret stored
// in Secrets Manager (one secret per line, current first), read at run time
// by its ARN. Only the ARN is configuration; the value never reaches an
// environment variable or a log.
package secrets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// API is the part of the Secrets Manager client the source uses.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Source reads one secret's current version each time it is asked (wrap it
// with webhook.CacheSecrets to read less often).
type Source struct {
	api API
	id  string
}

var _ webhook.SecretSource = (*Source)(nil)

// New returns a source reading secretID (an ARN or a name).
func New(api API, secretID string) *Source { return &Source{api: api, id: secretID} }

// Secrets implements webhook.SecretSource.
func (s *Source) Secrets(ctx context.Context) ([][]byte, error) {
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	if err != nil {
		return nil, fmt.Errorf("get webhook secret %s: %w", s.id, err)
	}
	raw := out.SecretBinary
	if out.SecretString != nil {
		raw = []byte(*out.SecretString)
	}
	secrets, err := webhook.ParseSecrets(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook secret %s: %w", s.id, err)
	}
	return secrets, nil
}
