package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
	"github.com/sbalswa/ai3-mvp/internal/local/bus"
	localjobs "github.com/sbalswa/ai3-mvp/internal/local/jobs"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// devEnv is what every part of the embedded shape is wired with: one HTTP
// mux, one data directory, one SQLite database, one logger. Parts register
// background work with Go, which runs until the server stops.
type devEnv struct {
	Mux     *http.ServeMux
	DataDir string
	DB      *sql.DB
	Log     *slog.Logger // redacts anything shaped like a GitHub token
	// Vault holds the users' tokens when OAuth login is configured (set by
	// mountOAuth); every part that reads or deletes tokens shares it, so
	// its cache never outlives a deletion made elsewhere in the process.
	Vault *tokens.Vault
	// BaseURL is the address GitHub and browsers reach this server at
	// (PUBLIC_URL, default LocalURL), known before the parts mount: links in
	// comments and the sandbox's URLs use it.
	BaseURL string
	// LocalURL is the listening address (http://host:port): what this
	// process calls itself on (the sandbox posts its webhooks there).
	LocalURL string
	// Config is every setting of this run (dev_config.go); nil in tests
	// that build a devEnv by hand, which then read the environment.
	Config *devConfig
	// ForceSandbox is --sandbox: the GitHub stand-in even with an App set.
	ForceSandbox bool
	// GitHub is the GitHub of this run (mountGitHub): an App or the sandbox.
	GitHub *devGitHub
	// WriteLock and Committer are the shared database's writers' lock and
	// group commit; Bus and Payloads the event bus and the payload archive
	// (mountWebhook). Executor and Jobs are set by mountJobs.
	WriteLock sync.Locker
	Committer *local.Committer
	Bus       *bus.Bus
	Payloads  *archive.Archive
	Executor  *localsfn.Executor
	Jobs      *localjobs.Store
	// background functions started after mounting; each returns when ctx ends.
	background []func(ctx context.Context) error
	// cleanups run in reverse order once the background functions have
	// returned, before the database closes.
	cleanups []func() error
	// health checks run by GET /healthz.
	checks map[string]func(ctx context.Context) error
}

// Go registers a background loop (bus workers, executor, schedulers).
func (e *devEnv) Go(f func(ctx context.Context) error) { e.background = append(e.background, f) }

// Every registers a background loop that runs f at once, then every d,
// until the server stops (sweeps of expired rows).
func (e *devEnv) Every(d time.Duration, f func(ctx context.Context)) {
	e.Go(func(ctx context.Context) error {
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			f(ctx)
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	})
}

// Cleanup registers f to run at shutdown, after the background loops
// stopped and before the database closes.
func (e *devEnv) Cleanup(f func() error) { e.cleanups = append(e.cleanups, f) }

// Check registers a dependency check for GET /healthz.
func (e *devEnv) Check(name string, f func(ctx context.Context) error) { e.checks[name] = f }

func newDevCmd() *cobra.Command {
	var addr, dataDir, envFile string
	var forceSandbox bool
	flags := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole system on this machine (SQLite, files, embedded bus and executor)",
		Long: "Run the whole of ai3 on this machine: the webhook receiver, the durable bus and its handlers,\n" +
			"OAuth, the embedded Step Functions executor and its API at /sfn, and the task steps. Without\n" +
			"a GitHub App it starts in sandbox mode, with a built-in GitHub stand-in under /sandbox/github/.\n\n" +
			devEnvHelp(),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := devConfigInput{Flags: map[string]string{}, Lookup: os.LookupEnv, EnvFile: envFile,
				EnvFileRequired: cmd.Flags().Changed("env-file"), Addr: addr, DataDir: dataDir, Sandbox: forceSandbox,
				FlagsSet: map[string]bool{}}
			for _, f := range []string{"addr", "data"} {
				in.FlagsSet[f] = cmd.Flags().Changed(f)
			}
			for name, v := range flags {
				if s := devSettingByName(name); cmd.Flags().Changed(s.Flag) {
					in.Flags[name] = *v
				}
			}
			cfg, err := resolveDevConfig(in)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDev(ctx, cfg, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:3000", "address to listen on")
	cmd.Flags().StringVar(&dataDir, "data", ".ai3-data", "directory for the database, archived payloads and keys")
	cmd.Flags().StringVar(&envFile, "env-file", "", "read settings from this file (default .env in the working directory, if present)")
	cmd.Flags().BoolVar(&forceSandbox, "sandbox", false, "serve the built-in GitHub stand-in even when a GitHub App is configured")
	for _, s := range devSettings() {
		if s.Flag != "" {
			flags[s.Name] = cmd.Flags().String(s.Flag, "", s.Usage+" ("+s.Name+")")
		}
	}
	return cmd
}

// devSettingByName returns the setting called name.
func devSettingByName(name string) devSetting {
	for _, s := range devSettings() {
		if s.Name == name {
			return s
		}
	}
	return devSetting{}
}

// setting returns a setting's value: from the resolved configuration, or
// — for a devEnv built by hand in a test — from the environment.
func (e *devEnv) setting(name string) string {
	if e.Config == nil {
		cfg, err := resolveDevConfig(devConfigInput{Lookup: os.LookupEnv, EnvFile: os.DevNull, DataDir: e.DataDir})
		if err != nil {
			return os.Getenv(name)
		}
		e.Config = cfg
	}
	return e.Config.Get(name)
}

func runDev(ctx context.Context, cfg *devConfig, out io.Writer) error {
	addr, dataDir := cfg.Addr, cfg.DataDir
	log := newDevLogger(os.Stderr)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db, err := local.OpenSQLite(ctx, filepath.Join(dataDir, "ai3.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	env := &devEnv{Mux: http.NewServeMux(), DataDir: dataDir, DB: db, Log: log, checks: map[string]func(context.Context) error{}}
	env.Check("sqlite", db.PingContext)

	// Listen first: the parts need the server's address (the sandbox's URLs).
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	defer ln.Close()
	env.LocalURL = "http://" + ln.Addr().String()
	cfg.applyDefaults(env.LocalURL)
	env.Config, env.BaseURL, env.ForceSandbox = cfg, cfg.PublicURL(), cfg.Sandbox
	cfg.printSummary(out, cfg.Sandbox || !cfg.HasApp())
	for _, mount := range []func(context.Context, *devEnv, io.Writer) error{
		mountGitHub,  // dev_github.go: the App or the sandbox stand-in
		mountOAuth,   // dev_oauth.go: sets env.Vault
		mountWebhook, // dev_webhook.go: sets env.Bus and env.Payloads
		mountJobs,    // dev_jobs.go: executor, jobs, commands, steps
		mountPprof,   // dev_pprof.go: Go profiles on loopback with AI3_PPROF
	} {
		if err := mount(ctx, env, out); err != nil {
			return err
		}
	}
	mountOperatorAPI(env) // dev_api.go: /api/deliveries, the sandbox's threads
	env.Mux.HandleFunc("GET /healthz", env.healthz)

	ln = limitListener(ln, devMaxConns)
	srv := newDevServer(env.Mux) // dev_server.go: timeouts and limits
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(env.background)+1)
	var loops sync.WaitGroup
	for _, f := range env.background {
		loops.Go(func() { errc <- f(ctx) })
	}
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(out, "ai3 dev listening on http://%s (data in %s)\n", ln.Addr(), dataDir)

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	cancel()
	// Let the loops finish what they hold (the bus records the deliveries
	// its handlers completed) while the database is still open.
	stopped := make(chan struct{})
	go func() { loops.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-shutdownCtx.Done():
		env.Log.Warn("background work did not stop in time")
	}
	for i := len(env.cleanups) - 1; i >= 0; i-- {
		if cerr := env.cleanups[i](); cerr != nil {
			env.Log.Warn("shutdown", "err", cerr)
		}
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// healthz answers 200 when every registered dependency answers, else 503
// naming the ones that did not and a request id; the errors, which may hold
// paths and addresses, go to the log under that id.
func (e *devEnv) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var failed []string
	id := rand.Text()[:16]
	for name, check := range e.checks {
		if err := check(ctx); err != nil {
			failed = append(failed, name)
			e.Log.ErrorContext(ctx, "health check failed", "check", name, "request_id", id, "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if len(failed) > 0 {
		slices.Sort(failed)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "failed": failed, "request_id": id})
		return
	}
	fmt.Fprintln(w, `{"ok":true}`)
}

// newDevLogger is the logger of the embedded shape: text lines on w, every
// one passed through the token redactor, whichever part logs it.
func newDevLogger(w io.Writer) *slog.Logger {
	return slog.New(tokens.RedactingHandler(slog.NewTextHandler(w, nil)))
}
