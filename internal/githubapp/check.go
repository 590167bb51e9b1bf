package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Reason names the condition an authorization failed.
type Reason string

// The conditions Check tests, in order.
const (
	NotMember      Reason = "not_member"      // not an active member of the organization
	NoWrite        Reason = "no_write"        // repository permission below write
	NoToken        Reason = "no_token"        // never logged in (or revoked the app)
	ReauthRequired Reason = "reauth_required" // the stored login expired
)

// Denied is Check's refusal. Commands turn it into a reply; ReauthRequired
// and NoToken replies should carry the login link.
type Denied struct {
	Reason Reason
	Login  string
	Repo   string
}

// Error says which condition failed, in words a reply can quote.
func (d *Denied) Error() string {
	switch d.Reason {
	case NotMember:
		return fmt.Sprintf("@%s is not an active member of the organization (%s)", d.Login, d.Reason)
	case NoWrite:
		return fmt.Sprintf("@%s needs write, maintain or admin permission on %s (%s)", d.Login, d.Repo, d.Reason)
	case NoToken:
		return fmt.Sprintf("@%s has not connected their GitHub account to ai3: log in first (%s)", d.Login, d.Reason)
	default:
		return fmt.Sprintf("@%s's GitHub login has expired: log in again (%s)", d.Login, d.Reason)
	}
}

// Authorizer decides whether a user may run commands on a repository:
// active org membership AND write/maintain/admin permission AND a usable
// vault token. GitHub facts are read with the installation token and cached
// for at most CacheFor; the vault is asked on every check.
type Authorizer struct {
	Org            string
	InstallationID int64
	Installations  InstallationTokens
	Tokens         UserTokens
	// APIURL is the REST API root; default https://api.github.com/.
	APIURL string
	// CacheFor is capped at (and defaults to) 60 seconds.
	CacheFor time.Duration
	Now      func() time.Time

	mu    sync.Mutex
	cache map[string]fact
}

type fact struct {
	denied Reason // "" when member with write
	until  time.Time
}

// Check returns nil when the user may act on repo ("owner/name"), a *Denied
// naming the failed condition, or another error when GitHub or the vault
// could not be asked.
func (a *Authorizer) Check(ctx context.Context, repo string, user tokens.User) error {
	return a.CheckInstallation(ctx, a.InstallationID, repo, user)
}

// CheckInstallation is Check reading GitHub through the given installation
// (the one a webhook came through) instead of a.InstallationID.
func (a *Authorizer) CheckInstallation(ctx context.Context, installationID int64, repo string, user tokens.User) error {
	reason, err := a.githubFacts(ctx, installationID, repo, user.Login)
	if err != nil {
		return err
	}
	if reason == "" {
		_, err = a.Tokens.Token(ctx, user.ID)
		switch {
		case errors.Is(err, tokens.ErrNotFound):
			reason = NoToken
		case errors.Is(err, tokens.ErrReauthRequired):
			reason = ReauthRequired
		case err != nil:
			return fmt.Errorf("authorize @%s on %s: %w", user.Login, repo, err)
		}
	}
	if reason != "" {
		return &Denied{Reason: reason, Login: user.Login, Repo: repo}
	}
	return nil
}

func (a *Authorizer) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func (a *Authorizer) githubFacts(ctx context.Context, installationID int64, repo, login string) (Reason, error) {
	key := fmt.Sprint(installationID) + "\x00" + repo + "\x00" + strings.ToLower(login)
	now := a.now()
	a.mu.Lock()
	f, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(f.until) {
		return f.denied, nil
	}
	owner, name, found := strings.Cut(repo, "/")
	if !found || owner == "" || name == "" {
		return "", fmt.Errorf("authorize @%s: repository %q is not owner/name", login, repo)
	}
	client, err := InstallationClient(a.Installations, installationID, a.APIURL)
	if err != nil {
		return "", err
	}
	reason := Reason("")
	m, _, err := client.Organizations.GetOrgMembership(ctx, login, a.Org)
	switch {
	case isNotFound(err):
		reason = NotMember
	case err != nil:
		return "", fmt.Errorf("read @%s's membership of %s: %w", login, a.Org, err)
	case m.GetState() != "active":
		reason = NotMember
	}
	if reason == "" {
		p, _, err := client.Repositories.GetPermissionLevel(ctx, owner, name, login)
		switch {
		case isNotFound(err):
			reason = NoWrite
		case err != nil:
			return "", fmt.Errorf("read @%s's permission on %s: %w", login, repo, err)
		case p.GetPermission() != "admin" && p.GetPermission() != "write": // maintain reads as write
			reason = NoWrite
		}
	}
	ttl := a.CacheFor
	if ttl <= 0 || ttl > time.Minute {
		ttl = time.Minute
	}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[string]fact{}
	}
	if len(a.cache) >= 4096 { // drop what has expired so the map stays small
		for k, f := range a.cache {
			if !now.Before(f.until) {
				delete(a.cache, k)
			}
		}
	}
	a.cache[key] = fact{denied: reason, until: now.Add(ttl)}
	a.mu.Unlock()
	return reason, nil
}

func isNotFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}
