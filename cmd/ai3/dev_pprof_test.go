package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestMountPprof: AI3_PPROF serves the profiles on its own loopback
// listener (not on the webhook server's mux); an address off loopback or
// without a port is refused; unset, nothing is served.
func TestMountPprof(t *testing.T) {
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "example.com:6060", "127.0.0.1"} {
		t.Setenv("AI3_PPROF", bad)
		if err := mountPprof(context.Background(), newTestEnv(t), io.Discard); err == nil || !strings.Contains(err.Error(), "AI3_PPROF") {
			t.Errorf("AI3_PPROF=%s: err = %v, want a refusal naming AI3_PPROF", bad, err)
		}
	}
	t.Setenv("AI3_PPROF", "")
	env := newTestEnv(t)
	if err := mountPprof(context.Background(), env, io.Discard); err != nil || len(env.background) != 0 {
		t.Fatalf("unset: err %v, %d background loops", err, len(env.background))
	}

	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	t.Setenv("AI3_PPROF", addr)
	env = newTestEnv(t)
	var out strings.Builder
	if err := mountPprof(context.Background(), env, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "http://"+addr+"/debug/pprof/") {
		t.Errorf("startup line %q does not say where", out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.background[0](ctx) }()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.200s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/debug/pprof/"); err == nil {
		t.Error("profiles still served after the server stopped")
	}
}
