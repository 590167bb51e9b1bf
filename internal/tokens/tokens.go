// Package tokens is the vault of users' GitHub OAuth tokens: records sealed
// with envelope encryption (a fresh data key per write, the user id bound as
// associated data), refreshed with rotation under a short store lease so that
// concurrent callers cause exactly one refresh, and deleted on revocation.
//
// The package imports no infrastructure: storage (Store), key wrapping
// (DataKeys) and the refresh call (Refresher) are ports.
package tokens

import (
	"context"
	"errors"
	"time"
)

// Grant is what GitHub hands out for a user: a user-to-server access token and
// the single-use refresh token that replaces it.
type Grant struct {
	AccessToken      string
	RefreshToken     string
	AccessExpiresAt  time.Time // zero when the token does not expire
	RefreshExpiresAt time.Time // zero when there is no refresh token expiry
	Scopes           []string
}

// User names a GitHub account.
type User struct {
	ID    int64
	Login string
}

// Record is one user's entry as a Store keeps it. It never holds a plaintext
// token: Sealed is the AES-256-GCM ciphertext of both tokens under a data key
// that only WrappedKey (opened by DataKeys with the user id as context) gives.
type Record struct {
	UserID           int64
	Login            string
	Scopes           []string
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	// Version increases by one on every write; writes are conditional on it.
	Version int64
	// ReauthRequired is set when GitHub refused the refresh token: the user
	// must log in again.
	ReauthRequired bool
	WrappedKey     []byte
	Sealed         []byte
	// LeaseOwner and LeaseUntil are the refresh lease; Put clears them.
	LeaseOwner string
	LeaseUntil time.Time
	UpdatedAt  time.Time
}

// Store keeps Records. Implementations must make Put and Lease atomic
// conditional writes, so that two processes cannot both win.
type Store interface {
	// Get returns the user's record or ErrNotFound.
	Get(ctx context.Context, userID int64) (Record, error)
	// Put writes rec (whose Version must be prevVersion+1) only if the stored
	// version is prevVersion (0: no record yet); otherwise ErrConflict. It
	// clears any lease.
	Put(ctx context.Context, rec Record, prevVersion int64) error
	// Lease takes the refresh lease for owner until the given time if no other
	// owner holds an unexpired one at now. It reports whether owner holds it;
	// ErrNotFound when there is no record.
	Lease(ctx context.Context, userID int64, owner string, now, until time.Time) (bool, error)
	// Release gives up owner's lease; it is a no-op if owner does not hold it.
	Release(ctx context.Context, userID int64, owner string) error
	// Delete removes the record; deleting an absent record is not an error.
	Delete(ctx context.Context, userID int64) error
}

// DataKeys makes and opens per-record data keys (KMS GenerateDataKey/Decrypt,
// or a local master key). The encryption context must match on Decrypt, or
// Decrypt fails.
type DataKeys interface {
	GenerateDataKey(ctx context.Context, encCtx map[string]string) (plaintext, wrapped []byte, err error)
	Decrypt(ctx context.Context, wrapped []byte, encCtx map[string]string) ([]byte, error)
}

// Refresher trades a refresh token for a new Grant (GitHub's
// grant_type=refresh_token). It returns an error wrapping ErrRefreshRejected
// when GitHub refuses the refresh token (bad_refresh_token).
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string) (Grant, error)
}

var (
	// ErrNotFound means the user has no stored token: they never logged in or
	// revoked the app.
	ErrNotFound = errors.New("no stored token for user")
	// ErrConflict means a conditional write lost against another writer.
	ErrConflict = errors.New("token record changed concurrently")
	// ErrReauthRequired means the stored token can no longer be refreshed and
	// the user must log in again.
	ErrReauthRequired = errors.New("GitHub login expired: the user must log in again")
	// ErrRefreshRejected is wrapped by Refresher errors when GitHub refuses a
	// refresh token (used, revoked or expired).
	ErrRefreshRejected = errors.New("refresh token rejected by GitHub")
	// ErrSealed means a sealed token did not open: wrong user, tampering or a
	// wrong key.
	ErrSealed = errors.New("sealed token does not open for this user")
)
