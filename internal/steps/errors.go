package steps

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// errRevoked marks a write that could not be made because the user's token
// is gone.
var errRevoked = errors.New("the user's GitHub authorization is revoked or expired")

// isRevoked reports whether err comes from the vault saying the user has no
// usable token (revoked the app, or must log in again).
func isRevoked(err error) bool {
	var u *UserAuthorizationRevoked
	return errors.Is(err, tokens.ErrNotFound) || errors.Is(err, tokens.ErrReauthRequired) ||
		errors.Is(err, errRevoked) || errors.As(err, &u)
}

// errorName is the ASL error name the runtime gives err: its type's name.
func errorName(err error) string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "errorString"
	}
	return t.Name()
}

// retryable reports whether the workflows retry err.
func retryable(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}

// responseOf returns the HTTP response a go-github error carries.
func responseOf(err error) *http.Response {
	var er *github.ErrorResponse
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &ab):
		return ab.Response
	case errors.As(err, &rl):
		return rl.Response
	case errors.As(err, &er):
		return er.Response
	}
	return nil
}

// temporary reports whether a GitHub call that failed with err may succeed
// later, and how long GitHub asked to wait (0: not said).
func temporary(err error) (bool, time.Duration) {
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		if ab.RetryAfter != nil {
			return true, *ab.RetryAfter
		}
		return true, time.Minute // GitHub: without retry-after, wait at least a minute
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return true, time.Until(rl.Rate.Reset.Time)
	}
	resp := responseOf(err)
	if resp == nil {
		return !isRevoked(err), 0 // network trouble
	}
	wait := retryAfter(resp.Header)
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return true, wait
	case resp.StatusCode == http.StatusForbidden && (wait > 0 || resp.Header.Get("X-Ratelimit-Remaining") == "0"):
		return true, wait
	}
	return false, 0
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// executionName returns the execution name (the job id) of an execution ARN:
// arn:aws:states:region:account:execution:machine:name for STANDARD, and
// arn:aws:states:region:account:express:machine:name:id for EXPRESS.
func executionName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 8 {
		return parts[7]
	}
	return parts[len(parts)-1]
}

// causeText unwraps the JSON a Lambda error cause arrives as
// ({"errorMessage":…,"errorType":…}) to its message.
func causeText(cause string) string {
	var c struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if strings.HasPrefix(cause, "{") && jsonUnmarshal(cause, &c) == nil && c.ErrorMessage != "" {
		return c.ErrorMessage
	}
	return cause
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
