package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits of the dev server. A webhook body is at most 25 MB, and the
// receiver gives each body its own deadline (30 s); ReadTimeout is the
// backstop for every route: 25 MB in 2 minutes needs under 2 Mbit/s.
const (
	devReadHeaderTimeout = 10 * time.Second
	devReadTimeout       = 2 * time.Minute
	devWriteTimeout      = 3 * time.Minute // from the end of the headers: read plus handling
	devIdleTimeout       = 2 * time.Minute
	devMaxHeaderBytes    = 64 << 10
	// devMaxConns bounds open connections; more wait in the kernel's
	// accept queue until one closes.
	devMaxConns = 512
)

// newDevServer is the HTTP server of `ai3 dev` with its timeouts and limits.
func newDevServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h,
		ReadHeaderTimeout: devReadHeaderTimeout, ReadTimeout: devReadTimeout, WriteTimeout: devWriteTimeout,
		IdleTimeout: devIdleTimeout, MaxHeaderBytes: devMaxHeaderBytes}
}

// limitListener accepts at most n connections open at once; Accept waits
// for one to close before taking the next.
func limitListener(l net.Listener, n int) net.Listener {
	return &limitedListener{Listener: l, slots: make(chan struct{}, n)}
}

type limitedListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
