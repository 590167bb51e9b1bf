package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// Request is one webhook delivery as any transport sees it. Header lookups go
// through http.Header, so names match case-insensitively.
type Request struct {
	Method        string
	Header        http.Header
	Body          io.Reader
	ContentLength int64 // -1 when unknown
}

// Response is the receiver's answer: a status and a JSON body.
type Response struct {
	Status int
	Header http.Header // extra headers (Allow on 405); Content-Type is always JSON
	Body   []byte
}

// Answer is the JSON body of every response: {"ok":true,"delivery":…,
// "duplicate":…} on success, {"ok":false,"error":…,"message":…} on failure.
type Answer struct {
	OK        bool   `json:"ok"`
	Delivery  string `json:"delivery,omitempty"`
	Duplicate bool   `json:"duplicate"`
	Error     string `json:"error,omitempty"`
	Message   string `json:"message,omitempty"`
	// RequestID names a failure in the receiver's log, which holds the
	// details the answer leaves out.
	RequestID string `json:"request_id,omitempty"`
}

// Header names GitHub sends with every delivery.
const (
	EventHeader    = "X-GitHub-Event"
	DeliveryHeader = "X-GitHub-Delivery"
	HookIDHeader   = "X-GitHub-Hook-ID"
)

// DefaultMaxBody is GitHub's cap on a webhook payload (25 MB); larger bodies
// are refused with 413 while they are read.
const DefaultMaxBody = 25 << 20

// errTooLarge is returned by readBody when the body exceeds its limit.
var errTooLarge = errors.New("body too large")

// firstChunk is the buffer a body starts with. The buffer then doubles as
// bytes arrive, never to more than the announced length: an announced
// Content-Length reserves nothing, so clients that announce 25 MB and stall
// hold only about what they sent.
const firstChunk = 16 << 10

// readBody reads at most limit bytes of r, failing with errTooLarge beyond
// that. A known length (>= 0) must match the body exactly. Every byte of
// buffer is first taken from b (nil: unaccounted), waiting while ctx lasts
// (else errBusy); held is what the caller must give back to b once the
// signature is checked. On error readBody gives it back itself.
func readBody(ctx context.Context, r io.Reader, length, limit int64, b *budget) (body []byte, held int64, err error) {
	if r == nil {
		return nil, 0, nil
	}
	if length > limit {
		return nil, 0, errTooLarge
	}
	want := limit // read one byte past this to detect a longer body
	if length >= 0 {
		want = length
	}
	grow := func(buf []byte, to int64) ([]byte, error) {
		if b != nil {
			if err := b.acquire(ctx, to-int64(cap(buf))); err != nil {
				return buf, err
			}
		}
		held += to - int64(cap(buf))
		next := make([]byte, len(buf), to)
		copy(next, buf)
		return next, nil
	}
	defer func() {
		if err != nil && b != nil {
			b.release(held)
			held = 0
		}
	}()
	buf, err := grow(nil, min(want+1, firstChunk))
	if err != nil {
		return nil, 0, err
	}
	for int64(len(buf)) <= want {
		if len(buf) == cap(buf) {
			if buf, err = grow(buf, min(2*int64(cap(buf)), want+1)); err != nil {
				return nil, held, err
			}
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, held, fmt.Errorf("read body: %w", rerr)
		}
	}
	n := int64(len(buf))
	switch {
	case length < 0 && n > limit:
		return nil, held, errTooLarge
	case length >= 0 && n > length:
		return nil, held, errors.New("read body: longer than Content-Length")
	case length >= 0 && n < length:
		return nil, held, fmt.Errorf("read body: %d of %d bytes: %w", n, length, io.ErrUnexpectedEOF)
	}
	return buf, held, nil
}

// mediaType returns the request's media type, or "" when absent or malformed.
func mediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// Media types GitHub can deliver with.
const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// ParsePayload returns the JSON payload of a verified body: the body itself
// for application/json, the payload field for a form-encoded body. It checks
// that the payload starts like a JSON object; full validation happens once,
// when the envelope is built (events.NewEnvelope), to scan a 25 MB body once.
func ParsePayload(mediaType string, body []byte) ([]byte, error) {
	payload := body
	switch mediaType {
	case mediaJSON:
	case mediaForm:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("form body: %w", err)
		}
		if !form.Has("payload") {
			return nil, errors.New("form body has no payload field")
		}
		payload = []byte(form.Get("payload"))
	default:
		return nil, fmt.Errorf("unsupported media type %q", mediaType)
	}
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("payload is not a JSON object")
	}
	return payload, nil
}

// validID reports whether s is a safe identifier for storage keys: 1–100
// letters, digits, '-', '_' or '.', not starting with '.'.
func validID(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func answer(status int, a Answer) Response {
	body, _ := json.Marshal(a) // cannot fail: strings and bools only
	return Response{Status: status, Body: append(body, '\n')}
}

// failure answers {"ok":false,"error":code,"message":message}.
func failure(status int, code, message string) Response {
	return failureID(status, code, message, "")
}

// failureID is failure with the request id under which the details were
// logged.
func failureID(status int, code, message, requestID string) Response {
	body, _ := json.Marshal(struct {
		OK        bool   `json:"ok"`
		Error     string `json:"error"`
		Message   string `json:"message"`
		RequestID string `json:"request_id,omitempty"`
	}{false, code, message, requestID})
	return Response{Status: status, Body: append(body, '\n')}
}
