package tokens_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

// rig is one SQLite file, one master key, one GitHub double; newVault makes
// as many independent Vaults (think: Lambdas) over them as a test wants.
type rig struct {
	t      testing.TB
	dir    string
	gh     *githubdouble.Server
	clk    *testenv.Clock
	store  *vault.TokenStore
	keys   *keyring.Keyring
	client *oauth.Client
	logs   *bytes.Buffer
	logMu  sync.Mutex
}

func newRig(t testing.TB, opts ...githubdouble.Option) *rig {
	t.Helper()
	ctx := context.Background()
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(t, append([]githubdouble.Option{githubdouble.WithClock(clk.Now)}, opts...)...)
	dir := t.TempDir()
	db, err := local.OpenSQLite(ctx, filepath.Join(dir, "ai3.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := vault.NewTokenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Open(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	client := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, Now: clk.Now})
	return &rig{t: t, dir: dir, gh: gh, clk: clk, store: store, keys: keys, client: client, logs: &bytes.Buffer{}}
}

func (r *rig) Write(p []byte) (int, error) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return r.logs.Write(p)
}

func (r *rig) newVault() *tokens.Vault {
	log := slog.New(tokens.RedactingHandler(slog.NewJSONHandler(r, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return tokens.New(tokens.Config{Store: r.store, Keys: r.keys, Refresher: r.client, Now: r.clk.Now, Log: log,
		PollEvery: 5 * time.Millisecond})
}

// login runs a real code exchange against the double and saves the grant.
func (r *rig) login(v *tokens.Vault, login string) (tokens.User, tokens.Grant) {
	r.t.Helper()
	ctx := context.Background()
	code := r.gh.IssueCode(login, "", "")
	g, err := r.client.Exchange(ctx, code, "", "")
	if err != nil {
		r.t.Fatal(err)
	}
	u, err := r.client.User(ctx, g.AccessToken)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := v.Save(ctx, u, g); err != nil {
		r.t.Fatal(err)
	}
	return u, g
}

func TestTokenServesAFreshTokenWithoutRefreshing(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	u, g := r.login(v, "octocat")
	r.clk.Advance(7*time.Hour + 54*time.Minute) // 6 minutes left
	got, err := v.Token(context.Background(), u.ID)
	if err != nil || got != g.AccessToken {
		t.Fatalf("Token = %q, %v; want the stored token", got, err)
	}
	if n := r.gh.Count("token.refresh"); n != 0 {
		t.Fatalf("%d refreshes for a token with 6 minutes left", n)
	}
}

func TestTokenRefreshesAndPersistsTheRotation(t *testing.T) {
	r := newRig(t)
	u, g := r.login(r.newVault(), "octocat")
	ctx := context.Background()
	seen := map[string]bool{g.AccessToken: true}
	for round := 1; round <= 3; round++ {
		r.clk.Advance(7*time.Hour + 56*time.Minute) // under 5 minutes left
		got, err := r.newVault().Token(ctx, u.ID)   // a fresh process each round
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if seen[got] {
			t.Fatalf("round %d: got an old token", round)
		}
		seen[got] = true
		if n := r.gh.Count("token.refresh"); n != round {
			t.Fatalf("round %d: %d refresh requests", round, n)
		}
		// The token really works on GitHub.
		if who, err := r.client.User(ctx, got); err != nil || who.ID != u.ID {
			t.Fatalf("round %d: refreshed token does not work: %v", round, err)
		}
	}
	rec, _ := r.store.Get(ctx, u.ID)
	if rec.Version != 4 {
		t.Fatalf("version = %d after 3 refreshes, want 4", rec.Version)
	}
}

func TestConcurrentTokenCallsRefreshExactlyOnce(t *testing.T) {
	// 100 vaults stand for 100 Lambda instances: each has its own cache and
	// in-flight refresh, so only the store's conditional write keeps them
	// to one refresh. They run in this one process.
	for _, mode := range []string{"one vault, 100 goroutines", "100 vaults in one process, as 100 Lambda instances"} {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, githubdouble.WithTokenDelay(50*time.Millisecond))
			shared := r.newVault()
			u, g := r.login(shared, "octocat")
			r.clk.Advance(7*time.Hour + 58*time.Minute)
			const n = 100
			got := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				v := shared
				if strings.HasPrefix(mode, "100 vaults") {
					v = r.newVault()
				}
				wg.Go(func() {
					<-start
					got[i], errs[i] = v.Token(context.Background(), u.ID)
				})
			}
			close(start)
			wg.Wait()
			if c := r.gh.Count("token.refresh"); c != 1 {
				t.Fatalf("%d refresh requests, want exactly 1", c)
			}
			for i := range n {
				if errs[i] != nil || got[i] != got[0] || got[i] == g.AccessToken {
					t.Fatalf("caller %d: %q, %v; want the one new token %q", i, got[i], errs[i], got[0])
				}
			}
		})
	}
}

func TestRejectedRefreshRequiresReauth(t *testing.T) {
	cases := []struct {
		name         string
		setup        func(r *rig)
		wantRequests int
	}{
		{"bad_refresh_token", func(r *rig) {
			r.gh.FailNextToken("refresh", "bad_refresh_token")
			r.clk.Advance(7*time.Hour + 56*time.Minute)
		}, 1},
		{"refresh token expired", func(r *rig) { r.clk.Advance(4381 * time.Hour) }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			v := r.newVault()
			u, _ := r.login(v, "octocat")
			c.setup(r)
			ctx := context.Background()
			for range 2 {
				if _, err := v.Token(ctx, u.ID); !errors.Is(err, tokens.ErrReauthRequired) {
					t.Fatalf("Token = %v, want ErrReauthRequired", err)
				}
			}
			if n := r.gh.Count("token.refresh"); n != c.wantRequests {
				t.Fatalf("%d refresh requests, want %d", n, c.wantRequests)
			}
			rec, err := r.store.Get(ctx, u.ID)
			if err != nil || !rec.ReauthRequired || rec.Sealed != nil {
				t.Fatalf("record %+v, %v; want marked for re-login with tokens dropped", rec, err)
			}
			r.login(v, "octocat") // logging in again clears the mark
			if _, err := v.Token(ctx, u.ID); err != nil {
				t.Fatalf("after re-login: %v", err)
			}
		})
	}
}

func TestTransientRefreshFailureKeepsTheRecord(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	u, _ := r.login(v, "octocat")
	ctx := context.Background()
	before, _ := r.store.Get(ctx, u.ID)
	r.clk.Advance(7*time.Hour + 56*time.Minute)
	r.gh.FailNextToken("refresh", "server_error")
	if _, err := v.Token(ctx, u.ID); err == nil || errors.Is(err, tokens.ErrReauthRequired) {
		t.Fatalf("Token = %v, want a plain error", err)
	}
	after, _ := r.store.Get(ctx, u.ID)
	if after.Version != before.Version || after.LeaseOwner != "" || !bytes.Equal(after.Sealed, before.Sealed) {
		t.Fatalf("a failed refresh changed the record or kept the lease: %+v", after)
	}
	if _, err := v.Token(ctx, u.ID); err != nil {
		t.Fatalf("retry after a transient failure: %v", err)
	}
}

func TestAbandonedLeaseIsTakenOverAfterItExpires(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	u, _ := r.login(v, "octocat")
	ctx := context.Background()
	r.clk.Advance(7*time.Hour + 56*time.Minute)
	now := r.clk.Now()
	if ok, err := r.store.Lease(ctx, u.ID, "crashed-lambda", now, now.Add(20*time.Second)); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		r.clk.Advance(21 * time.Second)
	}()
	if _, err := v.Token(ctx, u.ID); err != nil {
		t.Fatalf("Token behind an abandoned lease: %v", err)
	}
	if n := r.gh.Count("token.refresh"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestSealedTokenMovedToAnotherUserDoesNotOpen(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	alice, _ := r.login(v, "alice")
	mallory, _ := r.login(v, "mallory")
	ctx := context.Background()
	a, _ := r.store.Get(ctx, alice.ID)
	m, _ := r.store.Get(ctx, mallory.ID)
	m.WrappedKey, m.Sealed, m.Version = a.WrappedKey, a.Sealed, m.Version+1
	if err := r.store.Put(ctx, m, m.Version-1); err != nil {
		t.Fatal(err)
	}
	if tok, err := r.newVault().Token(ctx, mallory.ID); !errors.Is(err, tokens.ErrSealed) {
		t.Fatalf("Token(mallory) with alice's sealed token = %q, %v; want ErrSealed", tok, err)
	}
}

func TestStorageAndLogsHoldNoToken(t *testing.T) {
	r := newRig(t)
	v := r.newVault()
	u, g := r.login(v, "octocat")
	r.clk.Advance(7*time.Hour + 56*time.Minute)
	refreshed, err := v.Token(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var dump []byte
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries { // the database, its WAL and shared memory
		b, err := os.ReadFile(filepath.Join(r.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dump = append(dump, b...)
	}
	r.logMu.Lock()
	dump = append(dump, r.logs.Bytes()...)
	r.logMu.Unlock()
	if len(dump) < 4096 {
		t.Fatalf("dump is only %d bytes: nothing was written?", len(dump))
	}
	for _, secret := range []string{g.AccessToken, g.RefreshToken, refreshed, "ghu_", "ghr_"} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Fatalf("storage or logs contain %q", secret[:4])
		}
	}
}

func TestRedactingHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(tokens.RedactingHandler(slog.NewJSONHandler(&out, nil)))
	secret := "ghu_16C7e42F292c6912E7710c838347Ae178B4a"
	log.With("ctx", "Bearer "+secret).Info("token ghr_abcdefABCDEF0123 seen",
		"err", errors.New("401 for "+secret), "pat", "github_pat_11ABCDEFG0_xyz",
		slog.Group("g", "inner", "ghs_zzz"), "n", 3)
	s := out.String()
	for _, leak := range []string{"ghu_", "ghr_", "ghs_", "github_pat_"} {
		if strings.Contains(s, leak) {
			t.Fatalf("log line leaks %s: %s", leak, s)
		}
	}
	if strings.Count(s, "[REDACTED]") != 5 || !strings.Contains(s, `"n":3`) {
		t.Fatalf("unexpected log line: %s", s)
	}
}

func BenchmarkTokenFastPath(b *testing.B) {
	for _, c := range []struct {
		name     string
		cacheFor time.Duration
	}{{"memory", 0}, {"sqlite+open", -1}} {
		b.Run(c.name, func(b *testing.B) {
			r := newRig(b)
			v := r.newVault()
			u, _ := r.login(v, "octocat")
			v = tokens.New(tokens.Config{Store: r.store, Keys: r.keys, Refresher: r.client, Now: r.clk.Now,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CacheFor: c.cacheFor})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Token(ctx, u.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
