package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// Handler runs one logical task in-process, as its Lambda would: it gets the
// invocation payload and returns the function's response.
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// Callbacks completes task tokens, as Step Functions' SendTaskSuccess and
// SendTaskFailure do.
type Callbacks interface {
	SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error
	SendTaskFailure(ctx context.Context, token, errorName, cause string) error
}

// Errors the handlers fail with. The executor (like the Lambda Go runtime)
// names an ASL error after the error's type, so the names are what Retry and
// Catch match: the simulation fails with the real steps' steps.TransientError
// and steps.InputError, and with DeployFailedError, which only it raises.

// DeployFailedError means a deployment or its smoke test failed.
type DeployFailedError struct{ Msg string }

// Error returns the message.
func (e *DeployFailedError) Error() string { return e.Msg }

// payload is what every compiled step receives (see asl's compiler), plus the
// step's fixed fields.
type payload struct {
	Workflow  string                     `json:"workflow"`
	Step      string                     `json:"step"`
	Execution string                     `json:"execution"`
	Input     json.RawMessage            `json:"input"`
	Steps     map[string]json.RawMessage `json:"steps"`
	TaskToken string                     `json:"TaskToken"`
	Kind      string                     `json:"kind"`
	Check     string                     `json:"check"`
	Func      string                     `json:"func"`
	File      string                     `json:"workflow_file"`
	Inputs    map[string]string          `json:"inputs"`
	URL       string                     `json:"url"`
	Status    string                     `json:"status"`
}

// input is the part of the execution input the local handlers read. The
// pull_request object has the shape of GitHub's webhook payload; simulate
// lets tests and `ai3 workflows run` steer the simulated jobs.
type input struct {
	PullRequest *struct {
		Title          string `json:"title"`
		Additions      int    `json:"additions"`
		Deletions      int    `json:"deletions"`
		Mergeable      *bool  `json:"mergeable"`
		MergeableState string `json:"mergeable_state"`
		Labels         []struct {
			Name string `json:"name"`
		} `json:"labels"`
	} `json:"pull_request"`
	MaxDiffLines int    `json:"max_diff_lines"`
	Approval     string `json:"approval"` // "auto", "reject" or "" (wait for a person)
	Simulate     struct {
		Fail      []string       `json:"fail"`      // steps that fail
		Transient map[string]int `json:"transient"` // step → failures before it succeeds
	} `json:"simulate"`
}

// result is what a check returns.
type result struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// local holds the state the simulated tasks share: attempts per execution
// and step, for simulated transient failures.
type local struct {
	cb       Callbacks
	mu       sync.Mutex
	attempts map[string]int
}

// LocalHandlers returns a simulation of the step kinds, keyed by Lambda
// function name (ai3-step), for `ai3 workflows run`: no GitHub, no job
// record, nothing written anywhere. The real handler is internal/steps'
// Service (ai3 dev, the ai3-step Lambda). In the simulation pr.checks reads
// the execution input's pull_request object (the shape of GitHub's webhook
// payload); github.actions returns at once and completes its token through
// cb from another goroutine ("success", or "failure" for steps listed in
// simulate.fail); approval approves itself with "approval":"auto", rejects
// with "reject", and otherwise waits for a person; http.check passes unless
// listed in simulate.fail; reports are acknowledged.
func LocalHandlers(cb Callbacks) map[string]Handler {
	l := &local{cb: cb, attempts: map[string]int{}}
	return map[string]Handler{FunctionName(steps.Task): l.wrap(l.step)}
}

// step runs the simulation of the payload's kind.
func (l *local) step(ctx context.Context, p *payload, in *input) (any, error) {
	if p.Kind == "" && p.Status == "failed" {
		return report(ctx, p, in)
	}
	switch p.Kind {
	case steps.KindChecks:
		checks := map[string]func(context.Context, *payload, *input) (any, error){
			"title": checkTitle, "diff_size": checkDiffSize, "labels": checkLabels, "mergeable": checkMergeable}
		if f := checks[p.Check]; f != nil {
			return f(ctx, p, in)
		}
		return nil, &steps.InputError{Msg: fmt.Sprintf("step %s: unknown check %q", p.Step, p.Check)}
	case steps.KindGo:
		if p.Func == "checks.summary" {
			return checksSummary(ctx, p, in)
		}
		return nil, &steps.InputError{Msg: fmt.Sprintf("step %s: no simulated Go function %q", p.Step, p.Func)}
	case steps.KindActions:
		return l.actions(ctx, p, in)
	case steps.KindApproval:
		return l.approval(ctx, p, in)
	case steps.KindHTTP:
		return map[string]any{"url": p.URL, "status": 200, "simulated": true}, nil
	}
	return nil, &steps.InputError{Msg: fmt.Sprintf("step %s: unknown kind %q", p.Step, p.Kind)}
}

func (l *local) wrap(h func(context.Context, *payload, *input) (any, error)) Handler {
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var p payload
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, &steps.InputError{Msg: fmt.Sprintf("decode payload: %v", err)}
		}
		var in input
		if len(p.Input) > 0 && string(p.Input) != "null" {
			if err := json.Unmarshal(p.Input, &in); err != nil {
				return nil, &steps.InputError{Msg: fmt.Sprintf("decode execution input: %v", err)}
			}
		}
		if err := l.simulated(&p, &in); err != nil {
			return nil, err
		}
		out, err := h(ctx, &p, &in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encode %s result: %w", p.Step, err)
		}
		return b, nil
	}
}

// simulated applies input.simulate: a step listed in transient fails that
// many times with TransientError first; a request-response step listed in
// fail fails with DeployFailedError (callback steps fail through the token).
func (l *local) simulated(p *payload, in *input) error {
	if n := in.Simulate.Transient[p.Step]; n > 0 {
		key := p.Execution + "/" + p.Step
		l.mu.Lock()
		l.attempts[key]++
		a := l.attempts[key]
		l.mu.Unlock()
		if a <= n {
			return &steps.TransientError{Msg: fmt.Sprintf("step %s: simulated transient failure %d of %d", p.Step, a, n)}
		}
	}
	if p.TaskToken == "" && contains(in.Simulate.Fail, p.Step) {
		return &DeployFailedError{Msg: fmt.Sprintf("step %s: simulated failure", p.Step)}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func needPR(in *input) error {
	if in.PullRequest == nil {
		return &steps.InputError{Msg: "the execution input has no pull_request"}
	}
	return nil
}

func checkTitle(_ context.Context, _ *payload, in *input) (any, error) {
	if err := needPR(in); err != nil {
		return nil, err
	}
	conv := regexp.MustCompile(`^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\([\w./-]+\))?!?: \S`)
	if conv.MatchString(in.PullRequest.Title) {
		return result{OK: true, Message: "title follows Conventional Commits"}, nil
	}
	return result{Message: fmt.Sprintf("title %q does not follow Conventional Commits (type(scope): summary)", in.PullRequest.Title)}, nil
}

func checkDiffSize(_ context.Context, _ *payload, in *input) (any, error) {
	if err := needPR(in); err != nil {
		return nil, err
	}
	limit := in.MaxDiffLines
	if limit <= 0 {
		limit = 1000
	}
	n := in.PullRequest.Additions + in.PullRequest.Deletions
	if n <= limit {
		return result{OK: true, Message: fmt.Sprintf("%d changed lines (limit %d)", n, limit)}, nil
	}
	return result{Message: fmt.Sprintf("%d changed lines, over the limit of %d: split the pull request", n, limit)}, nil
}

func checkLabels(_ context.Context, _ *payload, in *input) (any, error) {
	if err := needPR(in); err != nil {
		return nil, err
	}
	for _, l := range in.PullRequest.Labels {
		switch strings.ToLower(l.Name) {
		case "do-not-merge", "do not merge", "wip", "blocked":
			return result{Message: fmt.Sprintf("blocking label %q", l.Name)}, nil
		}
	}
	return result{OK: true, Message: "no blocking label"}, nil
}

func checkMergeable(_ context.Context, _ *payload, in *input) (any, error) {
	if err := needPR(in); err != nil {
		return nil, err
	}
	pr := in.PullRequest
	switch {
	case pr.Mergeable == nil:
		return nil, &steps.TransientError{Msg: "GitHub has not computed mergeability yet"}
	case !*pr.Mergeable || pr.MergeableState == "dirty":
		return result{Message: "the branch has conflicts with its base"}, nil
	}
	return result{OK: true, Message: "mergeable"}, nil
}

func checksSummary(_ context.Context, p *payload, _ *input) (any, error) {
	names := make([]string, 0, len(p.Steps))
	for n := range p.Steps {
		names = append(names, n)
	}
	sort.Strings(names)
	var failed, lines []string
	for _, n := range names {
		var s struct{ Output result }
		if err := json.Unmarshal(p.Steps[n], &s); err != nil {
			return nil, &steps.InputError{Msg: fmt.Sprintf("result of step %s: %v", n, err)}
		}
		mark := "✅"
		if !s.Output.OK {
			mark = "❌"
			failed = append(failed, n)
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", mark, n, s.Output.Message))
	}
	conclusion := "success"
	if len(failed) > 0 {
		conclusion = "failure"
	}
	return map[string]any{"conclusion": conclusion, "failed": failed, "summary": strings.Join(lines, "\n")}, nil
}

// actions simulates a GitHub Actions run: it returns at once and reports
// the run's end through the task token.
func (l *local) actions(ctx context.Context, p *payload, in *input) (any, error) {
	if p.TaskToken == "" || p.File == "" {
		return nil, &steps.InputError{Msg: "github.actions needs a TaskToken and a workflow_file"}
	}
	fails := contains(in.Simulate.Fail, p.Step)
	l.complete(ctx, func(ctx context.Context) error {
		if fails {
			return l.cb.SendTaskFailure(ctx, p.TaskToken, steps.ErrActionsFailed, fmt.Sprintf("GitHub Actions run of %s concluded failure (simulated)", p.File))
		}
		out, _ := json.Marshal(map[string]any{"workflow_file": p.File, "inputs": p.Inputs, "conclusion": "success"})
		return l.cb.SendTaskSuccess(ctx, p.TaskToken, out)
	})
	return map[string]string{"dispatched": p.File}, nil
}

// approval asks for a release approval; with "approval":"auto" it approves
// itself, with "reject" it rejects, otherwise it waits for a person.
func (l *local) approval(ctx context.Context, p *payload, in *input) (any, error) {
	if p.TaskToken == "" {
		return nil, &steps.InputError{Msg: "approval needs a TaskToken"}
	}
	switch in.Approval {
	case "auto":
		l.complete(ctx, func(ctx context.Context) error {
			return l.cb.SendTaskSuccess(ctx, p.TaskToken, json.RawMessage(`{"approved":true,"decision":"approved","approved_by":"auto-approval"}`))
		})
	case "reject":
		l.complete(ctx, func(ctx context.Context) error {
			return l.cb.SendTaskFailure(ctx, p.TaskToken, steps.ErrApprovalRejected, "the release was rejected")
		})
	}
	return map[string]string{"requested": "approval"}, nil
}

// complete runs send on its own goroutine, after the handler has returned,
// detached from the invocation's cancellation as a real callback would be.
func (l *local) complete(ctx context.Context, send func(context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	go func() { _ = send(ctx) }()
}

func report(context.Context, *payload, *input) (any, error) {
	return map[string]bool{"reported": true}, nil
}
