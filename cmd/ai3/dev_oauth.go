package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// clientSecretFile is the data-directory file that may hold the OAuth client
// secret (mode 0600) instead of GITHUB_CLIENT_SECRET.
const clientSecretFile = "github-client-secret"

// mountOAuth serves GET /oauth/login and GET /oauth/callback with the embedded
// adapters. Without an OAuth client configured the server still starts and
// both routes answer 503 saying what to set.
func mountOAuth(ctx context.Context, env *devEnv, out io.Writer) error {
	id := env.setting("GITHUB_CLIENT_ID")
	secret, err := oauthClientSecret(env.setting("GITHUB_CLIENT_SECRET"), env.DataDir)
	if err != nil {
		return err
	}
	baseURL, apiURL := env.setting("GITHUB_URL"), env.setting("GITHUB_API_URL")
	if gh := env.GitHub; gh != nil && gh.Sandbox != nil && id == "" {
		// Sandbox mode: log in at the stand-in, as its App.
		id, secret, baseURL, apiURL = gh.ClientID, gh.ClientSecret, gh.WebURL, gh.APIURL
	}
	if id == "" || secret == "" {
		why := "OAuth is not configured: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (or write the secret to " +
			filepath.Join(env.DataDir, clientSecretFile) + " with mode 0600) and restart."
		fmt.Fprintln(out, "ai3 dev: OAuth login disabled —", why)
		// The page names what to set, not where: paths stay on the console.
		public := "OAuth login is not configured on this server: its operator sets GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET and restarts it."
		env.Mux.Handle("GET /oauth/login", oauth.Unavailable(public))
		env.Mux.Handle("GET /oauth/callback", oauth.Unavailable(public))
		return nil
	}
	nonces, err := vault.NewNonceStore(ctx, env.DB)
	if err != nil {
		return err
	}
	store, err := vault.NewTokenStore(ctx, env.DB)
	if err != nil {
		return err
	}
	keys, err := keyring.Open(filepath.Join(env.DataDir, "master.key"))
	if err != nil {
		return err
	}
	log := env.Log
	client := oauth.NewClient(oauth.Config{
		BaseURL: baseURL, APIURL: apiURL,
		ClientID: id, ClientSecret: secret,
	})
	env.Vault = tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: client, Log: log})
	web := &oauth.Web{Client: client, Nonces: nonces, Tokens: env.Vault, Log: log,
		RedirectURL: env.setting("AI3_OAUTH_REDIRECT_URL"),
		// Each login stores a state for 10 minutes: 10 at once, then one
		// per 6 s per client bounds what a flood of /oauth/login stores.
		Limiter: oauth.NewLimiter(6*time.Second, 10)}
	if gh := env.GitHub; web.RedirectURL == "" && gh != nil && gh.Sandbox != nil && id == gh.ClientID {
		// The stand-in has no App settings page holding a callback URL, so
		// the login names ours (GitHub would fall back to the App's).
		web.RedirectURL = strings.TrimSuffix(env.BaseURL, "/") + "/oauth/callback"
	}
	web.Mount(env.Mux)
	env.Every(oauth.StateTTL, func(ctx context.Context) {
		if err := nonces.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("sweep login states", "err", err)
		}
	})
	fmt.Fprintln(out, "ai3 dev: OAuth login at /oauth/login (client", id+")")
	return nil
}

// oauthClientSecret returns configured (GITHUB_CLIENT_SECRET from the
// environment or .env) when set, else the 0600 secret file in the data
// directory; "" when neither is set.
func oauthClientSecret(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, clientSecretFile)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("OAuth client secret file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("OAuth client secret file %s has mode %v: run `chmod 600 %s`", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("OAuth client secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
