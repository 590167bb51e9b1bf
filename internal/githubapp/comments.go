package githubapp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Thread writes: the few GitHub calls the bot makes on the thread a command
// came from, the same for every thread kind. Replies to a pull request review
// comment go into its review thread; everything else (and every job's status
// comment) is an issue comment on the issue or pull request, or a commit
// comment on a commit.

func splitRepo(repo string) (string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q is not owner/name", repo)
	}
	return owner, name, nil
}

// React adds a reaction (e.g. "eyes") to the comment that asked.
func React(ctx context.Context, c *github.Client, t jobs.Thread, content string) error {
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return err
	}
	switch t.Kind {
	case jobs.ReviewThread:
		_, _, err = c.Reactions.CreatePullRequestCommentReaction(ctx, owner, name, t.CommentID, content)
	case jobs.CommitThread:
		_, _, err = c.Reactions.CreateCommentReaction(ctx, owner, name, t.CommentID, content)
	default:
		_, _, err = c.Reactions.CreateIssueCommentReaction(ctx, owner, name, t.CommentID, content)
	}
	if err != nil {
		return fmt.Errorf("react %s to comment %d on %s: %w", content, t.CommentID, t.Repo, err)
	}
	return nil
}

// Comment is a comment the bot wrote.
type Comment struct {
	ID      int64
	HTMLURL string
}

// Reply posts body on the thread: in the review thread for review comments,
// as a commit comment on commits, else as an issue comment.
func Reply(ctx context.Context, c *github.Client, t jobs.Thread, body string) (Comment, error) {
	if t.Kind == jobs.ReviewThread {
		owner, name, err := splitRepo(t.Repo)
		if err != nil {
			return Comment{}, err
		}
		rc, _, err := c.PullRequests.CreateCommentInReplyTo(ctx, owner, name, t.Number, body, t.CommentID)
		if err != nil {
			return Comment{}, fmt.Errorf("reply on review comment %d of %s#%d: %w", t.CommentID, t.Repo, t.Number, err)
		}
		return Comment{ID: rc.GetID(), HTMLURL: rc.GetHTMLURL()}, nil
	}
	return Post(ctx, c, t, body)
}

// Post writes a new top-level comment on the thread (a status comment): an
// issue comment on issues and pull requests, a commit comment on commits.
func Post(ctx context.Context, c *github.Client, t jobs.Thread, body string) (Comment, error) {
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return Comment{}, err
	}
	if t.Kind == jobs.CommitThread {
		rc, _, err := c.Repositories.CreateComment(ctx, owner, name, t.CommitSHA, &github.RepositoryComment{Body: &body})
		if err != nil {
			return Comment{}, fmt.Errorf("comment on commit %s of %s: %w", t.CommitSHA, t.Repo, err)
		}
		return Comment{ID: rc.GetID(), HTMLURL: rc.GetHTMLURL()}, nil
	}
	ic, _, err := c.Issues.CreateComment(ctx, owner, name, t.Number, &github.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, fmt.Errorf("comment on %s#%d: %w", t.Repo, t.Number, err)
	}
	return Comment{ID: ic.GetID(), HTMLURL: ic.GetHTMLURL()}, nil
}

// Edit replaces the body of a comment Post wrote on the thread.
func Edit(ctx context.Context, c *github.Client, t jobs.Thread, id int64, body string) error {
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return err
	}
	if t.Kind == jobs.CommitThread {
		_, _, err = c.Repositories.UpdateComment(ctx, owner, name, id, &github.RepositoryComment{Body: &body})
	} else {
		_, _, err = c.Issues.EditComment(ctx, owner, name, id, &github.IssueComment{Body: &body})
	}
	if err != nil {
		return fmt.Errorf("edit comment %d on %s: %w", id, t.Repo, err)
	}
	return nil
}

// FindMarked returns the newest comment on an issue or pull request
// conversation updated since since that carries marker m (ok false when
// none does). It lets a retried delivery find the reply it already posted.
// Review threads and commits are not searched (ok false).
func FindMarked(ctx context.Context, c *github.Client, t jobs.Thread, since time.Time, m jobs.Marker) (Comment, bool, error) {
	if t.Kind == jobs.CommitThread || t.Number == 0 {
		return Comment{}, false, nil
	}
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return Comment{}, false, err
	}
	opts := &github.IssueListCommentsOptions{Since: &since, ListOptions: github.ListOptions{PerPage: 100}}
	var found Comment
	ok := false
	for page := 0; page < 10; page++ {
		cs, resp, err := c.Issues.ListComments(ctx, owner, name, t.Number, opts)
		if err != nil {
			return Comment{}, false, fmt.Errorf("list comments of %s#%d: %w", t.Repo, t.Number, err)
		}
		for _, ic := range cs {
			if got, has := jobs.ParseMarker(ic.GetBody()); has && got == m {
				found, ok = Comment{ID: ic.GetID(), HTMLURL: ic.GetHTMLURL()}, true
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return found, ok, nil
}
