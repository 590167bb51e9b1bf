package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// devGitHub is the GitHub `ai3 dev` talks to: a real GitHub App (APP_ID and
// PRIVATE_KEY_PATH set), or the built-in sandbox stand-in.
type devGitHub struct {
	APIURL        string // REST root, ending in "/"
	WebURL        string // web root (OAuth), no trailing "/"
	Bot           string // mention handle
	AppID         int64
	Org           string
	Installations githubapp.InstallationTokens
	Authorizer    *githubapp.Authorizer
	// Sandbox is the stand-in in sandbox mode, nil with a real App.
	Sandbox *sandbox.Sandbox
	// ClientID and ClientSecret are the sandbox App's OAuth credentials.
	ClientID, ClientSecret string
}

// sandboxInstallation is the sandbox App's installation on its organization.
const sandboxInstallation = 1

// mountGitHub chooses the GitHub of this run. With APP_ID and
// PRIVATE_KEY_PATH it is the real App (GITHUB_API_URL or GHE_HOST for GitHub
// Enterprise); without them, or with --sandbox, it serves the sandbox under
// /sandbox/github/ (state in DATA/github-sandbox.json), which sends its
// webhooks to this server's /webhook signed with the webhook secret.
func mountGitHub(ctx context.Context, env *devEnv, out io.Writer) error {
	bot := env.setting("BOT_HANDLE")
	if bot == "" {
		bot = "ai3-mvp"
	}
	appID, keyPath := env.setting("APP_ID"), env.setting("PRIVATE_KEY_PATH")
	if appID != "" && keyPath != "" && !env.ForceSandbox {
		id, err := strconv.ParseInt(appID, 10, 64)
		if err != nil {
			return fmt.Errorf("APP_ID %q: %w", appID, err)
		}
		api, web := githubURLs(env.setting)
		key := func(context.Context) ([]byte, error) { return os.ReadFile(keyPath) }
		minter := &githubapp.Minter{AppID: id, Key: key, APIURL: api}
		org := env.setting("GITHUB_ORG")
		env.GitHub = &devGitHub{APIURL: api, WebURL: web, Bot: bot, AppID: id, Org: org, Installations: minter,
			Authorizer: &githubapp.Authorizer{Org: org, Installations: minter, APIURL: api}}
		fmt.Fprintf(out, "ai3 dev: GitHub App %d at %s (org %q)\n", id, api, org)
		return nil
	}
	secretPath := filepath.Join(env.DataDir, "webhook-secret")
	secret := env.setting("WEBHOOK_SECRET")
	if secret == "" {
		s, err := ensureWebhookSecret(secretPath, out) // dev_webhook.go
		if err != nil {
			return err
		}
		secret = s
	}
	base := strings.TrimSuffix(env.BaseURL, "/")
	local := strings.TrimSuffix(cmp.Or(env.LocalURL, env.BaseURL), "/")
	sink := &sandbox.HTTPSink{URL: local + "/webhook", Secret: []byte(strings.SplitN(secret, "\n", 2)[0])}
	sb, err := sandbox.Open(sandbox.Config{BaseURL: base + "/sandbox/github", DataDir: env.DataDir, AutoCreate: true,
		InstallationID: sandboxInstallation, Deliver: sink.Deliver, Logger: env.Log})
	if err != nil {
		return err
	}
	sink.AppID = sb.AppID()
	env.Cleanup(sink.Close) // cleanups run last-first: the stand-in stops, then its sink drains
	env.Cleanup(sb.Close)
	env.Mux.Handle("/sandbox/github/", http.StripPrefix("/sandbox/github", sb))
	mountSandboxControl(env, sb)
	key := sb.AppPrivateKey()
	minter := &githubapp.Minter{AppID: sb.AppID(), APIURL: sb.APIURL(), Key: func(context.Context) ([]byte, error) { return key, nil }}
	env.GitHub = &devGitHub{APIURL: sb.APIURL(), WebURL: sb.BaseURL(), Bot: bot, AppID: sb.AppID(), Org: sb.Org(),
		Installations: minter, Sandbox: sb, ClientID: sb.ClientID(), ClientSecret: sb.ClientSecret(),
		Authorizer: &githubapp.Authorizer{Org: sb.Org(), Installations: minter, APIURL: sb.APIURL()}}
	fmt.Fprintf(out, "ai3 dev: SANDBOX MODE — no GitHub App configured (set APP_ID and PRIVATE_KEY_PATH for a real one).\n"+
		"  GitHub stand-in: %s (REST at %s); sandbox users are org members with write access.\n", sb.BaseURL(), sb.APIURL())
	return nil
}

// githubURLs returns the REST and web roots: GITHUB_API_URL / GITHUB_URL, or
// those of GHE_HOST, or github.com's.
func githubURLs(get func(string) string) (api, web string) {
	api, web = get("GITHUB_API_URL"), get("GITHUB_URL")
	if h := get("GHE_HOST"); h != "" {
		if api == "" {
			api = "https://" + h + "/api/v3/"
		}
		if web == "" {
			web = "https://" + h
		}
	}
	if api == "" {
		api = "https://api.github.com/"
	}
	if web == "" {
		web = "https://github.com"
	}
	return api, web
}

// sandboxLogins connects sandbox users as they comment: in sandbox mode a
// user who writes to the bot is an org member with write access and a stored
// login (issued by the stand-in's OAuth, as the web flow would), unless the
// stand-in was told otherwise. It wraps the comment handler.
type sandboxLogins struct {
	next  events.Handler
	sb    *sandbox.Sandbox
	vault *tokens.Vault
	refs  jobs.Store // holds who logged out (noLoginKey)
}

func (s sandboxLogins) Name() string { return s.next.Name() }

func (s sandboxLogins) Handle(ctx context.Context, env *events.Envelope) error {
	if env.Sender != "" && !strings.HasSuffix(env.Sender, "[bot]") && !s.loggedOut(ctx, env.Sender) {
		u := s.sb.EnsureUser(env.Sender)
		if _, err := s.vault.Token(ctx, u.ID); errors.Is(err, tokens.ErrNotFound) {
			g := s.sb.IssueUserToken(u.Login)
			err := s.vault.Save(ctx, tokens.User{ID: u.ID, Login: u.Login}, tokens.Grant{AccessToken: g.AccessToken,
				RefreshToken: g.RefreshToken, AccessExpiresAt: g.Expiry, RefreshExpiresAt: g.RefreshExpiry})
			if err != nil {
				return fmt.Errorf("connect sandbox user %s: %w", u.Login, err)
			}
		}
	}
	return s.next.Handle(ctx, env)
}

func (s sandboxLogins) loggedOut(ctx context.Context, login string) bool {
	_, err := s.refs.GetRef(ctx, noLoginKey(login))
	return err == nil
}
