package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
)

func newSfnCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sfn",
		Short: "A local AWS Step Functions: the embedded executor behind the Step Functions API",
	}
	cmd.AddCommand(newSfnServeCmd())
	return cmd
}

// sfnServeFlags are `ai3 sfn serve`'s options.
type sfnServeFlags struct {
	addr, data, lambdaEndpoint, region, account string
	lambdas                                     []string
}

func newSfnServeCmd() *cobra.Command {
	var f sfnServeFlags
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--data DIR]",
		Short: "Serve the Step Functions API (awsJson1_0) for the SDKs and the aws CLI",
		Long: `serve runs the embedded ASL executor behind the AWS Step Functions API, so the
AWS SDKs and the aws CLI drive it as they drive AWS:

  aws stepfunctions --endpoint-url http://127.0.0.1:8083 list-state-machines

With --data, state machines, executions and their histories are kept in
DIR/sfn.db and STANDARD executions left running resume when it restarts;
without, everything lives in memory. Task states that call a Lambda function
run it over Lambda's Invoke API: --lambda NAME=URL for one function (URL is
the full invoke URL, e.g. aws-lambda-rie's
http://127.0.0.1:9000/2015-03-31/functions/function/invocations), or
--lambda-endpoint URL for every other function (LocalStack, sam local
start-lambda). Requests are not authenticated: keep --addr on loopback.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveSfn(ctx, cmd, f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", "127.0.0.1:8083", "address to listen on")
	cmd.Flags().StringVar(&f.data, "data", "", "directory for the durable database (default: in memory)")
	cmd.Flags().StringVar(&f.lambdaEndpoint, "lambda-endpoint", "", "Lambda API endpoint for functions without --lambda")
	cmd.Flags().StringArrayVar(&f.lambdas, "lambda", nil, "NAME=INVOKE-URL: run function NAME at that Lambda invoke URL (repeatable)")
	cmd.Flags().StringVar(&f.region, "region", "us-east-1", "region in ARNs")
	cmd.Flags().StringVar(&f.account, "account", "000000000000", "account id in ARNs")
	return cmd
}

func serveSfn(ctx context.Context, cmd *cobra.Command, f sfnServeFlags) error {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	handlers := map[string]localsfn.Handler{}
	for _, spec := range f.lambdas {
		name, url, ok := strings.Cut(spec, "=")
		if !ok || name == "" || !strings.HasPrefix(url, "http") {
			return fmt.Errorf("--lambda %q: want NAME=http://…/invocations", spec)
		}
		handlers[name] = localsfn.HTTPFunction(nil, url)
	}
	opts := localsfn.Options{Handlers: handlers, LambdaEndpoint: f.lambdaEndpoint, Region: f.region, Account: f.account, Log: log}
	if f.data != "" {
		if err := os.MkdirAll(f.data, 0o700); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		db, err := localsfn.OpenDB(ctx, filepath.Join(f.data, "sfn.db"))
		if err != nil {
			return err
		}
		defer db.Close()
		opts.DB = db
	}
	ex, err := localsfn.New(ctx, opts)
	if err != nil {
		return err
	}
	defer ex.Close()
	resumed, err := ex.Resume(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	srv := &http.Server{
		Handler:           sfnapi.New(ex, sfnapi.Options{Region: f.region, Account: f.account, Logger: log}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(cmd.OutOrStdout(), "Step Functions API on %s (aws stepfunctions --endpoint-url %s …); %d execution(s) resumed\n", url, url, resumed)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
