package vault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const childEnv = "AI3_VAULT_CHILD"

// TestSeparateProcessesRefreshOnce starts several OS processes sharing one
// SQLite file and master key; each asks for an expiring token from many
// goroutines at once. GitHub must see exactly one refresh, and every process
// must end up with the same new token.
func TestSeparateProcessesRefreshOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	gh := githubdouble.New(t, githubdouble.WithTokenLifetimes(time.Minute, time.Hour), githubdouble.WithTokenDelay(100*time.Millisecond))
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := vault.NewTokenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Open(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID, ClientSecret: gh.ClientSecret})
	g, err := oc.Exchange(ctx, gh.IssueCode("octocat", "", ""), "", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := oc.User(ctx, g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	v := tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: oc, Log: slog.New(slog.DiscardHandler)})
	if err := v.Save(ctx, u, g); err != nil { // one minute left: every reader must refresh
		t.Fatal(err)
	}
	gh.SetTokenLifetimes(8*time.Hour, 4380*time.Hour)

	const procs = 6
	outs := make([]string, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestVaultChildProcess$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_DIR="+dir, "CHILD_GH="+gh.URL, "CHILD_ID="+gh.ClientID,
			"CHILD_SECRET="+gh.ClientSecret, "CHILD_USER="+strconv.FormatInt(u.ID, 10))
		wg.Go(func() {
			b, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(b), err
		})
	}
	wg.Wait()
	var hashes []string
	for i := range procs {
		if errs[i] != nil {
			t.Fatalf("child %d: %v\n%s", i, errs[i], outs[i])
		}
		for _, line := range strings.Split(outs[i], "\n") {
			if h, ok := strings.CutPrefix(line, "TOKEN-SHA256 "); ok {
				hashes = append(hashes, h)
			}
		}
	}
	if n := gh.Count("token.refresh"); n != 1 {
		t.Fatalf("%d refresh requests from %d processes, want exactly 1", n, procs)
	}
	if len(hashes) != procs*10 {
		t.Fatalf("%d tokens reported, want %d", len(hashes), procs*10)
	}
	old := sha256.Sum256([]byte(g.AccessToken))
	for _, h := range hashes {
		if h != hashes[0] || h == hex.EncodeToString(old[:]) {
			t.Fatalf("processes got different or stale tokens: %v", hashes)
		}
	}
}

// TestVaultChildProcess is the body of one child process of the test above;
// run on its own it does nothing.
func TestVaultChildProcess(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		return
	}
	ctx := context.Background()
	dir := os.Getenv("CHILD_DIR")
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := vault.NewTokenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Open(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth.NewClient(oauth.Config{BaseURL: os.Getenv("CHILD_GH"), ClientID: os.Getenv("CHILD_ID"), ClientSecret: os.Getenv("CHILD_SECRET")})
	v := tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: oc, Log: slog.New(slog.DiscardHandler), PollEvery: 10 * time.Millisecond})
	user, _ := strconv.ParseInt(os.Getenv("CHILD_USER"), 10, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 10 {
		wg.Go(func() {
			tok, err := v.Token(ctx, user)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Token: %v", err)
				return
			}
			sum := sha256.Sum256([]byte(tok))
			fmt.Printf("TOKEN-SHA256 %s\n", hex.EncodeToString(sum[:]))
		})
	}
	wg.Wait()
}
