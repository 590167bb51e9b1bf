package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// stallAttack opens n connections to addr that each announce a 25 MB body,
// send sent bytes of it and stall; they close at cleanup.
func stallAttack(t testing.TB, addr string, n, sent int) {
	t.Helper()
	for _, c := range stallConns(t, addr, n, sent, webhook.DefaultMaxBody) {
		t.Cleanup(func() { c.Close() })
	}
}

// stallConns opens n connections to addr that each announce a body of
// announced bytes, send sent bytes of it and stall. It returns when the
// server has had time to read them.
func stallConns(t testing.TB, addr string, n, sent, announced int) []net.Conn {
	t.Helper()
	chunk := bytes.Repeat([]byte("x"), sent) // shared: the writers copy nothing
	var conns []net.Conn
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: issues\r\n"+
			"X-GitHub-Delivery: stall-%d\r\nX-GitHub-Hook-ID: 1\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n", i, announced)
		// The write returns once the kernel has taken it; with the budget
		// spent, the server stops reading and the rest waits in buffers.
		go c.Write(chunk)
	}
	time.Sleep(500 * time.Millisecond) // let the server read what was sent
	return conns
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestStalledBodiesDoNotAmplifyMemory is the attack an outside review ran:
// 20 connections that each announce 25 MB, send 1 MiB and stall. Before the
// signature is checked the server may hold only about what arrived, not what
// was announced (it held 20 × 25 MB).
func TestStalledBodiesDoNotAmplifyMemory(t *testing.T) {
	g := newRig(t)
	srv := httptest.NewServer(webhook.HTTPHandler(g.r))
	t.Cleanup(srv.Close) // after the attack's connections close
	before := heapInUse()
	stallAttack(t, srv.Listener.Addr().String(), 20, 1<<20)
	grew := int64(heapInUse()) - int64(before)
	t.Logf("live heap grew %d MiB under 20 stalled 1 MiB bodies", grew>>20)
	if grew > 64<<20 {
		t.Fatalf("20 stalled bodies of 1 MiB each made the server hold %d MiB (want under 64 MiB: about what arrived)", grew>>20)
	}
}

// TestUnverifiedBytesAreBoundedInTotal: stalled connections never make the
// server hold more than its budget of unverified bytes; with the budget
// spent, a new delivery waits and then gets 503 server_busy with
// Retry-After; once the stalled connections go, deliveries are accepted
// again.
func TestUnverifiedBytesAreBoundedInTotal(t *testing.T) {
	const budget = 8 << 20
	g := &rig{archive: &memArchive{}, bus: &memBus{}, claims: &memClaims{}, now: time.Now()}
	r, err := webhook.New(context.Background(), webhook.Config{
		Secrets: staticSecrets{secrets: [][]byte{secret}}, Claims: g.claims, Archive: g.archive, Publisher: g.bus,
		MaxBody: 4 << 20, MaxUnverified: budget, BusyWait: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.HTTPHandler(r))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	waitHeld := func(what string, ok func(int64) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok(webhook.UnverifiedHeld(r)) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the server holds %d bytes", what, webhook.UnverifiedHeld(r))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// 20 connections at once, 1 MiB each: more than twice the budget. Which
	// of them win the budget depends on scheduling; what may never happen
	// is holding more than it.
	before := heapInUse()
	conns := stallConns(t, addr, 20, 1<<20, 4<<20)
	peak := int64(0)
	for range 100 {
		peak = max(peak, webhook.UnverifiedHeld(r))
		time.Sleep(2 * time.Millisecond)
	}
	grew := int64(heapInUse()) - int64(before)
	t.Logf("live heap grew %d MiB under 20 stalled 1 MiB bodies; peak held %d MiB, budget %d MiB", grew>>20, peak>>20, budget>>20)
	if peak > budget || grew > budget+4<<20 {
		t.Fatalf("the server held %d bytes of unverified bodies (heap +%d MiB), over its budget of %d", peak, grew>>20, budget)
	}
	for _, c := range conns {
		c.Close()
	}
	waitHeld("after the stalled connections closed", func(n int64) bool { return n == 0 })

	// Now spend the budget exactly, one connection at a time so none waits:
	// 600 KiB sent grows a reader's buffer to 1 MiB, and 8 of them hold 8 MiB.
	conns = nil
	for i := range budget >> 20 {
		conns = append(conns, stallConns(t, addr, 1, 600<<10, 4<<20)...)
		waitHeld(fmt.Sprintf("stalled connection %d", i+1), func(n int64) bool { return n == int64(i+1)<<20 })
	}

	post := func(id string) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(issuePayload))
		req.Header = delivery(id, issuePayload).Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if st, h, body := post("legit-1"); st != http.StatusServiceUnavailable || !strings.Contains(body, "server_busy") || h.Get("Retry-After") == "" {
		t.Fatalf("delivery while the budget is spent = %d %s, want 503 server_busy with Retry-After", st, body)
	}
	if n := len(g.bus.envelopes()); n != 0 {
		t.Fatalf("a refused delivery published %d events", n)
	}
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _, body := post("legit-2")
		if st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the stalled connections closed: %d %s", st, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkStalledBodiesRSS runs the review's attack (20 connections
// announcing 25 MB, sending 1 MiB, stalling) against the receiver's HTTP
// transport and reports the process's resident memory above its level before
// the first attack ("MiB-RSS", the peak over all rounds) and the live heap
// during the attack ("MiB-heap").
func BenchmarkStalledBodiesRSS(b *testing.B) {
	g := newRig(b)
	srv := httptest.NewServer(webhook.HTTPHandler(g.r))
	b.Cleanup(srv.Close)
	base := rss(b)
	baseHeap := heapInUse()
	var peakRSS, peakHeap int64
	for b.Loop() {
		conns := stallConns(b, srv.Listener.Addr().String(), 20, 1<<20, webhook.DefaultMaxBody)
		peakHeap = max(peakHeap, int64(heapInUse())-int64(baseHeap))
		peakRSS = max(peakRSS, rss(b)-base)
		for _, c := range conns {
			c.Close()
		}
	}
	b.ReportMetric(float64(peakRSS)/(1<<20), "MiB-RSS")
	b.ReportMetric(float64(peakHeap)/(1<<20), "MiB-heap")
}

// rss is the resident set size of this process (Linux).
func rss(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skip("no /proc/self/statm: RSS is measured on Linux")
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return resident * int64(os.Getpagesize())
}
