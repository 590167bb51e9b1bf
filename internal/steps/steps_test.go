package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/steps"
)

func retryTransient() asl.Retrier {
	three := 3
	return asl.Retrier{ErrorEquals: []string{"TransientError"}, IntervalSeconds: 1, MaxAttempts: &three, BackoffRate: 1}
}

func goStep(name string) *asl.StepTask {
	return asl.Invoke(steps.Task).With("kind", steps.KindGo).With("func", name).Retry(retryTransient())
}

// withFuncs registers Go steps: demo.ok, and demo.flaky, which fails with a
// TransientError on its first attempt.
func withFuncs(flakyCalls *atomic.Int64) option {
	return func(_ *env, d *steps.Deps) {
		r := steps.NewRegistry()
		_ = r.Func("demo.ok", func(_ context.Context, c *steps.Call) (steps.Result, error) {
			return steps.Result{Output: map[string]string{"hello": c.Job.User.Login}, Detail: "did it"}, nil
		})
		_ = r.Func("demo.flaky", func(_ context.Context, c *steps.Call) (steps.Result, error) {
			if flakyCalls.Add(1) == 1 {
				return steps.Result{}, &steps.TransientError{Msg: "GitHub answered 502"}
			}
			return steps.Result{Output: "ok"}, nil
		})
		_ = r.Func("demo.broken", func(context.Context, *steps.Call) (steps.Result, error) {
			return steps.Result{}, &steps.CheckFailedError{Msg: "the widget is broken"}
		})
		d.Kinds = r
	}
}

func TestProgressAroundEveryStep(t *testing.T) {
	var flaky atomic.Int64
	e := newEnv(t, withFuncs(&flaky))
	w := asl.NewWorkflow("demo", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("first", goStep("demo.ok"))
	w.Step("second", goStep("demo.flaky")).Needs("first")
	w.Step("third", goStep("demo.ok")).Needs("second")
	j, arn := e.start(w, nil)
	d, j := e.wait(arn, j.ID)
	if d.Status != "SUCCEEDED" || j.Status != jobs.Succeeded {
		t.Fatalf("execution %s (%s), job %s", d.Status, d.Cause, j.Status)
	}
	if a := j.Steps["second"].Attempts; a != 2 {
		t.Errorf("second step attempts = %d, want 2 (one transient failure, one retry)", a)
	}
	c := e.comment(j)
	for _, s := range []string{"first", "second", "third"} {
		if !strings.Contains(row(c, s), "succeeded") {
			t.Errorf("row of %s: %q", s, row(c, s))
		}
	}
	if !strings.Contains(row(c, "second"), "| 2 |") {
		t.Errorf("the comment should show 2 attempts for second: %q", row(c, "second"))
	}
	if m, ok := jobs.ParseMarker(c); !ok || m.ID != j.ID {
		t.Errorf("the status comment lacks the bot marker: %q", c)
	}
	ws := e.gh.Writes()
	if len(ws) == 0 || writesBy(ws, "alice", "") != len(ws) {
		t.Errorf("every write must be made with alice's token: %+v", ws)
	}
}

func TestFailedStepEndsTheJob(t *testing.T) {
	var flaky atomic.Int64
	e := newEnv(t, withFuncs(&flaky))
	w := asl.NewWorkflow("demo", asl.Standard).ReportFailuresWith(steps.ReportTask)
	w.Step("first", goStep("demo.ok"))
	w.Step("broken", goStep("demo.broken")).Needs("first")
	w.Step("never", goStep("demo.ok")).Needs("broken")
	j, arn := e.start(w, nil)
	d, j := e.wait(arn, j.ID)
	if d.Status != "FAILED" || j.Status != jobs.Failed {
		t.Fatalf("execution %s, job %s", d.Status, j.Status)
	}
	if j.Error != "CheckFailedError" || !strings.Contains(j.Cause, "step broken failed: the widget is broken") {
		t.Errorf("job error %q cause %q: should name the step, its error and cause", j.Error, j.Cause)
	}
	if j.Steps["never"].Status != jobs.Skipped {
		t.Errorf("a step that never ran is %s, want skipped", j.Steps["never"].Status)
	}
	c := e.comment(j)
	if !strings.Contains(row(c, "broken"), "failed") || !strings.Contains(row(c, "broken"), "the widget is broken") {
		t.Errorf("row of broken: %q", row(c, "broken"))
	}
}

// TestExpressJobsEndWithoutStatusEvents: AWS sends no status events for
// EXPRESS executions, so their jobs end from the steps — the last success,
// or the failure report.
func TestExpressJobsEndWithoutStatusEvents(t *testing.T) {
	var flaky atomic.Int64
	express := func(e *env, d *steps.Deps) {
		e.noStatusEvents = true
		d.Express = func(string) bool { return true }
	}
	e := newEnv(t, withFuncs(&flaky), express)
	ok := asl.NewWorkflow("quick", asl.Express).ReportFailuresWith(steps.ReportTask)
	ok.Step("a", goStep("demo.ok"))
	ok.Step("b", goStep("demo.ok"))
	ok.Step("c", goStep("demo.ok")).Needs("a", "b")
	j, arn := e.start(ok, nil)
	if d, j := e.wait(arn, j.ID); d.Status != "SUCCEEDED" || j.Status != jobs.Succeeded || j.FinishedAt.IsZero() {
		t.Fatalf("execution %s, job %s (finished %v)", d.Status, j.Status, j.FinishedAt)
	}
	if c := e.comment(j); !strings.Contains(c, "succeeded") || !strings.Contains(row(c, "c"), "succeeded") {
		t.Errorf("final comment: %q", c)
	}
	bad := asl.NewWorkflow("quickfail", asl.Express).ReportFailuresWith(steps.ReportTask)
	bad.Step("a", goStep("demo.ok"))
	bad.Step("broken", goStep("demo.broken")).Needs("a")
	bad.Step("never", goStep("demo.ok")).Needs("broken")
	j, arn = e.start(bad, nil)
	d, j := e.wait(arn, j.ID)
	if d.Status != "FAILED" || j.Status != jobs.Failed || !strings.Contains(j.Cause, "step broken failed: the widget is broken") {
		t.Fatalf("execution %s, job %s %q", d.Status, j.Status, j.Cause)
	}
	if j.Steps["never"].Status != jobs.Skipped {
		t.Errorf("never ran: %s", j.Steps["never"].Status)
	}
}

func TestBadPayloadsAreRefused(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, payload, want string }{
		{"not JSON", `{`, "decode step payload"},
		{"no job", `{"step":"a","kind":"go","input":{}}`, "no job"},
		{"unknown kind", `{"step":"a","kind":"teleport","input":{"job":{"id":"x"}}}`, `unknown kind "teleport"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Step(e.ctx, json.RawMessage(tt.payload))
			var in *steps.InputError
			if !errors.As(err, &in) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an InputError with %q", err, tt.want)
			}
		})
	}
	if n := e.store.Updates(); n != 0 {
		t.Errorf("refused payloads wrote %d job updates", n)
	}
}

func TestHTTPCheck(t *testing.T) {
	var hits atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if r.URL.Path == "/down" || (r.URL.Path == "/slow-start" && n == 1) {
			w.WriteHeader(503)
			return
		}
		_, _ = w.Write([]byte("status: ok"))
	}))
	t.Cleanup(site.Close)
	tests := []struct {
		name, url, body string
		retries         int
		want            jobs.Status
		cause           string
	}{
		{"up", "{args.base}/health", "ok", 0, jobs.Succeeded, ""},
		{"up after a retry", "{args.base}/slow-start", "", 2, jobs.Succeeded, ""},
		{"down", "{args.base}/down", "", 1, jobs.Failed, "answered 503, want 200"},
		{"body missing", "{args.base}/health", "healthy", 0, jobs.Failed, `without "healthy"`},
		{"missing argument", "{args.nope}/x", "", 0, jobs.Failed, "job arguments missing: [nope]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			e := newEnv(t)
			w := asl.NewWorkflow("smoke", asl.Standard).ReportFailuresWith(steps.ReportTask)
			w.Step("smoke_test", asl.Invoke(steps.Task).With("kind", steps.KindHTTP).With("url", tt.url).
				With("body_contains", tt.body).With("retries", tt.retries).With("interval_seconds", 0))
			j, arn := e.start(w, map[string]string{"base": site.URL})
			_, j = e.wait(arn, j.ID)
			if j.Status != tt.want || !strings.Contains(j.Cause, tt.cause) {
				t.Errorf("job %s (%s), want %s with %q", j.Status, j.Cause, tt.want, tt.cause)
			}
		})
	}
}

func TestPRChecks(t *testing.T) {
	tests := []struct {
		name   string
		pr     sandbox.PullOptions
		failed []string
	}{
		{"all pass", sandbox.PullOptions{Title: "feat(api): add widgets", Additions: 10, Deletions: 5}, nil},
		{"bad title and wip", sandbox.PullOptions{Title: "stuff", Additions: 10, Labels: []string{"WIP"}}, []string{"title", "labels"}},
		{"too big", sandbox.PullOptions{Title: "fix: x", Additions: 900, Deletions: 200}, []string{"diff_size"}},
		{"conflicting", sandbox.PullOptions{Title: "fix: x", Additions: 9, Conflicting: true}, []string{"mergeable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.pr.Head, tt.pr.User = "feature-x", "alice"
			n, err := e.gh.CreatePull(repo, tt.pr)
			if err != nil {
				t.Fatal(err)
			}
			e.gh.pr = n
			w := asl.NewWorkflow("checks", asl.Express).ReportFailuresWith(steps.ReportTask)
			for _, c := range []string{"title", "diff_size", "labels", "mergeable"} {
				w.Step(c, asl.Invoke(steps.Task).With("kind", steps.KindChecks).With("check", c))
			}
			w.Step("summary", asl.Invoke(steps.Task).With("kind", steps.KindGo).With("func", "checks.summary")).
				Needs("title", "diff_size", "labels", "mergeable")
			j, arn := e.start(w, nil)
			_, j = e.wait(arn, j.ID)
			want := jobs.Succeeded
			if len(tt.failed) > 0 {
				want = jobs.Failed
			}
			if j.Status != want {
				t.Fatalf("job %s (%s), want %s", j.Status, j.Cause, want)
			}
			for _, f := range tt.failed {
				if j.Steps[f].Status != jobs.Failed || !strings.Contains(j.Cause, f) {
					t.Errorf("check %s: %s; job cause %q should name it", f, j.Steps[f].Status, j.Cause)
				}
			}
		})
	}
}
