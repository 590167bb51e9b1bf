package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	"github.com/sbalswa/ai3-mvp/internal/local/claims"
	"github.com/sbalswa/ai3-mvp/internal/local/secrets"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/monitor"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// mountWebhook serves POST /webhook with the embedded adapters (SQLite
// claims, the payload archive (database rows up to 1 MiB, files beyond),
// the durable SQLite bus) and runs the bus with the
// stub, alert and health handlers. Metrics go to DATA/metrics.log in
// CloudWatch Embedded Metric Format, as they would to CloudWatch Logs.
func mountWebhook(ctx context.Context, env *devEnv, out io.Writer) error {
	var src webhook.SecretSource
	if v := env.setting("WEBHOOK_SECRET"); v != "" {
		s, err := webhook.ParseSecrets([]byte(v))
		if err != nil {
			return fmt.Errorf("WEBHOOK_SECRET: %w", err)
		}
		src = fixedSecrets(s)
	} else {
		s, err := devWebhookSecret(env.DataDir, out)
		if err != nil {
			return err
		}
		src = s
	}
	// One lock for the writers of the shared database, so they queue in Go
	// instead of sleeping in SQLite's busy handler.
	// The receiver's writes (claims, small payloads, the publish and finish)
	// share one group commit: one fsync per batch of deliveries.
	writeLock := &sync.Mutex{}
	commits := local.NewCommitter(env.DB, writeLock)
	env.WriteLock, env.Committer = writeLock, commits
	env.Cleanup(commits.Close)
	claimStore, err := claims.Open(ctx, env.DB, claims.Options{Committer: commits})
	if err != nil {
		return err
	}
	payloads, err := archive.Open(ctx, filepath.Join(env.DataDir, "payloads"), archive.Options{Committer: commits})
	if err != nil {
		return err
	}
	b, err := bus.Open(ctx, env.DB, bus.Options{Logger: env.Log, Committer: commits, Archive: payloads})
	if err != nil {
		return err
	}
	metricsFile, err := os.OpenFile(filepath.Join(env.DataDir, "metrics.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("metrics log: %w", err)
	}
	metrics := monitor.NewEMF(metricsFile, monitor.Namespace)
	env.Bus, env.Payloads = b, payloads
	b.Subscribe(monitor.NewStub(env.Log, metrics))
	b.SubscribeDeadLetters(monitor.NewAlert(env.Log, metrics))
	revocations, err := revocationHandler(ctx, env, payloads)
	if err != nil {
		metricsFile.Close()
		return err
	}
	b.Subscribe(revocations)

	r, err := webhook.New(ctx, webhook.Config{
		Secrets:   webhook.CacheSecrets(src, 10*time.Second, nil),
		Claims:    claimStore,
		Archive:   payloads,
		Publisher: claimStore.Publisher(b), // publish and mark done in one transaction
		Log:       env.Log,
	})
	if err != nil {
		metricsFile.Close()
		return err
	}
	env.Mux.Handle("/webhook", webhook.HTTPHandler(r))

	checks := map[string]monitor.Check{"claims": claimStore.Check, "archive": payloads.Check, "bus": b.Check}
	for name, check := range checks {
		env.Check(name, check)
	}
	health := monitor.NewHealth(env.Log, metrics, checks)
	env.Go(b.Run)
	env.Go(func(ctx context.Context) error { return health.Run(ctx, time.Minute) })
	env.Cleanup(metricsFile.Close) // after the loops that write metrics stopped
	env.Every(time.Hour, func(ctx context.Context) { sweep(ctx, env, claimStore, payloads) })
	return nil
}

// revocationHandler deletes a user's stored token when they revoke the app.
// It uses the login side's vault when OAuth is configured, so the deletion
// also drops that vault's cached copy; otherwise a delete-only vault over the
// same token table, so a token stored by an earlier run is still deleted
// (deleting needs neither keys nor a refresher).
func revocationHandler(ctx context.Context, env *devEnv, payloads *archive.Archive) (tokens.RevocationHandler, error) {
	v := env.Vault
	if v == nil {
		store, err := vault.NewTokenStore(ctx, env.DB)
		if err != nil {
			return tokens.RevocationHandler{}, err
		}
		v = tokens.New(tokens.Config{Store: store, Log: env.Log, CacheFor: -1})
		env.Vault = v // the commands read it too: nobody logged in reads as such
	}
	return tokens.RevocationHandler{Vault: v, Archive: payloads, Log: env.Log}, nil
}

// devWebhookSecret returns the secret source of `ai3 dev` when
// WEBHOOK_SECRET is not configured (mountWebhook uses that when it is):
// DATA/webhook-secret, created 0600 with a random secret on first run; the
// console says where it was saved, never the secret itself (consoles are
// logged and shared).
func devWebhookSecret(dataDir string, out io.Writer) (webhook.SecretSource, error) {
	path := filepath.Join(dataDir, "webhook-secret")
	if _, err := ensureWebhookSecret(path, out); err != nil {
		return nil, err
	}
	return secrets.NewFile(path), nil
}

// ensureWebhookSecret returns the secret in path, creating it (0600, random)
// on first use and then saying where it was saved, never the secret. Every
// part that needs the file (the receiver, the sandbox's webhook sender)
// goes through it, so whichever mounts first announces it.
func ensureWebhookSecret(path string, out io.Writer) (string, error) {
	secret, created, err := secrets.Ensure(path)
	if err != nil {
		return "", err
	}
	if created {
		fmt.Fprintf(out, "webhook secret: a new random secret was saved (mode 0600) in %s; paste its contents into the GitHub App's webhook secret\n", path)
	}
	return secret, nil
}

// fixedSecrets is a webhook.SecretSource over secrets known at startup.
type fixedSecrets [][]byte

func (f fixedSecrets) Secrets(context.Context) ([][]byte, error) { return f, nil }

// sweep forgets expired delivery claims and payloads archived longer than
// archive.Retention (90 days, as the S3 bucket's lifecycle) hourly, so the
// claims table holds about one day of deliveries and the archive 90.
func sweep(ctx context.Context, env *devEnv, s *claims.Store, a *archive.Archive) {
	if n, err := s.Sweep(ctx, time.Now()); err != nil {
		env.Log.Warn("sweep webhook claims", "err", err)
	} else if n > 0 {
		env.Log.Info("swept expired webhook claims", "count", n)
	}
	if n, err := a.Sweep(ctx, time.Now().Add(-archive.Retention)); err != nil {
		env.Log.Warn("sweep archived payloads", "err", err)
	} else if n > 0 {
		env.Log.Info("swept archived payloads past retention", "count", n)
	}
}
