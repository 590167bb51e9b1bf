package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkMentionToStart measures, in the real `ai3 dev` with the sandbox
// GitHub, how long after a webhook carrying `@ai3-mvp run checks` is
// accepted (answered 200) the bot's 👀 is on the comment (authorization in
// between), its status comment is posted (the job record in between), and
// the workflow's execution has started (the comment's id recorded and
// StartExecution). One comment at a time, each by another person, each run
// finished before the next comment (a quiet server); p50 and p99 reported. With
// AI3_PPROF=127.0.0.1:PORT the server under test serves its profiles.
//
//	go test -run '^$' -bench MentionToStart -benchtime 100x ./test/e2e
func BenchmarkMentionToStart(b *testing.B) {
	s := startSandbox(b)
	pr := s.pull("alice", "feat: bench")
	started := regexp.MustCompile(`time=(\S+) level=INFO msg="execution started" job_id=(\S+)`)
	var ack, status, start []time.Duration
	i := 0
	for b.Loop() {
		i++
		// The comment exists on GitHub (so it can be reacted to); the
		// webhook announcing it is ours, so its acceptance is timed.
		// A person per command: one person's write budget (about 80 a
		// minute, paced) would time the pacer, not the bot.
		login := fmt.Sprintf("bencher%04d", i)
		userID := s.user(map[string]any{"login": login})
		id := s.comment(login, pr, fmt.Sprintf("placeholder %d", i))
		seen := len(s.writes())
		body := commentPayload(id, pr, login, userID, "@ai3-mvp run checks")
		t0 := time.Now()
		if code := s.postWebhook(b, "issue_comment", fmt.Sprintf("bench-%d", i), "1", body); code != 200 {
			b.Fatalf("webhook answered %d", code)
		}
		accepted := time.Now()
		_ = t0
		var acked bool
		deadline := time.Now().Add(30 * time.Second)
		for !acked {
			for _, w := range s.writes()[seen:] {
				if w.Method == "POST" && strings.HasSuffix(w.Path, fmt.Sprintf("/comments/%d/reactions", id)) {
					ack = append(ack, w.At.Sub(accepted))
					acked = true
				}
			}
			for acked && len(status) < i {
				for _, w := range s.writes()[seen:] {
					if w.Method == "POST" && strings.Contains(w.Body, "kind=status") {
						status = append(status, w.At.Sub(accepted))
						break
					}
				}
				if time.Now().After(deadline) {
					b.Fatalf("no status comment within 30 s:\n%s", s.Logs())
				}
				if len(status) < i {
					time.Sleep(time.Millisecond)
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("no 👀 within 30 s:\n%s", s.Logs())
			}
			time.Sleep(time.Millisecond)
		}
		for {
			ms := started.FindAllStringSubmatch(s.Stderr.String(), -1)
			if len(ms) >= i {
				at, err := time.Parse(time.RFC3339Nano, ms[i-1][1])
				if err != nil {
					b.Fatal(err)
				}
				start = append(start, at.Sub(accepted))
				// The run and its comment writes finish before the next
				// command, so each is timed on a quiet server.
				b.StopTimer()
				s.waitFinal(ms[i-1][2], 30*time.Second)
				s.waitQuiet(b, 100*time.Millisecond)
				b.StartTimer()
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("execution %d not started within 30 s", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	report(b, "ack", ack)
	report(b, "status", status)
	report(b, "start", start)
}

func report(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}
