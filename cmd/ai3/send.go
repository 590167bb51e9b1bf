package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// defaultServer is where `ai3 dev` listens unless told otherwise.
const defaultServer = "http://127.0.0.1:3000"

// sendOptions are the flags every `ai3 send` command shares.
type sendOptions struct {
	Server, DataDir string
	HookID          int64
}

func newSendCmd() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Send a webhook to a running ai3 dev, signed as GitHub signs it",
	}
	cmd.PersistentFlags().StringVar(&o.Server, "server", defaultServer, "address of the running ai3 dev")
	cmd.PersistentFlags().StringVar(&o.DataDir, "data", ".ai3-data", "the server's data directory (holds webhook-secret)")
	cmd.PersistentFlags().Int64Var(&o.HookID, "hook-id", 1, "X-GitHub-Hook-ID to send")
	cmd.AddCommand(newSendCommentCmd(&o), newSendEventCmd(&o))
	return cmd
}

func newSendCommentCmd(o *sendOptions) *cobra.Command {
	var repo, user string
	var issue int
	var pr bool
	cmd := &cobra.Command{
		Use:   "comment --repo OWNER/NAME --issue N --user LOGIN TEXT",
		Short: "Comment on an issue or pull request as a person (the bot reads @mentions in it)",
		Long: "Comment as a person. When the server runs in sandbox mode, the comment is made in the GitHub\n" +
			"stand-in, which delivers the issue_comment webhook as GitHub would (the thread keeps it).\n" +
			"Otherwise an issue_comment webhook with GitHub's shape is signed with the webhook secret\n" +
			"(WEBHOOK_SECRET, .env, or DATA/webhook-secret) and posted to SERVER/webhook.",
		Example: `  ai3 send comment --repo ai3-sandbox/demo --issue 1 --user alice "@ai3-mvp run checks"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkThread(repo, issue); err != nil {
				return err
			}
			if user == "" {
				return errors.New("--user is required: the login of the person who comments")
			}
			return sendComment(cmd.Context(), cmd.OutOrStdout(), *o, repo, issue, user, args[0], pr)
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "repository (owner/name)")
	cmd.Flags().IntVar(&issue, "issue", 0, "issue or pull request number")
	cmd.Flags().StringVar(&user, "user", "", "login of the person commenting")
	cmd.Flags().BoolVar(&pr, "pull-request", true, "outside sandbox mode: describe the thread as a pull request")
	return cmd
}

func newSendEventCmd(o *sendOptions) *cobra.Command {
	var payload, delivery string
	cmd := &cobra.Command{
		Use:     "event NAME --payload FILE",
		Short:   "Sign and post any GitHub event (NAME is the X-GitHub-Event, e.g. issue_comment)",
		Example: `  ai3 send event ping --payload ping.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if payload == "" {
				return errors.New("--payload is required: a file with the event's JSON body (- for standard input)")
			}
			var body []byte
			var err error
			if payload == "-" {
				body, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 25<<20))
			} else {
				body, err = os.ReadFile(payload)
			}
			if err != nil {
				return fmt.Errorf("read payload: %w", err)
			}
			if !json.Valid(body) {
				return fmt.Errorf("payload %s is not JSON", payload)
			}
			secret, from, err := sendSecret(o.DataDir)
			if err != nil {
				return err
			}
			res, err := postWebhook(cmd.Context(), *o, secret, args[0], delivery, body)
			if err != nil {
				return explainSendError(err, o.Server, from)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sent %s (delivery %s, %d bytes, signed with the secret from %s): %s\n",
				args[0], res.Delivery, len(body), from, res.Answer)
			return nil
		},
	}
	cmd.Flags().StringVar(&payload, "payload", "", "file holding the JSON body")
	cmd.Flags().StringVar(&delivery, "delivery", "", "X-GitHub-Delivery (default: a new random id)")
	return cmd
}

func checkThread(repo string, issue int) error {
	if o, n, ok := strings.Cut(repo, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
		return fmt.Errorf("--repo %q: want owner/name, e.g. ai3-sandbox/demo", repo)
	}
	if issue <= 0 {
		return errors.New("--issue is required: the issue or pull request number (1 or more)")
	}
	return nil
}

// sendComment comments as user: through the stand-in in sandbox mode (its
// webhook then comes from the stand-in), else as a signed webhook.
func sendComment(ctx context.Context, out io.Writer, o sendOptions, repo string, issue int, user, text string, pr bool) error {
	c := controlClient{Server: o.Server}
	info, err := c.info(ctx)
	switch {
	case err == nil:
		var res struct{ ID int64 }
		if err := c.do(ctx, "POST", "/sandbox/control/comments",
			map[string]any{"repo": repo, "issue": issue, "user": user, "body": text}, &res); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s commented on %s#%d in the sandbox (comment %d); the stand-in delivers the issue_comment webhook as GitHub would.\n",
			user, repo, issue, res.ID)
		if !info.isPull(ctx, c, repo, issue) {
			fmt.Fprintf(out, "note: %s#%d is not a pull request; workflows that check one (checks) need it: ai3 sandbox pull --repo %s --user %s --title \"feat: …\"\n",
				repo, issue, repo, user)
		}
	case errors.Is(err, errNotSandbox):
		secret, from, err := sendSecret(o.DataDir)
		if err != nil {
			return err
		}
		body, err := commentPayload{Repo: repo, Issue: issue, User: user, Body: text, PR: pr, At: time.Now()}.JSON()
		if err != nil {
			return err
		}
		res, err := postWebhook(ctx, o, secret, "issue_comment", "", body)
		if err != nil {
			return explainSendError(err, o.Server, from)
		}
		fmt.Fprintf(out, "sent issue_comment from %s on %s#%d (delivery %s, signed with the secret from %s): %s\n",
			user, repo, issue, res.Delivery, from, res.Answer)
		return nil
	default:
		return err
	}
	fmt.Fprintf(out, "Read the thread: ai3 sandbox comments --repo %s --issue %d%s   (the bot answers within seconds)\n",
		repo, issue, serverFlag(o.Server))
	return nil
}

func serverFlag(server string) string {
	if strings.TrimSuffix(server, "/") == defaultServer {
		return ""
	}
	return " --server " + server
}

// sendSecret returns the webhook secret to sign with — WEBHOOK_SECRET from
// the environment, else from ./.env, else the first line of
// DATA/webhook-secret — and where it came from (never the secret).
func sendSecret(dataDir string) (secret, from string, err error) {
	if v := os.Getenv("WEBHOOK_SECRET"); v != "" {
		return firstLine(v), "WEBHOOK_SECRET", nil
	}
	if m, err := readDotEnvFile(".env"); err == nil && m["WEBHOOK_SECRET"] != "" {
		return firstLine(m["WEBHOOK_SECRET"]), ".env", nil
	}
	path := filepath.Join(dataDir, "webhook-secret")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("no webhook secret to sign with: set WEBHOOK_SECRET to the server's secret, "+
			"or pass --data with the server's data directory (%s does not exist)", path)
	}
	if err != nil {
		return "", "", fmt.Errorf("read the webhook secret: %w", err)
	}
	if s := firstLine(string(b)); s != "" {
		return s, path, nil
	}
	return "", "", fmt.Errorf("no webhook secret to sign with: %s is empty", path)
}

func firstLine(s string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// sent is the outcome of one delivery.
type sent struct {
	Delivery string
	Answer   string // the receiver's answer body, trimmed
}

// errRefused is a delivery the receiver refused (4xx).
type errRefused struct {
	Status int
	Body   string
}

func (e *errRefused) Error() string {
	return fmt.Sprintf("the server answered %d: %s", e.Status, e.Body)
}

// errUnreachable is a server that could not be reached at all.
type errUnreachable struct{ err error }

func (e *errUnreachable) Error() string { return e.err.Error() }
func (e *errUnreachable) Unwrap() error { return e.err }

// postWebhook posts body to SERVER/webhook with the headers GitHub sends
// (event, delivery id, hook id, HMAC-SHA256 signature of the raw body).
func postWebhook(ctx context.Context, o sendOptions, secret, event, delivery string, body []byte) (sent, error) {
	if delivery == "" {
		delivery = newDeliveryID()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(o.Server, "/")+"/webhook", bytes.NewReader(body))
	if err != nil {
		return sent{}, fmt.Errorf("--server %q: %w", o.Server, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/ai3-send")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(o.HookID, 10))
	req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte(secret), body))
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return sent{}, &errUnreachable{err}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	text := strings.TrimSpace(string(answer))
	if resp.StatusCode >= 300 {
		return sent{Delivery: delivery}, &errRefused{Status: resp.StatusCode, Body: text}
	}
	return sent{Delivery: delivery, Answer: text}, nil
}

// explainSendError turns a failed delivery into what to do about it.
func explainSendError(err error, server, secretFrom string) error {
	var un *errUnreachable
	var ref *errRefused
	switch {
	case errors.As(err, &un):
		return fmt.Errorf("cannot reach ai3 dev at %s (%w): is it running? Start it with `go run ./cmd/ai3 dev`, or pass --server", server, un.err)
	case errors.As(err, &ref) && ref.Status == http.StatusUnauthorized:
		return fmt.Errorf("the server refused the signature (401): the secret from %s is not the server's; "+
			"set WEBHOOK_SECRET to the server's secret or pass --data with its data directory", secretFrom)
	case errors.As(err, &ref) && ref.Status == http.StatusNotFound:
		return fmt.Errorf("%s has no /webhook (404): is it ai3 dev?", server)
	}
	return err
}

func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
