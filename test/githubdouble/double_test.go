package githubdouble_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

func post(t *testing.T, u string, form url.Values, accept string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func field(t *testing.T, body, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	s, _ := m[name].(string)
	return s
}

// TestTokenEndpointBehavesLikeGitHub walks the access_token endpoint through
// GitHub's behaviours: errors in 200 bodies, form encoding by default,
// single-use codes, and refresh tokens that rotate and work only once.
func TestTokenEndpointBehavesLikeGitHub(t *testing.T) {
	gh := githubdouble.New(t)
	endpoint := gh.URL + "/login/oauth/access_token"
	creds := url.Values{"client_id": {gh.ClientID}, "client_secret": {gh.ClientSecret}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	code := gh.IssueCode("octocat", "", "")

	status, body := post(t, endpoint, with("code", code, "client_secret", "wrong"), "application/json")
	if status != 200 || field(t, body, "error") != "incorrect_client_credentials" {
		t.Fatalf("wrong secret: %d %s", status, body)
	}
	status, body = post(t, endpoint, with("code", "nope"), "")
	if v, _ := url.ParseQuery(body); status != 200 || v.Get("error") != "bad_verification_code" {
		t.Fatalf("bad code without Accept: %d %s, want a form-encoded error", status, body)
	}
	_, body = post(t, endpoint, with("code", code), "application/json")
	rt1 := field(t, body, "refresh_token")
	if !strings.HasPrefix(field(t, body, "access_token"), "ghu_") || !strings.HasPrefix(rt1, "ghr_") {
		t.Fatalf("exchange: %s", body)
	}
	if _, body = post(t, endpoint, with("code", code), "application/json"); field(t, body, "error") != "bad_verification_code" {
		t.Fatalf("code reuse: %s", body)
	}
	_, body = post(t, endpoint, with("grant_type", "refresh_token", "refresh_token", rt1), "application/json")
	rt2 := field(t, body, "refresh_token")
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh did not rotate: %s", body)
	}
	if _, body = post(t, endpoint, with("grant_type", "refresh_token", "refresh_token", rt1), "application/json"); field(t, body, "error") != "bad_refresh_token" {
		t.Fatalf("old refresh token reused: %s", body)
	}
	if _, body = post(t, endpoint, with("grant_type", "refresh_token", "refresh_token", rt2), "application/json"); field(t, body, "access_token") == "" {
		t.Fatalf("rotated refresh token refused: %s", body)
	}
	if gh.Count("token.refresh") != 3 || gh.Count("token.code") != 4 {
		t.Fatalf("counts: refresh %d code %d", gh.Count("token.refresh"), gh.Count("token.code"))
	}
}

func TestExtensionEndpointsAuthenticateCallers(t *testing.T) {
	gh := githubdouble.New(t)
	gh.HandleFunc("GET /api/v3/whoami", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := gh.UserFor(r); ok {
			io.WriteString(w, "user:"+u.Login)
			return
		}
		if gh.IsInstallation(r) {
			io.WriteString(w, "installation")
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	_, body := post(t, gh.URL+"/login/oauth/access_token", url.Values{"client_id": {gh.ClientID}, "client_secret": {gh.ClientSecret},
		"code": {gh.IssueCode("octocat", "", "")}}, "application/json")
	access := field(t, body, "access_token")
	for _, c := range []struct{ auth, want string }{{"Bearer " + access, "user:octocat"}, {"token " + access, "user:octocat"}, {"Bearer ghu_forged", ""}} {
		req, _ := http.NewRequest("GET", gh.APIURL()+"whoami", nil)
		req.Header.Set("Authorization", c.auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != c.want {
			t.Errorf("%s: got %q, want %q", c.auth[:6], b, c.want)
		}
	}
}

// TestDoubleAnnouncesWritesAndPlaysActions checks what tests of the bot rely
// on: a comment written with a user's token comes back as an issue_comment
// webhook naming the App, and a dispatch is answered by workflow_run
// webhooks up to completed, within the double's short default delays.
func TestDoubleAnnouncesWritesAndPlaysActions(t *testing.T) {
	var forwarded atomic.Int32
	gh := githubdouble.New(t, githubdouble.WithWebhookSink(func(context.Context, string, string, []byte) { forwarded.Add(1) }))
	gh.InstallApp(1)
	if _, err := gh.CreateIssue("acme/web", sandbox.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	tok := "Bearer " + gh.IssueUserToken("octocat").AccessToken
	for _, c := range []struct{ path, body string }{
		{"repos/acme/web/issues/1/comments", `{"body":"@ai3-mvp run checks"}`},
		{"repos/acme/web/actions/workflows/ci.yml/dispatches", `{"ref":"main"}`},
	} {
		req, _ := http.NewRequest("POST", gh.APIURL()+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s: %s", c.path, resp.Status)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(gh.Webhooks()) < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var got []string
	for _, h := range gh.Webhooks() {
		var p struct {
			Action  string
			Comment struct {
				App *struct{ Slug string } `json:"performed_via_github_app"`
			}
		}
		_ = json.Unmarshal(h.Payload, &p)
		if h.Event == "issue_comment" && (p.Comment.App == nil || p.Comment.App.Slug != "ai3-mvp") {
			t.Errorf("the comment's webhook does not name the App: %s", h.Payload)
		}
		got = append(got, h.Event+"."+p.Action)
	}
	want := "issue_comment.created workflow_run.requested workflow_run.in_progress workflow_run.completed"
	if strings.Join(got, " ") != want || forwarded.Load() != 4 {
		t.Errorf("webhooks %v (forwarded %d), want %s", got, forwarded.Load(), want)
	}
	if w := gh.Writes(); len(w) != 2 || w[0].Login != "octocat" {
		t.Errorf("writes: %+v", w)
	}
}
