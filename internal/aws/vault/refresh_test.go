package vault_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/aws/vault"
	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

// TestHundredLambdasRefreshOnce runs 100 independent Vaults (one per
// simulated Lambda) over one DynamoDB table: an expiring token is refreshed
// by exactly one of them and all get the new token.
func TestHundredLambdasRefreshOnce(t *testing.T) {
	client := dynalite(t)
	store := &vault.TokenStore{Client: client, Table: newTable(t, client)}
	var mu sync.Mutex
	now := time.Now().UTC()
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	gh := githubdouble.New(t, githubdouble.WithClock(clk), githubdouble.WithTokenDelay(100*time.Millisecond))
	keys, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, Now: clk})
	newVault := func() *tokens.Vault {
		return tokens.New(tokens.Config{Store: store, Keys: keys, Refresher: oc, Now: clk,
			Log: slog.New(slog.DiscardHandler), PollEvery: 20 * time.Millisecond})
	}
	ctx := context.Background()
	g, err := oc.Exchange(ctx, gh.IssueCode("octocat", "", ""), "", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := oc.User(ctx, g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := newVault().Save(ctx, u, g); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(7*time.Hour + 57*time.Minute)
	mu.Unlock()

	const lambdas = 100
	got := make([]string, lambdas)
	errs := make([]error, lambdas)
	var wg sync.WaitGroup
	for i := range lambdas {
		v := newVault()
		wg.Go(func() { got[i], errs[i] = v.Token(ctx, u.ID) })
	}
	wg.Wait()
	if n := gh.Count("token.refresh"); n != 1 {
		t.Fatalf("%d refresh requests, want exactly 1", n)
	}
	for i := range lambdas {
		if errs[i] != nil || got[i] != got[0] || got[i] == g.AccessToken {
			t.Fatalf("lambda %d: %q, %v", i, got[i], errs[i])
		}
	}
	rec, err := store.Get(ctx, u.ID)
	if err != nil || rec.Version != 2 || rec.LeaseOwner != "" {
		t.Fatalf("record after refresh: version %d lease %q, %v", rec.Version, rec.LeaseOwner, err)
	}

	// The table, dumped as the DynamoDB API returns it, holds no token.
	scan, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(store.Table)})
	if err != nil || len(scan.Items) != 1 {
		t.Fatalf("scan: %d items, %v", len(scan.Items), err)
	}
	var raw strings.Builder
	for _, item := range scan.Items {
		for name, av := range item {
			switch v := av.(type) {
			case *types.AttributeValueMemberS:
				fmt.Fprintf(&raw, "%s=%s\n", name, v.Value)
			case *types.AttributeValueMemberB:
				fmt.Fprintf(&raw, "%s=%s\n", name, v.Value) // bytes as text: plaintext would show
			default:
				fmt.Fprintf(&raw, "%s=%v\n", name, v)
			}
		}
	}
	if !strings.Contains(raw.String(), "login=octocat") {
		t.Fatalf("dump looks empty: %s", raw.String())
	}
	for _, secret := range []string{g.AccessToken, g.RefreshToken, got[0], "ghu_", "ghr_"} {
		if strings.Contains(raw.String(), secret) {
			t.Fatalf("the table holds %s…", secret[:4])
		}
	}
}
