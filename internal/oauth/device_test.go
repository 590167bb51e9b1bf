package oauth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

func TestDeviceFlow(t *testing.T) {
	cases := []struct {
		name string
		// act runs before poll number i (1-based) and returns how long the
		// poller's wait really lasts on the shared clock.
		act       func(gh *githubdouble.Server, poll int, asked time.Duration) time.Duration
		wantErr   error
		wantWaits []time.Duration
	}{
		{"approved after two pending polls", func(gh *githubdouble.Server, poll int, asked time.Duration) time.Duration {
			if poll == 3 {
				must(t, gh.ApproveDevice(gh.LastUserCode(), "octocat"))
			}
			return asked
		}, nil, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"slow_down raises the interval by five seconds", func(gh *githubdouble.Server, poll int, asked time.Duration) time.Duration {
			if poll == 2 {
				return time.Second // polled too early: GitHub answers slow_down
			}
			if poll == 3 {
				must(t, gh.ApproveDevice(gh.LastUserCode(), "octocat"))
			}
			return asked
		}, nil, []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}},
		{"access_denied ends the login", func(gh *githubdouble.Server, poll int, asked time.Duration) time.Duration {
			if poll == 2 {
				must(t, gh.DenyDevice(gh.LastUserCode()))
			}
			return asked
		}, oauth.ErrAccessDenied, []time.Duration{5 * time.Second, 5 * time.Second}},
		{"expired_token ends the login", func(gh *githubdouble.Server, poll int, asked time.Duration) time.Duration {
			if poll == 2 {
				must(t, gh.ExpireDevice(gh.LastUserCode()))
			}
			return asked
		}, oauth.ErrDeviceExpired, []time.Duration{5 * time.Second, 5 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := testenv.NewClock(time.Now().UTC())
			gh := githubdouble.New(t, githubdouble.WithClock(clk.Now))
			client := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID, Now: clk.Now})
			ctx := context.Background()
			dc, err := client.StartDevice(ctx, []string{"repo"})
			if err != nil {
				t.Fatal(err)
			}
			if dc.UserCode == "" || !strings.HasPrefix(dc.VerificationURI, gh.URL) || dc.Interval != 5 {
				t.Fatalf("device code %+v", dc)
			}
			var waits []time.Duration
			g, err := client.PollDevice(ctx, dc, func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				if len(waits) > 10 {
					return errors.New("too many polls")
				}
				clk.Advance(c.act(gh, len(waits), d))
				return nil
			})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("PollDevice err = %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && !strings.HasPrefix(g.AccessToken, "ghu_") {
				t.Fatalf("grant %+v", g)
			}
			if !slices.Equal(waits, c.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, c.wantWaits)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeviceFlowRefusals(t *testing.T) {
	gh := githubdouble.New(t)
	ctx := context.Background()
	bad := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: "Iv1.unknown"})
	var oe *oauth.Error
	if _, err := bad.StartDevice(ctx, nil); !errors.As(err, &oe) || oe.Code != "incorrect_client_credentials" {
		t.Fatalf("unknown client id: %v", err)
	}
	good := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: gh.ClientID})
	_, err := good.PollDevice(ctx, oauth.DeviceCode{DeviceCode: "forged", Interval: 5}, func(context.Context, time.Duration) error { return nil })
	if !errors.As(err, &oe) || oe.Code != "incorrect_device_code" {
		t.Fatalf("forged device code: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	dc, err := good.StartDevice(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.PollDevice(cctx, dc, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled poll: %v", err)
	}
}
