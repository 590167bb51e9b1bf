package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"
)

// StateTTL is how long a login's state nonce stays usable.
const StateTTL = 10 * time.Minute

// Nonce is what a login leaves behind for its callback: the PKCE verifier,
// the browser binding and when the state stops being accepted.
type Nonce struct {
	Verifier string
	// Browser is BrowserKey of the login cookie set in the browser that
	// started the login; the callback is refused in any other browser.
	Browser   string
	ExpiresAt time.Time
}

// NonceStore keeps state nonces between /oauth/login and /oauth/callback.
// Keys are hashes of the state, never the state itself.
type NonceStore interface {
	// Put stores a new nonce; a key that exists already is ErrStateExists.
	Put(ctx context.Context, key string, n Nonce) error
	// Consume atomically marks the nonce used and returns it. Exactly one
	// Consume of a key can succeed. It returns ErrStateUnknown when there is
	// no such key, ErrStateUsed when it was consumed before, and
	// ErrStateExpired (after marking it used) when it is past ExpiresAt.
	Consume(ctx context.Context, key string, now time.Time) (Nonce, error)
}

var (
	// ErrStateUnknown means the callback's state was never issued here (forged
	// or from another server).
	ErrStateUnknown = errors.New("login state is unknown")
	// ErrStateUsed means the state was already consumed (a replayed callback).
	ErrStateUsed = errors.New("login state was already used")
	// ErrStateExpired means the login took longer than StateTTL.
	ErrStateExpired = errors.New("login state has expired")
	// ErrStateExists means a nonce key collided (practically impossible with
	// 32 random bytes).
	ErrStateExists = errors.New("login state exists already")
)

// newState returns a 32-byte random state (base64url) and a PKCE verifier.
func newState() (state, verifier string) {
	b := make([]byte, 64)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:32]), base64.RawURLEncoding.EncodeToString(b[32:])
}

// StateKey is the storage key of a state: its SHA-256, so a store dump does
// not hold usable states.
func StateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// newBrowserSecret returns the random value of a login cookie (32 bytes,
// base64url).
func newBrowserSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// BrowserKey is what a store keeps of a login cookie's value: its SHA-256,
// so a store dump cannot be replayed as a cookie.
func BrowserKey(cookie string) string {
	sum := sha256.Sum256([]byte("browser:" + cookie))
	return hex.EncodeToString(sum[:])
}

// challenge is the PKCE S256 code challenge of a verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
