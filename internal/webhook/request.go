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
	"slices"
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

// preallocLimit caps how much memory an announced Content-Length reserves
// before the bytes arrive, so clients that announce 25 MB and then stall
// cannot pin gigabytes between them. Once a client has sent that much, the
// buffer grows straight to the announced size.
const preallocLimit = 1 << 20

// readBody reads at most limit bytes of r, failing with errTooLarge beyond
// that. A known length (>= 0) must match the body exactly.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	if length > limit {
		return nil, errTooLarge
	}
	want := limit // read one byte past this to detect a longer body
	if length >= 0 {
		want = length
	}
	buf := make([]byte, 0, min(want+1, preallocLimit))
	for int64(len(buf)) <= want {
		if len(buf) == cap(buf) {
			next := want + 1 // announced: the client has proven it is sending
			if length < 0 {
				next = min(2*int64(cap(buf)), want+1)
			}
			buf = slices.Grow(buf, int(next)-len(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
	}
	n := int64(len(buf))
	switch {
	case length < 0 && n > limit:
		return nil, errTooLarge
	case length >= 0 && n > length:
		return nil, errors.New("read body: longer than Content-Length")
	case length >= 0 && n < length:
		return nil, fmt.Errorf("read body: %d of %d bytes: %w", n, length, io.ErrUnexpectedEOF)
	}
	return buf, nil
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
