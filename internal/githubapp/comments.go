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
// A retried delivery looks for what it wrote where it wrote it: FindReply
// for Reply, FindMarked for Post.

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

// maxLookupPages bounds the pages of 100 comments a marker lookup reads.
const maxLookupPages = 10

// FindMarked returns the newest comment carrying marker m among those Post
// writes on the thread, created or updated since since (ok false when none
// does): the issue or pull request conversation (also for a review thread:
// Post writes on the pull request's conversation), or the commit's comments.
// It lets a retried delivery find the status comment it already posted.
func FindMarked(ctx context.Context, c *github.Client, t jobs.Thread, since time.Time, m jobs.Marker) (Comment, bool, error) {
	if t.Kind == jobs.CommitThread {
		return findOnCommit(ctx, c, t, since, m)
	}
	return findInConversation(ctx, c, t, since, m)
}

// FindReply is FindMarked for what Reply writes: the review comments of the
// pull request for a review thread, the commit's comments on a commit, else
// the issue or pull request conversation. It lets a retried delivery find
// the reply it already posted.
func FindReply(ctx context.Context, c *github.Client, t jobs.Thread, since time.Time, m jobs.Marker) (Comment, bool, error) {
	switch t.Kind {
	case jobs.ReviewThread:
		return findInReview(ctx, c, t, since, m)
	case jobs.CommitThread:
		return findOnCommit(ctx, c, t, since, m)
	}
	return findInConversation(ctx, c, t, since, m)
}

// marked keeps the newest (highest id) comment carrying a marker.
type marked struct {
	m     jobs.Marker
	found Comment
	ok    bool
}

func (k *marked) see(id int64, url, body string) {
	if got, has := jobs.ParseMarker(body); has && got == k.m && (!k.ok || id > k.found.ID) {
		k.found, k.ok = Comment{ID: id, HTMLURL: url}, true
	}
}

func findInConversation(ctx context.Context, c *github.Client, t jobs.Thread, since time.Time, m jobs.Marker) (Comment, bool, error) {
	if t.Number == 0 {
		return Comment{}, false, nil
	}
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return Comment{}, false, err
	}
	opts := &github.IssueListCommentsOptions{Since: &since, ListOptions: github.ListOptions{PerPage: 100}}
	k := marked{m: m}
	for range maxLookupPages {
		cs, resp, err := c.Issues.ListComments(ctx, owner, name, t.Number, opts)
		if err != nil {
			return Comment{}, false, fmt.Errorf("list comments of %s#%d: %w", t.Repo, t.Number, err)
		}
		for _, ic := range cs {
			k.see(ic.GetID(), ic.GetHTMLURL(), ic.GetBody())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return k.found, k.ok, nil
}

func findInReview(ctx context.Context, c *github.Client, t jobs.Thread, since time.Time, m jobs.Marker) (Comment, bool, error) {
	if t.Number == 0 {
		// Number 0 would list the review comments of every pull request.
		return Comment{}, false, nil
	}
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return Comment{}, false, err
	}
	opts := &github.PullRequestListCommentsOptions{Since: since, ListOptions: github.ListOptions{PerPage: 100}}
	k := marked{m: m}
	for range maxLookupPages {
		cs, resp, err := c.PullRequests.ListComments(ctx, owner, name, t.Number, opts)
		if err != nil {
			return Comment{}, false, fmt.Errorf("list review comments of %s#%d: %w", t.Repo, t.Number, err)
		}
		for _, rc := range cs {
			k.see(rc.GetID(), rc.GetHTMLURL(), rc.GetBody())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return k.found, k.ok, nil
}

// findOnCommit reads a commit's comments, which GitHub lists oldest first
// and cannot filter by time: after the first page (which tells the last) it
// walks back from the last page until a page holds a comment created before
// since (earlier pages hold only older ones), reading at most
// maxLookupPages pages.
func findOnCommit(ctx context.Context, c *github.Client, t jobs.Thread, since time.Time, m jobs.Marker) (Comment, bool, error) {
	if t.CommitSHA == "" {
		return Comment{}, false, nil
	}
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return Comment{}, false, err
	}
	list := func(page int) ([]*github.RepositoryComment, *github.Response, error) {
		cs, resp, err := c.Repositories.ListCommitComments(ctx, owner, name, t.CommitSHA, &github.ListOptions{PerPage: 100, Page: page})
		if err != nil {
			return nil, nil, fmt.Errorf("list comments of commit %s of %s: %w", t.CommitSHA, t.Repo, err)
		}
		return cs, resp, nil
	}
	k := marked{m: m}
	// scan sees the comments of one page and reports whether one was
	// created before since.
	scan := func(cs []*github.RepositoryComment) (older bool) {
		for _, rc := range cs {
			if rc.GetCreatedAt().Before(since) {
				older = true
				if rc.GetUpdatedAt().Before(since) {
					continue
				}
			}
			k.see(rc.GetID(), rc.GetHTMLURL(), rc.GetBody())
		}
		return older
	}
	first, resp, err := list(1)
	if err != nil {
		return Comment{}, false, err
	}
	reads := 1
	if resp.LastPage <= 1 { // one page (no Link header)
		scan(first)
		return k.found, k.ok, nil
	}
	for page := resp.LastPage; page >= 1; page-- {
		cs := first
		if page > 1 {
			if reads >= maxLookupPages {
				scan(first) // read already
				break
			}
			if cs, _, err = list(page); err != nil {
				return Comment{}, false, err
			}
			reads++
		}
		if scan(cs) {
			break
		}
	}
	return k.found, k.ok, nil
}
