package githubapp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

const installation = 77

func newMinter(gh *githubdouble.Server, clk *testenv.Clock) *githubapp.Minter {
	return &githubapp.Minter{AppID: gh.AppID(), APIURL: gh.APIURL(), Now: clk.Now,
		Key: func(context.Context) ([]byte, error) { return gh.AppPrivateKey(), nil }}
}

func TestMinterCachesAndRefreshesEarly(t *testing.T) {
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(t, githubdouble.WithClock(clk.Now))
	gh.InstallApp(installation)
	m := newMinter(gh, clk)
	ctx := context.Background()

	var wg sync.WaitGroup
	got := make([]githubapp.InstallationToken, 50)
	for i := range got {
		wg.Go(func() {
			var err error
			if got[i], err = m.InstallationToken(ctx, installation); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := gh.Count("installation_token"); n != 1 {
		t.Fatalf("50 concurrent callers caused %d mints, want 1", n)
	}
	for _, g := range got {
		if g != got[0] || !strings.HasPrefix(g.Token, "ghs_") {
			t.Fatalf("callers got different tokens: %+v vs %+v", g, got[0])
		}
	}
	steps := []struct {
		advance   time.Duration
		wantMints int
	}{
		{54 * time.Minute, 1}, // 6 minutes left: cached
		{2 * time.Minute, 2},  // 4 minutes left: minted early
		{time.Minute, 2},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if _, err := m.InstallationToken(ctx, installation); err != nil {
			t.Fatal(err)
		}
		if n := gh.Count("installation_token"); n != s.wantMints {
			t.Fatalf("after +%v: %d mints, want %d", s.advance, n, s.wantMints)
		}
	}
}

func TestMinterErrors(t *testing.T) {
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(t, githubdouble.WithClock(clk.Now))
	gh.InstallApp(installation)
	cases := []struct {
		name string
		m    *githubapp.Minter
		id   int64
		want string
	}{
		{"key unreadable", &githubapp.Minter{AppID: gh.AppID(), APIURL: gh.APIURL(),
			Key: func(context.Context) ([]byte, error) { return nil, errors.New("access denied") }}, installation, "read the App private key"},
		{"key not PEM", &githubapp.Minter{AppID: gh.AppID(), APIURL: gh.APIURL(),
			Key: func(context.Context) ([]byte, error) { return []byte("nope"), nil }}, installation, "App private key"},
		{"wrong app id", &githubapp.Minter{AppID: 1, APIURL: gh.APIURL(), Now: clk.Now,
			Key: func(context.Context) ([]byte, error) { return gh.AppPrivateKey(), nil }}, installation, "401"},
		{"unknown installation", newMinter(gh, clk), 9999, "404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.m.InstallationToken(context.Background(), c.id)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// vaultStub answers Token from a table: the vault's own behaviour is proven
// in internal/tokens; here only its three outcomes matter.
type vaultStub map[int64]error

func (v vaultStub) Token(_ context.Context, id int64) (string, error) {
	if err := v[id]; err != nil {
		return "", err
	}
	return "ghu_stub", nil
}

func TestCheckMatrix(t *testing.T) {
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(t, githubdouble.WithClock(clk.Now))
	gh.InstallApp(installation)
	const org, repo = "acme", "acme/app"
	memberships := []string{"active", "pending", ""}
	roles := []string{"admin", "maintain", "write", "triage", "read", "none"}
	vaultStates := map[string]error{"token": nil, "no token": tokens.ErrNotFound, "reauth": tokens.ErrReauthRequired}
	stub := vaultStub{}
	auth := &githubapp.Authorizer{Org: org, InstallationID: installation, Installations: newMinter(gh, clk),
		Tokens: stub, APIURL: gh.APIURL(), Now: clk.Now}
	i := 0
	for _, ms := range memberships {
		for _, role := range roles {
			for vs, verr := range vaultStates {
				i++
				login := fmt.Sprintf("user%d", i)
				u := gh.AddUser(login)
				gh.SetMembership(org, login, ms, "member")
				gh.SetPermission(repo, login, role)
				stub[u.ID] = verr
				var want githubapp.Reason
				switch {
				case ms != "active":
					want = githubapp.NotMember
				case role != "admin" && role != "maintain" && role != "write":
					want = githubapp.NoWrite
				case vs == "no token":
					want = githubapp.NoToken
				case vs == "reauth":
					want = githubapp.ReauthRequired
				}
				t.Run(fmt.Sprintf("%s/%s/%s", or(ms, "none"), role, vs), func(t *testing.T) {
					err := auth.Check(context.Background(), repo, tokens.User{ID: u.ID, Login: login})
					var d *githubapp.Denied
					switch {
					case want == "" && err != nil:
						t.Fatalf("denied: %v", err)
					case want != "" && !errors.As(err, &d):
						t.Fatalf("err = %v, want a denial %s", err, want)
					case want != "" && (d.Reason != want || !strings.Contains(err.Error(), string(want))):
						t.Fatalf("denial %v, want %s", err, want)
					}
				})
			}
		}
	}
}

func TestCheckCachesGitHubFactsAtMostAMinute(t *testing.T) {
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(t, githubdouble.WithClock(clk.Now))
	gh.InstallApp(installation)
	u := gh.AddUser("octocat")
	gh.SetMembership("acme", "octocat", "active", "member")
	gh.SetPermission("acme/app", "octocat", "write")
	stub := vaultStub{}
	auth := &githubapp.Authorizer{Org: "acme", InstallationID: installation, Installations: newMinter(gh, clk),
		Tokens: stub, APIURL: gh.APIURL(), Now: clk.Now, CacheFor: time.Hour}
	ctx := context.Background()
	user := tokens.User{ID: u.ID, Login: "octocat"}
	if err := auth.Check(ctx, "acme/app", user); err != nil {
		t.Fatal(err)
	}
	gh.SetMembership("acme", "octocat", "", "")
	stub[u.ID] = tokens.ErrNotFound
	clk.Advance(59 * time.Second)
	var d *githubapp.Denied
	if err := auth.Check(ctx, "acme/app", user); !errors.As(err, &d) || d.Reason != githubapp.NoToken {
		t.Fatalf("within a minute: %v, want cached membership and a fresh vault answer (no_token)", err)
	}
	if n := gh.Count("membership"); n != 1 {
		t.Fatalf("%d membership reads within the cache window, want 1", n)
	}
	clk.Advance(2 * time.Second)
	if err := auth.Check(ctx, "acme/app", user); !errors.As(err, &d) || d.Reason != githubapp.NotMember {
		t.Fatalf("after a minute: %v, want not_member (the cache is capped at 60 s)", err)
	}
	if err := auth.Check(ctx, "not-a-repo", user); err == nil || errors.As(err, &d) {
		t.Fatalf("malformed repo: %v, want a plain error", err)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func BenchmarkCheckCached(b *testing.B) {
	clk := testenv.NewClock(time.Now().UTC())
	gh := githubdouble.New(b, githubdouble.WithClock(clk.Now))
	gh.InstallApp(installation)
	u := gh.AddUser("octocat")
	gh.SetMembership("acme", "octocat", "active", "member")
	gh.SetPermission("acme/app", "octocat", "write")
	auth := &githubapp.Authorizer{Org: "acme", InstallationID: installation, Installations: newMinter(gh, clk),
		Tokens: vaultStub{}, APIURL: gh.APIURL(), Now: clk.Now}
	ctx := context.Background()
	user := tokens.User{ID: u.ID, Login: "octocat"}
	b.ReportAllocs()
	for b.Loop() {
		if err := auth.Check(ctx, "acme/app", user); err != nil {
			b.Fatal(err)
		}
	}
}
