package pace_test

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/jobs/pace"
	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
)

// sim runs goroutines in virtual time: time stands still while any of them
// can run, and jumps to the earliest wake-up when all of them sleep. So
// hours of paced writes take a moment, and every goroutine that waits does
// so through Sleep.
type sim struct {
	mu       sync.Mutex
	now      time.Time
	live     int
	sleepers sleepers
	seq      int
	wg       sync.WaitGroup
}

type sleeper struct {
	wake time.Time
	seq  int
	ch   chan struct{}
}

type sleepers []*sleeper

func (h sleepers) Len() int { return len(h) }
func (h sleepers) Less(i, j int) bool {
	if !h[i].wake.Equal(h[j].wake) {
		return h[i].wake.Before(h[j].wake)
	}
	return h[i].seq < h[j].seq
}
func (h sleepers) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sleepers) Push(x any)   { *h = append(*h, x.(*sleeper)) }
func (h *sleepers) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *sim) Sleep(_ context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	s.mu.Lock()
	w := &sleeper{wake: s.now.Add(d), seq: s.seq, ch: make(chan struct{})}
	s.seq++
	heap.Push(&s.sleepers, w)
	s.live--
	s.advance()
	s.mu.Unlock()
	<-w.ch
	return nil
}

// advance wakes the earliest sleepers once nobody can run (s.mu held).
func (s *sim) advance() {
	if s.live > 0 || len(s.sleepers) == 0 {
		return
	}
	if w := s.sleepers[0].wake; w.After(s.now) {
		s.now = w
	}
	for len(s.sleepers) > 0 && !s.sleepers[0].wake.After(s.now) {
		x := heap.Pop(&s.sleepers).(*sleeper)
		s.live++
		close(x.ch)
	}
}

// Go runs f as a goroutine of the simulation.
func (s *sim) Go(f func()) {
	s.mu.Lock()
	s.live++
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			s.live--
			s.advance()
			s.mu.Unlock()
		}()
		f()
	}()
}

// githubWrite is one comment write seen by the fake GitHub.
type githubWrite struct {
	at   time.Time
	job  string
	body string
}

// fakeGitHub records comment writes and refuses one with retry-after, as
// GitHub's secondary limit does.
type fakeGitHub struct {
	mu         sync.Mutex
	clock      *sim
	dag        []render.Node
	writes     []githubWrite
	refuseAt   int // the write number answered with retry-after (0: none)
	refusedAt  time.Time
	retryAfter time.Duration
}

func (g *fakeGitHub) write(_ context.Context, j *jobs.Job) error {
	now := g.clock.Now()
	body := render.Status(j, g.dag, render.Options{Now: now})
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refuseAt > 0 && len(g.writes)+1 == g.refuseAt && g.refusedAt.IsZero() {
		g.refusedAt = now
		return &pace.RetryAfterError{After: g.retryAfter, Err: fmt.Errorf("403 secondary rate limit")}
	}
	g.writes = append(g.writes, githubWrite{at: now, job: j.ID, body: body})
	return nil
}

// fiftyResult is what one simulation of 50 runs measured.
type fiftyResult struct {
	writes, runs        int
	maxMinute, maxHour  int
	lastRunEnd, lastPut time.Duration
}

// simulateFifty runs, in s's virtual time, 50 runs of a 10-step workflow (one step, eight in
// parallel, one) for one user at once, each step taking stepBase plus up to
// stepSpread; every step's start and finish, and
// each run's end, asks for a status comment update. It checks GitHub's
// limits hold, the retry-after pause is kept, and each comment's last write
// shows its run's final state.
func simulateFifty(tb testing.TB, store jobs.Store, s *sim, stepBase, stepSpread time.Duration) fiftyResult {
	const runs = 50
	dag := []render.Node{{Name: "checkout"}}
	for i := 1; i <= 8; i++ {
		dag = append(dag, render.Node{Name: fmt.Sprintf("test_%d", i), Needs: []string{"checkout"}})
	}
	dag = append(dag, render.Node{Name: "report", Needs: []string{"test_1", "test_2", "test_3", "test_4", "test_5", "test_6", "test_7", "test_8"}})

	gh := &fakeGitHub{clock: s, dag: dag, refuseAt: 120, retryAfter: 45 * time.Second}
	pacer := &pace.Pacer{Store: store, Now: s.Now, Sleep: s.Sleep}
	ctx := context.Background()
	var endMu sync.Mutex
	var lastEnd time.Time

	for r := range runs {
		id := fmt.Sprintf("run-%02d", r)
		if err := store.Create(ctx, &jobs.Job{ID: id, Workflow: "ci", Status: jobs.Running, Thread: jobs.Thread{Repo: "octo/app", Kind: jobs.PullThread, Number: r + 1}, User: jobs.User{ID: 1001, Login: "alice"}, CreatedAt: t0}); err != nil {
			tb.Fatal(err)
		}
		co := &pace.Coalescer{Store: store, Write: gh.write, Pacer: pacer, Now: s.Now, Sleep: s.Sleep, Owner: "lambda-" + id}
		update := func() {
			s.Go(func() {
				if err := co.Update(ctx, id); err != nil {
					tb.Errorf("update %s: %v", id, err)
				}
			})
		}
		change := func(f func(j *jobs.Job)) {
			for {
				j, err := store.Get(ctx, id)
				if err != nil {
					tb.Error(err)
					return
				}
				f(j)
				if err := store.Update(ctx, j); err == nil {
					break
				}
			}
			update()
		}
		var mu sync.Mutex
		waiting := map[string]int{}
		for _, n := range dag {
			waiting[n.Name] = len(n.Needs)
		}
		finished := 0
		var runStep func(i int)
		runStep = func(i int) {
			name := dag[i].Name
			change(func(j *jobs.Job) {
				if j.Steps == nil {
					j.Steps = map[string]*jobs.Step{}
				}
				j.Steps[name] = &jobs.Step{Status: jobs.Running, Attempts: 1, StartedAt: s.Now()}
			})
			_ = s.Sleep(ctx, stepBase+time.Duration((r*7+i*13)%60)*stepSpread/60)
			change(func(j *jobs.Job) {
				j.Steps[name].Status, j.Steps[name].FinishedAt = jobs.Succeeded, s.Now()
			})
			mu.Lock()
			finished++
			last := finished == len(dag)
			var ready []int
			for k, n := range dag {
				for _, need := range n.Needs {
					if need == name {
						if waiting[n.Name]--; waiting[n.Name] == 0 {
							ready = append(ready, k)
						}
					}
				}
			}
			mu.Unlock()
			for _, k := range ready {
				s.Go(func() { runStep(k) })
			}
			if last {
				change(func(j *jobs.Job) { j.Status, j.FinishedAt = jobs.Succeeded, s.Now() })
				endMu.Lock()
				lastEnd = later(lastEnd, s.Now())
				endMu.Unlock()
			}
		}
		s.Go(func() { runStep(0) })
	}
	s.wg.Wait()

	var at []time.Time
	last := map[string]githubWrite{}
	for _, w := range gh.writes {
		at = append(at, w.at)
		last[w.job] = w
		if !gh.refusedAt.IsZero() && w.at.After(gh.refusedAt) && w.at.Before(gh.refusedAt.Add(gh.retryAfter)) {
			tb.Errorf("write at %s during the retry-after pause from %s", w.at.Sub(t0), gh.refusedAt.Sub(t0))
		}
	}
	res := fiftyResult{writes: len(gh.writes), runs: runs, maxMinute: maxInWindow(at, time.Minute), maxHour: maxInWindow(at, time.Hour),
		lastRunEnd: lastEnd.Sub(t0), lastPut: at[len(at)-1].Sub(t0)}
	if res.maxMinute > 80 || res.maxHour > 500 {
		tb.Errorf("%d writes in a minute, %d in an hour: over GitHub's 80 and 500", res.maxMinute, res.maxHour)
	}
	if gh.refusedAt.IsZero() {
		tb.Error("the fake GitHub never refused a write: retry-after untested")
	}
	for r := range runs {
		id := fmt.Sprintf("run-%02d", r)
		j, err := store.Get(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		w, ok := last[id]
		if !ok {
			tb.Errorf("%s: no comment written", id)
			continue
		}
		if want := render.Status(j, dag, render.Options{Now: w.at}); w.body != want {
			tb.Errorf("%s: the last comment write is not the final state:\n%s\nwant\n%s", id, w.body, want)
		}
		if j.Status != jobs.Succeeded || j.Rendered != j.Version {
			tb.Errorf("%s: status %s, Rendered %d, Version %d", id, j.Status, j.Rendered, j.Version)
		}
	}
	return res
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// scenarios: quick steps pile updates up against the minute limit; slow
// steps leave less to coalesce, so the runs' updates outgrow the hour limit.
var scenarios = []struct {
	name         string
	base, spread time.Duration
}{
	{"quick steps", 5 * time.Second, time.Minute},
	{"slow steps", time.Minute, 20 * time.Minute},
}

func TestFiftyRunsOneUser(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := simulateFifty(t, newMemStore(), &sim{now: t0}, sc.base, sc.spread)
			t.Logf("%d writes for %d runs (%.1f per run, 21 updates asked per run); at most %d in a minute, %d in an hour; runs ended at %s, last comment written at %s (virtual time)",
				r.writes, r.runs, float64(r.writes)/float64(r.runs), r.maxMinute, r.maxHour, r.lastRunEnd, r.lastPut)
		})
	}
}

func BenchmarkFiftyRunsOneUser(b *testing.B) {
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			var r fiftyResult
			for b.Loop() {
				r = simulateFifty(b, newMemStore(), &sim{now: t0}, sc.base, sc.spread)
			}
			b.ReportMetric(float64(r.writes)/float64(r.runs), "writes/run")
			b.ReportMetric(float64(r.maxMinute), "max-writes/min")
			b.ReportMetric(float64(r.maxHour), "max-writes/hour")
			b.ReportMetric(r.lastPut.Seconds(), "virtual-s-to-last-write")
		})
	}
}
