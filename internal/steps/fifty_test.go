package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/steps"
	"github.com/sbalswa/ai3-mvp/test/githubdouble"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// GitHub's secondary limits on content-creating requests, per user.
const (
	githubPerMinute = 80
	githubPerHour   = 500
)

// tenSteps is the workflow of the fifty runs: checkout, eight tests after
// it, a report after them.
func tenSteps() []render.Node {
	dag := []render.Node{{Name: "checkout"}}
	var tests []string
	for i := 1; i <= 8; i++ {
		name := fmt.Sprintf("test_%d", i)
		tests = append(tests, name)
		dag = append(dag, render.Node{Name: name, Needs: []string{"checkout"}})
	}
	return append(dag, render.Node{Name: "report", Needs: tests})
}

// noCallbacks: the fifty runs' steps hold no task token.
type noCallbacks struct{}

func (noCallbacks) SendTaskSuccess(context.Context, string, json.RawMessage) error { return nil }
func (noCallbacks) SendTaskFailure(context.Context, string, string, string) error  { return nil }

// fiftyResult is what one run of the fifty measured.
type fiftyResult struct {
	runs, writes       int // comment writes GitHub took
	requests, refused  int // write requests GitHub saw; refused with retry-after
	maxMinute, maxHour int // write requests in the busiest minute and hour
	lastRunEnd         time.Duration
	lastWrite          time.Duration
}

// maxInWindow is the most times that fall in any window of length w (a
// time t counts in (t-w, t]).
func maxInWindow(times []time.Time, w time.Duration) int {
	s := slices.Clone(times)
	slices.SortFunc(s, time.Time.Compare)
	best, lo := 0, 0
	for hi := range s {
		for !s[lo].After(s[hi].Add(-w)) {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// runFifty runs 50 runs of a 10-step workflow for one user at once through
// steps.Service — its Step handler for every step, its Finalizer at each
// run's end — with the real Reporter and pace.Pacer over the SQLite job
// store and the GitHub double, all in virtual time (vclock). Each step
// takes stepBase plus up to stepSpread. Ninety seconds in, GitHub refuses
// one write with retry-after: 45 s. It checks that GitHub's limits hold
// for every write request, that no write is made during the retry-after
// pause, and that each comment's last write is its run's final render.
func runFifty(tb testing.TB, stepBase, stepSpread time.Duration) fiftyResult {
	const runs = 50
	ctx := context.Background()
	clk := &vclock{now: t0}
	gh := newHub(tb, githubdouble.WithClock(clk.Now))
	rec, api := gh.front(tb, clk.Now)
	store := openStore(tb, tb.TempDir(), clk.Now)
	dag := tenSteps()
	reg := steps.NewRegistry()
	if err := reg.Func("sim.work", func(ctx context.Context, c *steps.Call) (steps.Result, error) {
		r, _ := strconv.Atoi(strings.TrimPrefix(c.Job.ID, "ci-"))
		i := slices.IndexFunc(dag, func(n render.Node) bool { return n.Name == c.Step })
		return steps.Result{Output: "ok"}, clk.Sleep(ctx, stepBase+time.Duration((r*7+i*13)%60)*stepSpread/60)
	}); err != nil {
		tb.Fatal(err)
	}
	svc := steps.New(steps.Deps{Store: store, Callbacks: noCallbacks{}, Users: newVault(gh), APIURL: api, Kinds: reg,
		Pacer: &pace.Pacer{Store: store, Now: clk.Now, Sleep: clk.Sleep},
		Nodes: func(string) []render.Node { return dag }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: clk.Now, Sleep: clk.Sleep})
	fin := svc.Finalizer()

	var endMu sync.Mutex
	var lastEnd time.Time
	comments := map[int64]string{} // status comment id → job
	for r := range runs {
		id := fmt.Sprintf("ci-%02d", r)
		var names []string
		for _, n := range dag {
			names = append(names, n.Name)
		}
		j := newJob(id, "ci", names, gh.addComment(tb, gh.pr, jobs.Marker{Kind: "status", ID: id}.String()+" queued"), gh.pr)
		j.CreatedAt = t0
		if err := store.Create(ctx, j); err != nil {
			tb.Fatal(err)
		}
		comments[j.StatusCommentID] = id
		arn := "arn:aws:states:us-east-1:111122223333:execution:ai3-ci:" + id
		input := jobs.InputOf(j)
		var mu sync.Mutex
		waiting := map[string]int{}
		for _, n := range dag {
			waiting[n.Name] = len(n.Needs)
		}
		finished := 0
		var step func(i int)
		step = func(i int) {
			payload, _ := json.Marshal(map[string]any{"workflow": "ci", "step": dag[i].Name, "kind": steps.KindGo, "func": "sim.work",
				"execution": arn, "input": input, "steps": map[string]any{}})
			if _, err := svc.Step(ctx, payload); err != nil {
				tb.Errorf("%s/%s: %v", id, dag[i].Name, err)
				return
			}
			mu.Lock()
			finished++
			last := finished == len(dag)
			var ready []int
			for k, n := range dag {
				if slices.Contains(n.Needs, dag[i].Name) {
					if waiting[n.Name]--; waiting[n.Name] == 0 {
						ready = append(ready, k)
					}
				}
			}
			mu.Unlock()
			for _, k := range ready {
				clk.Go(func() { step(k) })
			}
			if last {
				stop := clk.Now().UnixMilli()
				if err := fin.Handle(ctx, steps.StatusChange{ExecutionArn: arn, Name: id, Status: "SUCCEEDED", StopDate: &stop}); err != nil {
					tb.Errorf("finalize %s: %v", id, err)
				}
				endMu.Lock()
				if end := time.UnixMilli(stop); end.After(lastEnd) {
					lastEnd = end
				}
				endMu.Unlock()
			}
		}
		clk.Go(func() { step(0) })
	}
	const retryAfter = 45 * time.Second
	clk.Go(func() {
		_ = clk.Sleep(ctx, 90*time.Second)
		if err := gh.FailNext("PATCH", commentWrites, 1, sandbox.SecondaryRateLimit(retryAfter)); err != nil {
			tb.Error(err)
		}
	})
	clk.Wait()

	res := fiftyResult{runs: runs, lastRunEnd: lastEnd.Sub(t0)}
	var at []time.Time
	var refusedAt time.Time
	for _, r := range rec.recorded() {
		at = append(at, r.At)
		if r.Status == 403 {
			res.refused++
			refusedAt = r.At
		}
	}
	res.requests = len(at)
	res.maxMinute, res.maxHour = maxInWindow(at, time.Minute), maxInWindow(at, time.Hour)
	if res.maxMinute > githubPerMinute || res.maxHour > githubPerHour {
		tb.Errorf("%d write requests in a minute, %d in an hour: over GitHub's %d and %d", res.maxMinute, res.maxHour, githubPerMinute, githubPerHour)
	}
	if res.refused != 1 {
		tb.Fatalf("GitHub refused %d writes, want the one injected: retry-after untested", res.refused)
	}
	for _, t := range at {
		if t.After(refusedAt) && t.Before(refusedAt.Add(retryAfter)) {
			tb.Errorf("a write at %s, in the retry-after pause from %s", t.Sub(t0), refusedAt.Sub(t0))
		}
	}
	last := map[string]sandbox.Write{}
	for _, w := range gh.Writes() {
		n, err := strconv.ParseInt(w.Path[strings.LastIndexByte(w.Path, '/')+1:], 10, 64)
		if job, ok := comments[n]; ok && err == nil && w.Method == "PATCH" {
			if w.Login != "alice" {
				tb.Errorf("a comment write with %s's token, not alice's", who(w))
			}
			res.writes++
			last[job] = w
			res.lastWrite = max(res.lastWrite, w.At.Sub(t0))
		}
	}
	for _, id := range comments {
		j, err := store.Get(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		if j.Status != jobs.Succeeded || j.Rendered != j.Version {
			tb.Errorf("%s: status %s, Rendered %d, Version %d", id, j.Status, j.Rendered, j.Version)
		}
		w, ok := last[id]
		if !ok {
			tb.Errorf("%s: its status comment was never written", id)
			continue
		}
		var body struct{ Body string }
		_ = json.Unmarshal([]byte(w.Body), &body)
		if want := render.Status(j, dag, render.Options{Now: w.At, Bot: "ai3-mvp"}); body.Body != want {
			tb.Errorf("%s: the comment's last write is not the final state:\n%s\nwant\n%s", id, body.Body, want)
		}
		if !strings.Contains(body.Body, "10 steps: 10 ✅ succeeded") {
			tb.Errorf("%s: the final comment does not show 10 steps succeeded:\n%s", id, body.Body)
		}
	}
	return res
}

// fifties: quick steps pile updates up against the minute limit; slow
// steps leave less to coalesce, so the runs' updates outgrow the hour limit.
var fifties = []struct {
	name         string
	base, spread time.Duration
}{
	{"quick steps", 5 * time.Second, time.Minute},
	{"slow steps", time.Minute, 20 * time.Minute},
}

func TestFiftyRunsOneUser(t *testing.T) {
	for _, sc := range fifties {
		t.Run(sc.name, func(t *testing.T) {
			if testing.Short() && sc.name != fifties[0].name {
				t.Skip("-short")
			}
			r := runFifty(t, sc.base, sc.spread)
			t.Logf("%d comment writes for %d runs (%.1f per run; 21 updates asked per run), %d write requests (%d refused); "+
				"at most %d in a minute, %d in an hour; runs ended at %s, last comment written at %s (virtual time)",
				r.writes, r.runs, float64(r.writes)/float64(r.runs), r.requests, r.refused, r.maxMinute, r.maxHour, r.lastRunEnd, r.lastWrite)
		})
	}
}

func BenchmarkFiftyRunsOneUser(b *testing.B) {
	for _, sc := range fifties {
		b.Run(sc.name, func(b *testing.B) {
			var r fiftyResult
			for b.Loop() {
				r = runFifty(b, sc.base, sc.spread)
			}
			b.ReportMetric(float64(r.writes)/float64(r.runs), "writes/run")
			b.ReportMetric(float64(r.maxMinute), "max-writes/min")
			b.ReportMetric(float64(r.maxHour), "max-writes/hour")
			b.ReportMetric(r.lastWrite.Seconds(), "virtual-s-to-last-write")
		})
	}
}
