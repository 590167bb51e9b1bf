package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// HTTPSink delivers webhooks the way GitHub does: a POST to URL with
// X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-ID and
// X-Hub-Signature-256 (HMAC-SHA256 of the body under Secret), from
// GitHub-Hookshot. Deliver queues and returns; deliveries with the same
// OrderKey go out one after the other, in order. A 5xx answer or a failed
// connection is retried with doubling backoff. Close delivers what is queued
// and stops. Set the fields before the first Deliver.
type HTTPSink struct {
	URL    string
	Secret []byte
	// HookID is the X-GitHub-Hook-ID (default 1).
	HookID int64
	// AppID, when set, is sent as X-GitHub-Hook-Installation-Target-ID (with
	// target type "integration"), as for an App's webhook.
	AppID int64
	// Client sends the requests (default: a client with a 10 s timeout).
	Client *http.Client
	// Attempts is how many times a delivery is tried (default 4); Backoff is
	// the wait before the first retry, doubled after each (default 200 ms).
	Attempts int
	Backoff  time.Duration
	// Workers is how many deliveries may be in flight at once (default 8).
	Workers int
	// Logger receives failed deliveries (default slog.Default()).
	Logger *slog.Logger

	once   sync.Once
	queues []chan delivery
	wg     sync.WaitGroup
	mu     sync.RWMutex
	closed bool
}

type delivery struct {
	event, id string
	body      []byte
}

func (h *HTTPSink) start() {
	if h.HookID == 0 {
		h.HookID = 1
	}
	if h.Client == nil {
		h.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if h.Attempts <= 0 {
		h.Attempts = 4
	}
	if h.Backoff <= 0 {
		h.Backoff = 200 * time.Millisecond
	}
	if h.Workers <= 0 {
		h.Workers = 8
	}
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	h.queues = make([]chan delivery, h.Workers)
	for i := range h.queues {
		h.queues[i] = make(chan delivery, 256)
		h.wg.Add(1)
		go func(q chan delivery) {
			defer h.wg.Done()
			for d := range q {
				if err := h.Send(context.Background(), d.event, d.id, d.body); err != nil {
					h.Logger.Warn("sandbox: webhook not delivered", "event", d.event, "delivery_id", d.id, "err", err)
				}
			}
		}(h.queues[i])
	}
}

// Deliver queues one webhook (its signature matches Config.Deliver). It
// blocks only while the queue of its order key is full.
func (h *HTTPSink) Deliver(ctx context.Context, event, deliveryID string, payload []byte) {
	h.once.Do(h.start)
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		h.Logger.Warn("sandbox: webhook dropped, the sink is closed", "event", event, "delivery_id", deliveryID)
		return
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(OrderKey(ctx)))
	h.queues[int(f.Sum32())%len(h.queues)] <- delivery{event, deliveryID, payload}
}

// Close delivers every queued webhook (with its retries) and stops.
func (h *HTTPSink) Close() error {
	h.once.Do(h.start)
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for _, q := range h.queues {
			close(q)
		}
	}
	h.mu.Unlock()
	h.wg.Wait()
	return nil
}

// Send delivers one webhook now, retrying 5xx answers and failed
// connections, and returns the last error when every attempt failed.
func (h *HTTPSink) Send(ctx context.Context, event, deliveryID string, payload []byte) error {
	h.once.Do(h.start)
	mac := hmac.New(sha256.New, h.Secret)
	mac.Write(payload)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	wait := h.Backoff
	var last error
	for attempt := 1; attempt <= h.Attempts; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return fmt.Errorf("deliver %s %s: %w", event, deliveryID, ctx.Err())
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("deliver %s %s: %w", event, deliveryID, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "GitHub-Hookshot/sandbox")
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", deliveryID)
		req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(h.HookID, 10))
		req.Header.Set("X-Hub-Signature-256", sig)
		if h.AppID != 0 {
			req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
			req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(h.AppID, 10))
		}
		resp, err := h.Client.Do(req)
		if err != nil {
			last = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode < 500 {
			if resp.StatusCode >= 300 {
				return fmt.Errorf("deliver %s %s: the receiver answered %s", event, deliveryID, resp.Status)
			}
			return nil
		}
		last = fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return fmt.Errorf("deliver %s %s after %d attempts: %w", event, deliveryID, h.Attempts, last)
}
