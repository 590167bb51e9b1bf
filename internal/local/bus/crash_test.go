package bus

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

const crashChildEnv = "AI3_BUS_CRASH_CHILD_DB"

// crashChild is the child half of TestSurvivesSIGKILL: it publishes 50
// events, reports them, starts delivering with a handler that never returns,
// and waits to be killed.
func crashChild(t *testing.T, path string) {
	ctx := context.Background()
	b := newBus(t, openDB(t, path), fastOpts())
	started := make(chan struct{}, 100)
	b.Subscribe(events.HandlerFunc(events.TargetStub, func(ctx context.Context, env *events.Envelope) error {
		started <- struct{}{}
		select {} // in flight until the kill
	}))
	for i := range 50 {
		if err := b.Publish(ctx, envelope(fmt.Sprintf("k%02d", i), "push")); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("PUBLISHED k%02d\n", i)
	}
	go func() { _ = b.Run(ctx) }()
	<-started
	fmt.Println("IN_FLIGHT")
	select {}
}

// A process killed with SIGKILL while deliveries are in flight loses
// nothing: every event whose Publish returned is delivered after a restart
// on the same file, the in-flight ones included.
func TestSurvivesSIGKILL(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "bus.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesSIGKILL$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var published []string
	lines := bufio.NewScanner(out)
	deadline := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	inFlight := false
	for lines.Scan() {
		line := lines.Text()
		if id, ok := strings.CutPrefix(line, "PUBLISHED "); ok {
			published = append(published, id)
		}
		if line == "IN_FLIGHT" {
			inFlight = true
			break
		}
	}
	if !inFlight {
		t.Fatalf("child never reached a delivery in flight (published %d)", len(published))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	b := newBus(t, openDB(t, path), fastOpts())
	rec := newRecorder(events.TargetStub)
	b.Subscribe(rec)
	run(t, b)
	got := rec.waitFor(t, len(published))
	slices.Sort(got)
	if !slices.Equal(got, published) || len(published) != 50 {
		t.Fatalf("after SIGKILL and restart delivered %v, want the %d published %v", got, len(published), published)
	}
}
