package main

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// proxyHeaders are the headers a reverse proxy or tunnel adds to say whom it
// forwards for (cloudflared, ngrok, serveo, nginx, Fly, Akamai, …). A request
// to ai3 dev that carries one came through such a forwarder, even though it
// arrives from 127.0.0.1.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "CF-Connecting-IP",
	"True-Client-IP", "X-Original-Forwarded-For", "Fly-Client-IP"}

// Refusal bodies of localOnly: the /api routes answer errors as
// {"error": …}, the Step Functions API in AWS's shape, so the SDKs and the
// aws CLI name the refusal.
const (
	apiLocalOnly = `{"error":"this endpoint answers clients on this machine only, not through a proxy or tunnel"}`
	sfnLocalOnly = `{"__type":"AccessDeniedException","message":"the Step Functions API of ai3 dev answers clients on this machine only, not through a proxy or tunnel"}`
)

// localOnly serves h to direct local clients only and answers everyone else
// 403 with refusal (a JSON body). The operator endpoints (/sfn, /api/…)
// reach what completes a workflow's waiting steps; /webhook is what a tunnel
// exposes them beside, so they must tell the operator on this machine from
// the internet.
//
// A direct local client connects from a loopback address, sends none of
// proxyHeaders, and names this machine by a loopback name in Host
// (localhost, 127.x.x.x, [::1]; see loopbackHost). The Host rule keeps a web page in the
// operator's browser out through DNS rebinding (its requests carry the
// page's own host name). No rule here can tell a forwarder that adds no
// header (a plain ssh -R port forward) from a local client.
func localOnly(log *slog.Logger, refusal string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := notDirectLocal(r); why != "" {
			log.Warn("operator endpoint refused: local clients only", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", why)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(refusal))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// notDirectLocal says why r is not from a direct local client ("" when it
// is), in words safe to log: the header's name, never its value.
func notDirectLocal(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "remote address off loopback"
	}
	for _, name := range proxyHeaders {
		if _, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
			return "forwarded (" + name + ")"
		}
	}
	if !loopbackHost(r.Host) {
		return "Host is not a loopback name"
	}
	return ""
}

// loopbackHost reports whether a Host header (with or without a port)
// names this machine's loopback: localhost, a loopback IP, or the
// unspecified address (http://0.0.0.0:PORT, as ai3 dev prints itself when
// it listens on every interface, reaches this machine; a page on another
// site cannot read what it answers).
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// heldToken replaces a task token in what the jobs API answers, as
// redactTokens does in the job record.
const heldToken = "(held)"

// redactHistory returns a copy of an execution's history without its task
// tokens (whoever holds one can complete the step it belongs to); h itself
// is left as it is.
//
// The rule follows where the executor (internal/localsfn) puts a token. It
// mints one only for a Task of a .waitForTaskToken resource, and the token
// first appears in that task's TaskScheduled event, inside the "parameters"
// JSON text, wherever $$.Task.Token was placed. In those parameters every
// string value of the token's shape (64 base64url characters: the 48 random
// bytes newToken encodes) is taken for a token. The tokens found, and the
// ones the job record holds (held, e.g. a token a States.Format wrapped in a
// longer string), are then replaced by "(held)" wherever they occur in any
// event's details (a callback's output or a failure's cause that echoes one,
// the state inputs and outputs that carry it on). Strings elsewhere are not
// guessed at: a token-shaped value outside such parameters is left alone.
func redactHistory(h []localsfn.Event, held []string) []localsfn.Event {
	tokens := map[string]bool{}
	for _, t := range held {
		if t != "" && t != heldToken {
			tokens[t] = true
		}
	}
	for _, ev := range h {
		resource, _ := ev.Details["resource"].(string)
		params, _ := ev.Details["parameters"].(string)
		if ev.Type != "TaskScheduled" || !strings.HasSuffix(resource, ".waitForTaskToken") || params == "" {
			continue
		}
		var v any
		if json.Unmarshal([]byte(params), &v) == nil {
			collectTokens(v, tokens)
		}
	}
	if len(tokens) == 0 {
		return h
	}
	out := make([]localsfn.Event, len(h))
	for i, ev := range h {
		if ev.Details != nil {
			ev.Details = hideTokens(ev.Details, tokens).(map[string]any)
		}
		out[i] = ev
	}
	return out
}

// collectTokens adds to tokens every token-shaped string value in v (a
// decoded JSON value).
func collectTokens(v any, tokens map[string]bool) {
	switch v := v.(type) {
	case string:
		if looksLikeToken(v) {
			tokens[v] = true
		}
	case map[string]any:
		for _, x := range v {
			collectTokens(x, tokens)
		}
	case []any:
		for _, x := range v {
			collectTokens(x, tokens)
		}
	}
}

// looksLikeToken reports whether s has the shape of a task token the
// embedded executor mints: 48 bytes, base64url without padding.
func looksLikeToken(s string) bool {
	if len(s) != 64 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 48
}

// hideTokens returns a copy of v (event details: strings, numbers, maps,
// lists) with every occurrence of a token in its strings replaced by
// heldToken. Details hold JSON as text (input, output, parameters); a
// token is plain base64url, which JSON never escapes, so replacing it in
// that text keeps the JSON valid.
func hideTokens(v any, tokens map[string]bool) any {
	switch v := v.(type) {
	case string:
		for t := range tokens {
			v = strings.ReplaceAll(v, t, heldToken)
		}
		return v
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = hideTokens(x, tokens)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = hideTokens(x, tokens)
		}
		return l
	}
	return v
}

// handleLocal registers h at pattern for direct local clients only: the
// sandbox's control routes post comments and approvals as anyone, so a
// tunnel must not reach them.
func handleLocal(env *devEnv, pattern string, h http.HandlerFunc) {
	env.Mux.Handle(pattern, localOnly(env.Log, apiLocalOnly, h))
}
