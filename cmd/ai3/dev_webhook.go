package main

import (
	"context"
	"io"
)

// mountWebhook serves POST /webhook with the embedded adapters and starts the durable bus.
func mountWebhook(ctx context.Context, env *devEnv, out io.Writer) error {
	return nil
}
