package oauth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
)

type recordURL struct{ got []string }

func (r *recordURL) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req.Method+" "+req.URL.String())
	return &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader(`{"message":"Bad credentials"}`)), Request: req}, nil
}

func TestEndpointsFollowTheConfiguredGitHub(t *testing.T) {
	cases := []struct {
		base, api       string
		wantToken, want string
	}{
		{"", "", "POST https://github.com/login/oauth/access_token", "GET https://api.github.com/user"},
		{"https://github.com/", "", "POST https://github.com/login/oauth/access_token", "GET https://api.github.com/user"},
		{"https://ghe.example.com", "", "POST https://ghe.example.com/login/oauth/access_token", "GET https://ghe.example.com/api/v3/user"},
		{"https://ghe.example.com", "https://api.ghe.example.com", "POST https://ghe.example.com/login/oauth/access_token", "GET https://api.ghe.example.com/user"},
	}
	for _, c := range cases {
		rec := &recordURL{}
		client := oauth.NewClient(oauth.Config{BaseURL: c.base, APIURL: c.api, ClientID: "id", HTTPClient: &http.Client{Transport: rec}})
		_, _ = client.Refresh(context.Background(), "ghr_x")
		_, err := client.User(context.Background(), "ghu_x")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("User error = %v, want the 401", err)
		}
		if len(rec.got) != 2 || rec.got[0] != c.wantToken || rec.got[1] != c.want {
			t.Errorf("base %q api %q: requests %v, want [%s %s]", c.base, c.api, rec.got, c.wantToken, c.want)
		}
		web := strings.TrimSuffix(strings.TrimPrefix(c.wantToken, "POST "), "/access_token")
		if u := client.AuthorizeURL("s", "c", "", nil); !strings.HasPrefix(u, web+"/authorize?") {
			t.Errorf("authorize URL %s", u)
		}
	}
}
