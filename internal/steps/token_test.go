package steps_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	localvault "github.com/sbalswa/ai3-mvp/internal/local/vault"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

// realVault is the embedded shape's token vault (SQLite, a local master
// key) refreshing through the OAuth client against gh, on clock now.
func realVault(t *testing.T, gh *hub, now func() time.Time) *tokens.Vault {
	t.Helper()
	ctx := context.Background()
	db, err := local.OpenSQLite(ctx, filepath.Join(t.TempDir(), "vault.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := localvault.NewTokenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	keys, err := keyring.New(master)
	if err != nil {
		t.Fatal(err)
	}
	client := oauth.NewClient(oauth.Config{BaseURL: gh.URL, APIURL: gh.APIURL(), ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, Now: now})
	return tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: client, Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestTokenExpiresMidRun: alice's access token (GitHub's 8 hours) runs out
// during the first step; three parallel steps follow, then a last one. The
// vault refreshes it exactly once, the run goes on with the new token and
// the final comment shows every step succeeded.
func TestTokenExpiresMidRun(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	gh := newHub(t, githubdouble.WithClock(clock.Now))
	grant := gh.IssueUserToken("alice")
	v := realVault(t, gh, clock.Now)
	ctx := context.Background()
	if err := v.Save(ctx, tokens.User{ID: 1001, Login: "alice"}, tokens.Grant{AccessToken: grant.AccessToken, RefreshToken: grant.RefreshToken,
		AccessExpiresAt: grant.Expiry, RefreshExpiresAt: grant.RefreshExpiry}); err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, gh, func(_ *env, d *steps.Deps) {
		d.Users = v
		r := steps.NewRegistry()
		_ = r.Func("demo.ok", func(context.Context, *steps.Call) (steps.Result, error) { return steps.Result{Output: "ok"}, nil })
		_ = r.Func("demo.long", func(context.Context, *steps.Call) (steps.Result, error) {
			clock.Advance(8*time.Hour + time.Minute) // a long step: the token it started with has expired
			return steps.Result{Output: "ok"}, nil
		})
		d.Kinds = r
	})
	w := asl.NewWorkflow("demo", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("first", goStep("demo.long"))
	for _, n := range []string{"second_a", "second_b", "second_c"} {
		w.Step(n, goStep("demo.ok")).Needs("first") // three steps ask for the token at once
	}
	w.Step("third", goStep("demo.ok")).Needs("second_a", "second_b", "second_c")
	j, arn := e.start(w, nil)
	d, j := e.wait(arn, j.ID)
	if d.Status != "SUCCEEDED" || j.Status != jobs.Succeeded {
		t.Fatalf("execution %s (%s), job %s (%s)", d.Status, d.Cause, j.Status, j.Cause)
	}
	if n := gh.Count("token.refresh"); n != 1 {
		t.Errorf("%d refreshes of alice's token, want exactly 1", n)
	}
	c := e.comment(j)
	for _, s := range []string{"first", "second_a", "second_b", "second_c", "third"} {
		if !strings.Contains(row(c, s), "✅ succeeded") {
			t.Errorf("row of %s: %q", s, row(c, s))
		}
	}
	// The token the run started with is refused now: the writes after the
	// first step were made with the refreshed one, as alice.
	req, _ := http.NewRequest("GET", gh.APIURL()+"user", nil)
	req.Header.Set("Authorization", "Bearer "+grant.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the expired token still works: %d", resp.StatusCode)
	}
	ws := gh.Writes()
	if len(ws) == 0 || writesBy(ws, "alice", "") != len(ws) {
		t.Errorf("every write must be alice's: %+v", ws)
	}
	after := 0
	for _, w := range ws {
		if w.At.After(grant.Expiry) {
			after++
		}
	}
	if after == 0 {
		t.Error("no write after the token expired: the run did not go on writing as alice")
	}
}
