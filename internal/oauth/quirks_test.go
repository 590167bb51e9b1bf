package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// TestGitHubQuirksThroughOAuth2: the token endpoint is driven by
// golang.org/x/oauth2; GitHub's quirks survive it in either answer format —
// errors inside HTTP 200 bodies become *oauth.Error with GitHub's code,
// bad_refresh_token is tokens.ErrRefreshRejected, and lifetimes count from
// the client's clock.
func TestGitHubQuirksThroughOAuth2(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, contentType, body string
		wantCode                string
		wantRejected            bool
	}{
		{"JSON grant", "application/json", `{"access_token":"ghu_a","expires_in":28800,"refresh_token":"ghr_b","refresh_token_expires_in":15897600,"scope":"repo,user","token_type":"bearer"}`, "", false},
		{"form grant", "application/x-www-form-urlencoded", `access_token=ghu_a&expires_in=28800&refresh_token=ghr_b&refresh_token_expires_in=15897600&scope=repo%2Cuser&token_type=bearer`, "", false},
		{"JSON error in a 200", "application/json", `{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired."}`, "bad_refresh_token", true},
		{"form error in a 200", "application/x-www-form-urlencoded", `error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.`, "bad_verification_code", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var form string
			gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				form = string(b)
				w.Header().Set("Content-Type", c.contentType)
				io.WriteString(w, c.body)
			}))
			defer gh.Close()
			client := oauth.NewClient(oauth.Config{BaseURL: gh.URL, ClientID: "Iv1.abc", ClientSecret: "s3cret", Now: func() time.Time { return now }})
			g, err := client.Refresh(context.Background(), "ghr_old")
			if c.wantCode != "" {
				var oe *oauth.Error
				if !errors.As(err, &oe) || oe.Code != c.wantCode || errors.Is(err, tokens.ErrRefreshRejected) != c.wantRejected {
					t.Fatalf("err = %v, want GitHub's %s (rejected refresh: %v)", err, c.wantCode, c.wantRejected)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.AccessToken != "ghu_a" || g.RefreshToken != "ghr_b" || !g.AccessExpiresAt.Equal(now.Add(8*time.Hour)) ||
				!g.RefreshExpiresAt.Equal(now.Add(15897600*time.Second)) || len(g.Scopes) != 2 {
				t.Fatalf("grant %+v", g)
			}
			if form == "" || !strings.Contains(form, "client_id=Iv1.abc") || !strings.Contains(form, "grant_type=refresh_token") || !strings.Contains(form, "refresh_token=ghr_old") {
				t.Fatalf("form sent %q, want the client id in it and a refresh_token grant", form)
			}
		})
	}
}
