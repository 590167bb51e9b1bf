package webhook

import (
	"bytes"
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

// readBody reads at most max bytes of r, failing with errTooLarge beyond
// that. A known length sizes the buffer once.
func readBody(r io.Reader, length, max int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	if length > max {
		return nil, errTooLarge
	}
	if length >= 0 {
		buf := make([]byte, length)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		// Anything beyond the announced length is a lying client.
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, errors.New("read body: longer than Content-Length")
		}
		return buf, nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > max {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
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
	body, _ := json.Marshal(struct {
		OK      bool   `json:"ok"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}{false, code, message})
	return Response{Status: status, Body: append(body, '\n')}
}
