package oauth

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limiter bounds how often one client may start a login: Burst logins at
// once, then one more per Every. Each login stores a state until it expires,
// so the limiter is what bounds the rows an unauthenticated client can make.
// It remembers at most MaxClients clients; when that many are inside their
// window, new clients wait too (it fails closed). Safe for concurrent use.
type Limiter struct {
	every      time.Duration
	burst      int
	maxClients int

	mu sync.Mutex
	// next is, per client, the time at which its bucket is full again
	// (the generic cell rate algorithm's "theoretical arrival time").
	next map[string]time.Time
}

// NewLimiter returns a Limiter allowing burst logins, then one per every,
// per client; it tracks up to 10,000 clients.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: max(burst, 1), maxClients: 10_000, next: map[string]time.Time{}}
}

// Allow records a login by client at now and returns 0, or returns how long
// the client must wait (and records nothing).
func (l *Limiter) Allow(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, seen := l.next[client]
	if !seen || tat.Before(now) {
		tat = now
	}
	window := l.every * time.Duration(l.burst)
	if wait := tat.Add(l.every).Sub(now) - window; wait > 0 {
		return wait
	}
	if !seen && len(l.next) >= l.maxClients {
		for c, t := range l.next {
			if !t.After(now) {
				delete(l.next, c)
			}
		}
		if len(l.next) >= l.maxClients {
			return l.every
		}
	}
	l.next[client] = tat.Add(l.every)
	return 0
}

// ClientKey names the client of r for rate limiting: its IP address (IPv6
// addresses by their /64, which one host typically holds entirely).
// RemoteAddr is the peer's address (in the Lambdas, API Gateway's source IP),
// never a forwarded header a client could choose.
func ClientKey(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
