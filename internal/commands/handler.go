package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Clients gives go-github clients acting as a user (with their vault token,
// refreshed on use) or as the App's installation. githubapp.Clients is the
// real one.
type Clients interface {
	User(ctx context.Context, userID int64) (*github.Client, error)
	Installation(ctx context.Context, installationID int64) (*github.Client, error)
}

// Authorizer decides whether a user may act on a repository
// (githubapp.Authorizer): nil, a *githubapp.Denied, or another error.
type Authorizer interface {
	CheckInstallation(ctx context.Context, installationID int64, repo string, user tokens.User) error
}

// UserTokens tells whether a user has a usable stored login (the vault).
type UserTokens interface {
	Token(ctx context.Context, userID int64) (string, error)
}

// Handler is the bus handler of comment events (events.TargetComment).
type Handler struct {
	// Bot is the bot's login without "@" (e.g. "ai3-mvp"), the handle it answers to.
	Bot string
	// AppID is the GitHub App's id: comments performed via it are the bot's.
	AppID      int64
	Registry   *Registry
	Authorizer Authorizer
	Tokens     UserTokens
	GitHub     Clients
	Archive    events.Archive // follows payloads archived by reference
	// LoginURL is where a user connects their GitHub account (/oauth/login).
	LoginURL string
	// Pacer spaces replies written with the user's token; nil: none. The
	// 👀 reaction is not paced: it is the immediate sign the bot heard.
	Pacer Pacer
	Log   *slog.Logger
	Now   func() time.Time
}

// Name implements events.Handler.
func (h *Handler) Name() string { return events.TargetComment }

// Request is one command line of one comment, with who asked and where.
type Request struct {
	Invocation
	Index          int // 0-based position among the comment's commands
	DeliveryID     string
	ReceivedAt     time.Time
	Thread         jobs.Thread
	IsPullRequest  bool
	HeadSHA        string // pull request head, when the payload names it
	HeadRef        string
	User           jobs.User
	InstallationID int64
	// GitHub acts as the requesting user; nil when they have no usable login.
	GitHub *github.Client
	// Registry is the handler's, for help and suggestions.
	Registry *Registry
}

// commentPayload is the part of issue_comment, pull_request_review_comment
// and commit_comment payloads the handler reads.
type commentPayload struct {
	Action  string `json:"action"`
	Comment struct {
		ID       int64  `json:"id"`
		Body     string `json:"body"`
		CommitID string `json:"commit_id"`
		User     struct {
			Type string `json:"type"`
		} `json:"user"`
		PerformedViaGitHubApp *struct {
			ID int64 `json:"id"`
		} `json:"performed_via_github_app"`
	} `json:"comment"`
	Issue *struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
			Ref string `json:"ref"`
		} `json:"head"`
	} `json:"pull_request"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Sender struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"sender"`
}

// Handle runs the commands of one comment. It ignores what is not a new
// comment addressed to the bot by a person; see the package doc.
func (h *Handler) Handle(ctx context.Context, env *events.Envelope) error {
	log := h.log().With("delivery_id", env.DeliveryID, "event", env.Event)
	raw, err := events.Load(ctx, h.Archive, env)
	if err != nil {
		return err
	}
	var p commentPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return events.Permanent(fmt.Errorf("decode %s payload: %w", env.Event, err))
	}
	if p.Action != "created" {
		// Edited and deleted comments run nothing: a command runs once, when
		// it is written (an edit that re-ran a deploy would surprise).
		log.Debug("comment not created: ignored", "action", p.Action)
		return nil
	}
	switch {
	case p.Sender.Type == "Bot" || p.Comment.User.Type == "Bot":
		log.Info("comment by a bot: ignored", "sender", p.Sender.Login)
		return nil
	case p.Comment.PerformedViaGitHubApp != nil && h.AppID != 0 && p.Comment.PerformedViaGitHubApp.ID == h.AppID:
		log.Info("comment written through our App: ignored")
		return nil
	}
	if _, ours := jobs.ParseMarker(p.Comment.Body); ours {
		log.Info("comment carries the bot marker: ignored")
		return nil
	}
	invs := Mentions(p.Comment.Body, h.Bot)
	if len(invs) == 0 {
		return nil
	}
	base, err := h.request(env, &p)
	if err != nil {
		return events.Permanent(err)
	}
	log = log.With("repo", base.Thread.Repo, "user", base.User.Login)
	gh, why, err := h.userClient(ctx, base.User.ID)
	if err != nil {
		return err
	}
	if gh == nil {
		// No login to act with: the one write made as the App is the reply
		// saying why — whatever the commands were (no 👀, no help, nothing
		// else as the App). The authorizer says why first when the person
		// may not run commands at all (not a member, no write access), so
		// they are not sent to log in for nothing; else the login link.
		r := *base
		r.Invocation, r.Index = invs[0], 0
		d := &githubapp.Denied{Reason: why, Login: base.User.Login, Repo: base.Thread.Repo}
		err := h.Authorizer.CheckInstallation(ctx, r.InstallationID, r.Thread.Repo, tokens.User{ID: r.User.ID, Login: r.User.Login})
		var denied *githubapp.Denied
		switch {
		case errors.As(err, &denied):
			d = denied
		case err != nil:
			return err
		}
		return h.refuse(ctx, log, &r, d)
	}
	base.GitHub = gh
	if err := h.acknowledge(ctx, base); err != nil {
		return err
	}
	var notRun []string
	for i, inv := range invs {
		if i >= MaxCommandsPerComment {
			notRun = append(notRun, "`"+inv.Text+"`")
			continue
		}
		r := *base
		r.Invocation, r.Index = inv, i
		if err := h.run(ctx, log, &r); err != nil {
			return err
		}
	}
	if len(notRun) > 0 {
		r := *base
		r.Index = MaxCommandsPerComment
		return h.reply(ctx, &r, r.GitHub, fmt.Sprintf("I run at most %d commands per comment; these were not run: %s. Write them in another comment.",
			MaxCommandsPerComment, strings.Join(notRun, ", ")))
	}
	return nil
}

func (h *Handler) request(env *events.Envelope, p *commentPayload) (*Request, error) {
	r := &Request{DeliveryID: env.DeliveryID, ReceivedAt: env.ReceivedAt, Registry: h.Registry,
		User: jobs.User{ID: p.Sender.ID, Login: p.Sender.Login}}
	if p.Installation != nil {
		r.InstallationID = p.Installation.ID
	}
	r.Thread = jobs.Thread{Repo: p.Repository.FullName, CommentID: p.Comment.ID}
	switch env.Event {
	case "issue_comment":
		if p.Issue == nil {
			return nil, errors.New("issue_comment without issue")
		}
		r.Thread.Kind, r.Thread.Number = jobs.IssueThread, p.Issue.Number
		if len(p.Issue.PullRequest) > 0 && string(p.Issue.PullRequest) != "null" {
			r.Thread.Kind, r.IsPullRequest = jobs.PullThread, true
		}
	case "pull_request_review_comment":
		if p.PullRequest == nil {
			return nil, errors.New("pull_request_review_comment without pull_request")
		}
		r.Thread.Kind, r.Thread.Number, r.IsPullRequest = jobs.ReviewThread, p.PullRequest.Number, true
		r.HeadSHA, r.HeadRef = p.PullRequest.Head.SHA, p.PullRequest.Head.Ref
	case "commit_comment":
		r.Thread.Kind, r.Thread.CommitSHA = jobs.CommitThread, p.Comment.CommitID
		r.HeadSHA = p.Comment.CommitID
	default:
		return nil, fmt.Errorf("event %s is not a comment", env.Event)
	}
	if r.Thread.Repo == "" || r.User.ID == 0 {
		return nil, errors.New("comment payload without repository or sender")
	}
	return r, nil
}

// userClient returns a client acting as the user, or nil and why when they
// have no usable login (never logged in or revoked: NoToken; expired:
// ReauthRequired).
func (h *Handler) userClient(ctx context.Context, userID int64) (*github.Client, githubapp.Reason, error) {
	if _, err := h.Tokens.Token(ctx, userID); err != nil {
		switch {
		case errors.Is(err, tokens.ErrNotFound):
			return nil, githubapp.NoToken, nil
		case errors.Is(err, tokens.ErrReauthRequired):
			return nil, githubapp.ReauthRequired, nil
		}
		return nil, "", fmt.Errorf("read login of user %d: %w", userID, err)
	}
	c, err := h.GitHub.User(ctx, userID)
	return c, "", err
}

// acknowledge puts 👀 on the comment with the user's token.
func (h *Handler) acknowledge(ctx context.Context, r *Request) error {
	return githubapp.React(ctx, r.GitHub, r.Thread, "eyes")
}

// run routes one command line and replies.
func (h *Handler) run(ctx context.Context, log *slog.Logger, r *Request) error {
	name := r.Name
	if name == "" {
		name = "help"
	}
	cmd, ok := h.Registry.Lookup(name)
	if !ok {
		msg := fmt.Sprintf("I don't know the command `%s`.", r.Name)
		if s := h.Registry.Suggest(r.Name); len(s) > 0 {
			msg += " Did you mean " + quoteList(s) + "?"
		}
		msg += fmt.Sprintf(" Write `@%s help` for the list.", h.Bot)
		log.Info("unknown command", "command", r.Name)
		return h.reply(ctx, r, r.GitHub, msg)
	}
	log = log.With("command", cmd.Name)
	if cmd.Auth {
		// The authorizer also asks the vault, so a missing or expired login
		// is refused with its own reason.
		err := h.Authorizer.CheckInstallation(ctx, r.InstallationID, r.Thread.Repo, tokens.User{ID: r.User.ID, Login: r.User.Login})
		var denied *githubapp.Denied
		switch {
		case errors.As(err, &denied):
			return h.refuse(ctx, log, r, denied)
		case err != nil:
			return err
		case r.GitHub == nil: // the login ended between the two reads
			return h.refuse(ctx, log, r, &githubapp.Denied{Reason: githubapp.ReauthRequired, Login: r.User.Login, Repo: r.Thread.Repo})
		}
	}
	out, err := cmd.Run(ctx, r)
	var uerr *UserError
	switch {
	case errors.As(err, &uerr):
		log.Info("command refused", "why", uerr.Msg)
		out = uerr.Msg
	case err != nil:
		return fmt.Errorf("command %s: %w", cmd.Name, err)
	}
	if out == "" {
		return nil
	}
	return h.reply(ctx, r, r.GitHub, out)
}

// refuse answers an unauthorized request — the one reply written with the
// installation token, since the user has no token the bot may use.
func (h *Handler) refuse(ctx context.Context, log *slog.Logger, r *Request, d *githubapp.Denied) error {
	log.Info("not authorized", "reason", d.Reason)
	name := r.Name
	if name == "" {
		name = "help"
	}
	msg := fmt.Sprintf("@%s, I can't run `%s` for you: %s.", r.User.Login, name, d.Error())
	if (d.Reason == githubapp.NoToken || d.Reason == githubapp.ReauthRequired) && h.LoginURL != "" {
		msg += fmt.Sprintf(" [Connect your GitHub account](%s), then ask again.", h.LoginURL)
	}
	c, err := h.GitHub.Installation(ctx, r.InstallationID)
	if err != nil {
		return err
	}
	return h.reply(ctx, r, c, msg)
}

// reply posts msg with the marker of this command line, unless an earlier
// run of the same delivery already did (found by the marker where Reply
// writes: FindReply), with c: the user's client, or the installation's for
// a refusal.
func (h *Handler) reply(ctx context.Context, r *Request, c *github.Client, msg string) error {
	asUser := c == r.GitHub
	m := jobs.Marker{Kind: "reply", ID: fmt.Sprintf("%s#%d", r.DeliveryID, r.Index)}
	since := r.ReceivedAt.Add(-time.Minute)
	if _, done, err := githubapp.FindReply(ctx, c, r.Thread, since, m); err != nil {
		return err
	} else if done {
		return nil
	}
	if asUser {
		if err := pace(ctx, h.Pacer, r.User.ID); err != nil {
			return err
		}
	}
	_, err := githubapp.Reply(ctx, c, r.Thread, msg+"\n\n"+m.String())
	return err
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
