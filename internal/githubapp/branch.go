package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"
)

// BranchHead returns the commit that branch of repo ("owner/name") points
// at now, read with c; ok is false when repo has no such branch (a tag, or
// nothing). "refs/heads/x" is read as x.
func BranchHead(ctx context.Context, c *github.Client, repo, branch string) (sha string, ok bool, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", false, err
	}
	branch = strings.TrimPrefix(branch, "refs/heads/")
	ref, resp, err := c.Git.GetRef(ctx, owner, name, "heads/"+branch)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read branch %s of %s: %w", branch, repo, err)
	}
	return ref.GetObject().GetSHA(), true, nil
}
