// Package appcreds carries GitHub App installation tokens across Lambdas.
// The credentials Lambda (Handler) is the only function whose role may read
// the App private key from Secrets Manager (Secret); every other function
// asks it through Client, a githubapp.InstallationTokens that invokes it with
// an API-Gateway-v2-shaped payload.
package appcreds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
)

// SecretsAPI is the part of the Secrets Manager client Secret uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Secret returns a function that reads a secret's current value (string or
// binary) at run time; only the secret's id is configuration.
func Secret(api SecretsAPI, secretID string) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
		if err != nil {
			return nil, fmt.Errorf("get secret %s: %w", secretID, err)
		}
		if out.SecretString != nil {
			return []byte(*out.SecretString), nil
		}
		if len(out.SecretBinary) == 0 {
			return nil, fmt.Errorf("secret %s is empty", secretID)
		}
		return out.SecretBinary, nil
	}
}

// tokenPath is the route the credentials Lambda answers.
func tokenPath(installationID int64) string {
	return "/installations/" + strconv.FormatInt(installationID, 10) + "/token"
}

// ScopedTokens mints installation tokens limited to permissions
// (githubapp.Minter); no permissions means every permission of the App.
type ScopedTokens interface {
	ScopedToken(ctx context.Context, installationID int64, perms map[string]string) (githubapp.InstallationToken, error)
}

// Handler is the credentials Lambda: POST /installations/{id}/token, with an
// optional body {"permissions":{"issues":"write",…}}, answers
// {"token":…, "expires_at":…}.
type Handler struct {
	Tokens ScopedTokens
	// Installation is the configured organization's installation: the only
	// one tokens are minted for (403 for any other; 0 refuses every request).
	Installation int64
	// Allowed, when set, is the most any caller may ask for; a caller that
	// asks for no permissions gets exactly these. Unset: callers get what
	// they ask for, or every permission of the App when they ask for none.
	Allowed map[string]string
	Log     *slog.Logger
}

// TokenRequest is the body of a token request.
type TokenRequest struct {
	Permissions map[string]string `json:"permissions,omitempty"`
}

// Handle serves one API-Gateway-v2-shaped request.
func (h Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	method, path := req.RequestContext.HTTP.Method, req.RawPath
	rest, ok := strings.CutPrefix(path, "/installations/")
	idText, ok2 := strings.CutSuffix(rest, "/token")
	id, err := strconv.ParseInt(idText, 10, 64)
	switch {
	case method != http.MethodPost || !ok || !ok2:
		return reply(http.StatusNotFound, map[string]string{"error": "no route " + method + " " + path}), nil
	case err != nil || id <= 0:
		return reply(http.StatusBadRequest, map[string]string{"error": "installation id must be a positive integer"}), nil
	case id != h.Installation:
		log.WarnContext(ctx, "refused a token for another installation", "installation_id", id, "configured", h.Installation)
		return reply(http.StatusForbidden, map[string]string{"error": fmt.Sprintf("installation %d is not this deployment's organization", id)}), nil
	}
	var in TokenRequest
	if strings.TrimSpace(req.Body) != "" {
		if err := json.Unmarshal([]byte(req.Body), &in); err != nil {
			return reply(http.StatusBadRequest, map[string]string{"error": "body must be {\"permissions\":{name:\"read\"|\"write\"}}"}), nil
		}
	}
	perms, err := h.grant(in.Permissions)
	if err != nil {
		log.WarnContext(ctx, "refused a token beyond the allowed permissions", "installation_id", id, "err", err)
		return reply(http.StatusForbidden, map[string]string{"error": err.Error()}), nil
	}
	tok, err := h.Tokens.ScopedToken(ctx, id, perms)
	if err != nil {
		log.ErrorContext(ctx, "mint installation token", "installation_id", id, "err", err)
		return reply(http.StatusBadGateway, map[string]string{"error": fmt.Sprintf("could not mint a token for installation %d", id)}), nil
	}
	return reply(http.StatusOK, tok), nil
}

// grant checks asked against Allowed and returns the permissions to mint.
func (h Handler) grant(asked map[string]string) (map[string]string, error) {
	if h.Allowed == nil {
		return asked, nil
	}
	if len(asked) == 0 {
		return h.Allowed, nil
	}
	for name, level := range asked {
		max, ok := h.Allowed[name]
		if !ok || (level == "write" && max != "write") || (level != "read" && level != "write") {
			return nil, fmt.Errorf("permission %s:%s is not allowed (allowed: %v)", name, level, h.Allowed)
		}
	}
	return asked, nil
}

// ParsePermissions reads "issues=write,members=read" (the credentials
// Lambda's TOKEN_PERMISSIONS); "" is nil.
func ParsePermissions(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		name, level, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || name == "" || (level != "read" && level != "write") {
			return nil, fmt.Errorf("permission %q: want name=read or name=write", kv)
		}
		out[name] = level
	}
	return out, nil
}

func reply(status int, body any) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(body)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// LambdaAPI is the part of the Lambda client Client uses.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Client is githubapp.InstallationTokens over lambda:InvokeFunction of the
// credentials Lambda. Tokens are cached until RefreshBefore (default 5
// minutes) of their life remains.
type Client struct {
	Lambda   LambdaAPI
	Function string
	// Permissions, when set, are what this caller's tokens are limited to.
	Permissions   map[string]string
	RefreshBefore time.Duration
	Now           func() time.Time

	mu    sync.Mutex
	cache map[int64]githubapp.InstallationToken
}

// InstallationToken implements githubapp.InstallationTokens.
func (c *Client) InstallationToken(ctx context.Context, installationID int64) (githubapp.InstallationToken, error) {
	now, early := time.Now, c.RefreshBefore
	if c.Now != nil {
		now = c.Now
	}
	if early == 0 {
		early = 5 * time.Minute
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.cache[installationID]; ok && t.ExpiresAt.Sub(now()) > early {
		return t, nil
	}
	t, err := c.invoke(ctx, installationID)
	if err != nil {
		return githubapp.InstallationToken{}, err
	}
	if c.cache == nil {
		c.cache = map[int64]githubapp.InstallationToken{}
	}
	c.cache[installationID] = t
	return t, nil
}

func (c *Client) invoke(ctx context.Context, installationID int64) (githubapp.InstallationToken, error) {
	var req events.APIGatewayV2HTTPRequest
	req.Version, req.RouteKey = "2.0", "POST /installations/{id}/token"
	req.RawPath = tokenPath(installationID)
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = http.MethodPost, req.RawPath
	req.PathParameters = map[string]string{"id": strconv.FormatInt(installationID, 10)}
	req.Headers = map[string]string{"content-type": "application/json"}
	if len(c.Permissions) > 0 {
		body, _ := json.Marshal(TokenRequest{Permissions: c.Permissions})
		req.Body = string(body)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return githubapp.InstallationToken{}, err
	}
	out, err := c.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(c.Function), Payload: payload})
	if err != nil {
		return githubapp.InstallationToken{}, fmt.Errorf("invoke %s for installation %d: %w", c.Function, installationID, err)
	}
	if out.FunctionError != nil {
		return githubapp.InstallationToken{}, fmt.Errorf("invoke %s for installation %d: function error %s: %s",
			c.Function, installationID, *out.FunctionError, truncate(out.Payload))
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		return githubapp.InstallationToken{}, fmt.Errorf("invoke %s: answer is not an HTTP response: %w", c.Function, err)
	}
	if resp.StatusCode != http.StatusOK {
		return githubapp.InstallationToken{}, fmt.Errorf("invoke %s for installation %d: HTTP %d %s", c.Function, installationID, resp.StatusCode, truncate([]byte(resp.Body)))
	}
	var tok githubapp.InstallationToken
	if err := json.Unmarshal([]byte(resp.Body), &tok); err != nil || tok.Token == "" || tok.ExpiresAt.IsZero() {
		return githubapp.InstallationToken{}, errors.Join(fmt.Errorf("invoke %s: answer has no token and expiry", c.Function), err)
	}
	return tok, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
