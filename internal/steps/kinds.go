package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

// Hold records the step as Waiting with its task token (and link and
// detail when given), before the kind does what will complete the token, so
// whoever completes it finds the token.
func (c *Call) Hold(ctx context.Context, link, detail string) error {
	if c.TaskToken == "" {
		return &InputError{Msg: fmt.Sprintf("step %s: kind %s waits for a callback: use asl.InvokeAndWait", c.Step, c.Kind)}
	}
	_, err := c.svc.update(ctx, c.Job.ID, func(j *jobs.Job) bool {
		st := stepOf(j, c.Step)
		if st.Status.Final() && st.Status != jobs.Failed {
			return false
		}
		st.Status, st.TaskToken = jobs.Waiting, c.TaskToken
		if link != "" {
			st.Link = link
		}
		if detail != "" {
			st.Detail = detail
		}
		return true
	})
	if err != nil {
		return &TransientError{Msg: fmt.Sprintf("step %s: record the task token: %v", c.Step, err)}
	}
	return nil
}

// pace waits for a slot of the job user's write budget (Deps.Pacer) before
// a write made with their token, as the Reporter does before each status
// comment write; hold, when not nil, is told of each pause first. Without a
// Pacer it returns at once.
func (c *Call) pace(ctx context.Context, hold func(wait time.Duration) error) error {
	if c.svc.d.Pacer == nil {
		return nil
	}
	err := c.svc.d.Pacer.Wait(ctx, c.Job.User.ID, hold)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return &TransientError{Msg: fmt.Sprintf("step %s: wait for the user's write budget: %v", c.Step, err)}
}

// runApproval asks for an approval once, on the job's thread, and waits: the
// approve command completes the token with {"approved_by":"<login>"}, reject
// fails it with ai3.ApprovalRejected (cause: who rejected, and why).
// Arguments: "prompt" (optional text shown with the request).
func runApproval(ctx context.Context, c *Call) (Result, error) {
	var a struct {
		Prompt string `json:"prompt"`
	}
	if err := c.Args(&a); err != nil {
		return Result{}, err
	}
	if err := c.Hold(ctx, "", "waiting for approval"); err != nil {
		return Result{}, err
	}
	// The reference says the request was made ("asked <comment>") or is
	// being made ("asking <deadline>"); an attempt that died while asking
	// leaves a deadline after which a later attempt asks again.
	key := "approval#" + c.Job.ID + "#" + c.Step
	store, now := c.svc.d.Store, c.svc.d.Now()
	asking := "asking " + strconv.FormatInt(now.Add(2*time.Minute).UnixNano(), 10)
	cur, err := store.PutRef(ctx, key, asking, 0)
	if errors.Is(err, jobs.ErrExists) {
		dl, stale := strings.CutPrefix(cur, "asking ")
		n, _ := strconv.ParseInt(dl, 10, 64)
		if !stale || now.Before(time.Unix(0, n)) || store.SwapRef(ctx, key, cur, asking) != nil {
			return Result{Wait: true, Output: map[string]any{"requested": true}}, nil // asked, or being asked
		}
	} else if err != nil {
		return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: %v", c.Step, err)}
	}
	// The request is a write made with the user's token: it takes a slot of
	// their budget, and the deadline moves past every pause for one, so no
	// other attempt asks meanwhile.
	err = c.pace(ctx, func(wait time.Duration) error {
		next := "asking " + strconv.FormatInt(c.svc.d.Now().Add(wait+2*time.Minute).UnixNano(), 10)
		if err := store.SwapRef(ctx, key, asking, next); err != nil {
			return fmt.Errorf("extend the approval request's deadline: %w", err)
		}
		asking = next
		return nil
	})
	if err != nil {
		_ = store.SwapRef(ctx, key, asking, "") // ask on the next attempt (unless another attempt took over)
		return Result{}, err
	}
	body := fmt.Sprintf("%s\n**Approval needed** to go on with `%s` (job `%s`, step `%s`).%s\n\n"+
		"A maintainer replies `@%s approve %s` to go on, or `@%s reject %s <reason>` to stop it.\n",
		jobs.Marker{Kind: "reply", ID: c.Job.ID + "#" + c.Step}, c.Job.Workflow, c.Job.ID, c.Step,
		prefixed(" ", a.Prompt), c.svc.d.BotHandle, c.Job.ID, c.svc.d.BotHandle, c.Job.ID)
	// Asked where the run was asked for: a reply in a review thread, else
	// a new comment on the conversation or the commit.
	asked, err := githubapp.Reply(ctx, c.GitHub, c.Job.Thread, body)
	id := asked.ID
	if err != nil {
		_ = store.SwapRef(ctx, key, asking, "") // ask again on the next attempt
		if isRevoked(err) {
			return Result{}, err
		}
		return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: ask for approval: %v", c.Step, err)}
	}
	_ = store.SwapRef(ctx, key, asking, fmt.Sprintf("asked %d", id))
	return Result{Wait: true, Output: map[string]any{"requested": true}}, nil
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// argRef matches {args.NAME} in http.check's URL.
var argRef = regexp.MustCompile(`\{args\.([A-Za-z0-9_-]+)\}`)

// runHTTPCheck is a smoke test: GET url until it answers expect_status (and
// its body contains body_contains), at most retries+1 times.
// Arguments: url ({args.NAME} takes the job's argument NAME), expect_status
// (default 200), body_contains, timeout_seconds (default 10), retries
// (default 3), interval_seconds (default 2).
func runHTTPCheck(ctx context.Context, c *Call) (Result, error) {
	a := struct {
		URL          string `json:"url"`
		ExpectStatus int    `json:"expect_status"`
		BodyContains string `json:"body_contains"`
		Timeout      int    `json:"timeout_seconds"`
		Retries      *int   `json:"retries"`
		Interval     *int   `json:"interval_seconds"`
	}{ExpectStatus: 200, Timeout: 10}
	if err := c.Args(&a); err != nil {
		return Result{}, err
	}
	var missing []string
	url := argRef.ReplaceAllStringFunc(a.URL, func(m string) string {
		name := argRef.FindStringSubmatch(m)[1]
		v, ok := c.Input.Args[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 || !(strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) {
		return Result{}, &InputError{Msg: fmt.Sprintf("step %s: url %q is not an http(s) URL (job arguments missing: %v)", c.Step, a.URL, missing)}
	}
	retries, interval := 3, 2*time.Second
	if a.Retries != nil {
		retries = max(*a.Retries, 0)
	}
	if a.Interval != nil {
		interval = time.Duration(max(*a.Interval, 0)) * time.Second
	}
	var last string
	for attempt := 1; attempt <= retries+1; attempt++ {
		status, body, err := get(ctx, c.svc.d.HTTPClient, url, time.Duration(a.Timeout)*time.Second)
		switch {
		case err != nil:
			last = err.Error()
		case status != a.ExpectStatus:
			last = fmt.Sprintf("answered %d, want %d", status, a.ExpectStatus)
		case a.BodyContains != "" && !strings.Contains(body, a.BodyContains):
			last = fmt.Sprintf("answered %d without %q in its body", status, a.BodyContains)
		default:
			return Result{Output: map[string]any{"url": url, "status": status, "attempts": attempt},
				Detail: fmt.Sprintf("%s answered %d", url, status)}, nil
		}
		if attempt <= retries {
			if err := sleep(ctx, interval); err != nil {
				return Result{}, err
			}
		}
	}
	return Result{}, &CheckFailedError{Msg: fmt.Sprintf("smoke test of %s failed after %d tries: %s", url, retries+1, last)}
}

func get(ctx context.Context, hc *http.Client, url string, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// conventional is the Conventional Commits title rule of the title check.
var conventional = regexp.MustCompile(`^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\([\w./-]+\))?!?: \S`)

// checkResult is what a pr.checks step returns.
type checkResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// runPRCheck reads the job's pull request from GitHub with the user's token
// and checks one policy. Arguments: check ("title", "diff_size", "labels",
// "mergeable"), max_lines (diff_size, default 1000), blocking_labels
// (labels, default do-not-merge, wip, blocked). A policy that does not pass
// shows as failed and the execution goes on to the summary.
func runPRCheck(ctx context.Context, c *Call) (Result, error) {
	a := struct {
		Check    string   `json:"check"`
		MaxLines int      `json:"max_lines"`
		Blocking []string `json:"blocking_labels"`
	}{MaxLines: 1000, Blocking: []string{"do-not-merge", "wip", "blocked"}}
	if err := c.Args(&a); err != nil {
		return Result{}, err
	}
	if n, err := strconv.Atoi(c.Input.Args["max_diff_lines"]); err == nil && n > 0 {
		a.MaxLines = n // the run's argument
	}
	if c.Job.Thread.Number == 0 {
		return Result{}, &InputError{Msg: fmt.Sprintf("step %s: pr.checks needs a pull request, the job was asked for on a commit", c.Step)}
	}
	owner, repo, _ := strings.Cut(c.Job.Thread.Repo, "/")
	pr, _, err := c.GitHub.PullRequests.Get(ctx, owner, repo, c.Job.Thread.Number)
	if err != nil {
		if again, _ := temporary(err); again {
			return Result{}, &TransientError{Msg: fmt.Sprintf("step %s: read pull request: %v", c.Step, err)}
		}
		return Result{}, fmt.Errorf("step %s: read pull request %s#%d: %w", c.Step, c.Job.Thread.Repo, c.Job.Thread.Number, err)
	}
	var r checkResult
	switch a.Check {
	case "title":
		r = checkResult{true, "title follows Conventional Commits"}
		if !conventional.MatchString(pr.GetTitle()) {
			r = checkResult{false, fmt.Sprintf("title %q does not follow Conventional Commits (type(scope): summary)", pr.GetTitle())}
		}
	case "diff_size":
		n := pr.GetAdditions() + pr.GetDeletions()
		r = checkResult{true, fmt.Sprintf("%d changed lines (limit %d)", n, a.MaxLines)}
		if n > a.MaxLines {
			r = checkResult{false, fmt.Sprintf("%d changed lines, over the limit of %d: split the pull request", n, a.MaxLines)}
		}
	case "labels":
		r = checkResult{true, "no blocking label"}
		for _, l := range pr.Labels {
			for _, b := range a.Blocking {
				if strings.EqualFold(l.GetName(), b) {
					r = checkResult{false, fmt.Sprintf("blocking label %q", l.GetName())}
				}
			}
		}
	case "mergeable":
		switch {
		case pr.Mergeable == nil:
			return Result{}, &TransientError{Msg: "GitHub has not computed mergeability yet"}
		case !pr.GetMergeable() || pr.GetMergeableState() == "dirty":
			r = checkResult{false, "the branch has conflicts with its base"}
		default:
			r = checkResult{true, "mergeable"}
		}
	default:
		return Result{}, &InputError{Msg: fmt.Sprintf("step %s: unknown check %q (title, diff_size, labels, mergeable)", c.Step, a.Check)}
	}
	return Result{Output: r, Failed: !r.OK, Detail: r.Message, Link: pr.GetHTMLURL()}, nil
}

// checksSummary (Go function "checks.summary") concludes the pr.checks
// steps before it: it fails with CheckFailedError naming those that did not
// pass.
func checksSummary(_ context.Context, c *Call) (Result, error) {
	names := make([]string, 0, len(c.Steps))
	for n := range c.Steps {
		names = append(names, n)
	}
	sort.Strings(names)
	var failed, lines []string
	for _, n := range names {
		var s struct {
			Output *struct {
				OK      *bool  `json:"ok"`
				Message string `json:"message"`
			}
		}
		if err := json.Unmarshal(c.Steps[n], &s); err != nil || s.Output == nil || s.Output.OK == nil {
			continue // not a check
		}
		mark := "✅"
		if !*s.Output.OK {
			mark = "❌"
			failed = append(failed, n)
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", mark, n, s.Output.Message))
	}
	if len(failed) > 0 {
		return Result{}, &CheckFailedError{Msg: fmt.Sprintf("%d of %d checks failed: %s", len(failed), len(lines), strings.Join(failed, ", "))}
	}
	return Result{Output: map[string]any{"conclusion": "success", "summary": strings.Join(lines, "\n")},
		Detail: fmt.Sprintf("all %d checks passed", len(lines))}, nil
}
