package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// mountPprof serves Go's profiles (net/http/pprof) on the loopback address
// AI3_PPROF names (e.g. 127.0.0.1:6060), on a listener of its own so they
// are never reachable through the webhook server; an address off loopback
// is refused. Without AI3_PPROF nothing is served.
//
//	AI3_PPROF=127.0.0.1:6060 ai3 dev
//	go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=20
//	curl -o trace.out 'http://127.0.0.1:6060/debug/pprof/trace?seconds=5'
func mountPprof(_ context.Context, env *devEnv, out io.Writer) error {
	addr := os.Getenv("AI3_PPROF")
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("AI3_PPROF %q: want host:port on loopback: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("AI3_PPROF %q: profiles are served on a loopback address only (127.0.0.1:PORT)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("AI3_PPROF: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	env.Go(func(ctx context.Context) error {
		go func() { <-ctx.Done(); _ = srv.Close() }()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			env.Log.Warn("pprof server", "err", err)
		}
		return nil
	})
	fmt.Fprintf(out, "ai3 dev: Go profiles at http://%s/debug/pprof/ (AI3_PPROF)\n", ln.Addr())
	return nil
}
