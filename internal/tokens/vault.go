package tokens

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config wires a Vault. Store, Keys and Refresher are required; zero
// durations take the defaults named on each field.
type Config struct {
	Store     Store
	Keys      DataKeys
	Refresher Refresher
	Log       *slog.Logger     // default: slog.Default()
	Now       func() time.Time // default: time.Now
	// RefreshBefore is how much life an access token must have left to be
	// handed out without a refresh. Default 5 minutes.
	RefreshBefore time.Duration
	// LeaseFor is how long a refresh lease lasts; a crashed refresher blocks
	// the others at most this long. Default 20 seconds.
	LeaseFor time.Duration
	// PollEvery is how often a caller that lost the lease re-reads the
	// record. Default 50 ms.
	PollEvery time.Duration
	// PersistFor bounds the refresh request plus the retried write of its
	// result, which run on even if the caller's context ends. Default 30 seconds.
	PersistFor time.Duration
	// CacheFor bounds how long an opened token is served from memory without
	// reading the store (so a revocation elsewhere is seen within it).
	// Default 30 seconds; negative disables the cache.
	CacheFor time.Duration
}

// Vault hands out users' access tokens, refreshing them when needed. It is
// safe for concurrent use, and several Vaults (processes, Lambdas) may share
// one Store.
type Vault struct {
	cfg Config

	mu      sync.RWMutex
	cache   map[int64]cachedToken
	flights map[int64]*flight
}

type cachedToken struct {
	token string
	until time.Time
}

type flight struct {
	done  chan struct{}
	token string
	err   error
}

// New returns a Vault over cfg.
func New(cfg Config) *Vault {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshBefore == 0 {
		cfg.RefreshBefore = 5 * time.Minute
	}
	if cfg.LeaseFor == 0 {
		cfg.LeaseFor = 20 * time.Second
	}
	if cfg.PollEvery == 0 {
		cfg.PollEvery = 50 * time.Millisecond
	}
	if cfg.PersistFor == 0 {
		cfg.PersistFor = 30 * time.Second
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = 30 * time.Second
	}
	return &Vault{cfg: cfg, cache: map[int64]cachedToken{}, flights: map[int64]*flight{}}
}

// Save stores a fresh grant for user (after a login), replacing any previous
// record and clearing a re-login mark.
func (v *Vault) Save(ctx context.Context, user User, g Grant) error {
	if user.ID <= 0 || g.AccessToken == "" {
		return fmt.Errorf("save token: need a user id and an access token")
	}
	wrapped, sealed, err := seal(ctx, v.cfg.Keys, user.ID, g)
	if err != nil {
		return fmt.Errorf("save token for %s: %w", user.Login, err)
	}
	for attempt := 0; ; attempt++ {
		var prev int64
		switch old, err := v.cfg.Store.Get(ctx, user.ID); {
		case err == nil:
			prev = old.Version
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("save token for %s: %w", user.Login, err)
		}
		rec := Record{
			UserID: user.ID, Login: user.Login, Scopes: g.Scopes,
			AccessExpiresAt: g.AccessExpiresAt, RefreshExpiresAt: g.RefreshExpiresAt,
			Version: prev + 1, WrappedKey: wrapped, Sealed: sealed, UpdatedAt: v.cfg.Now(),
		}
		err := v.cfg.Store.Put(ctx, rec, prev)
		if err == nil {
			v.forget(user.ID)
			v.cfg.Log.InfoContext(ctx, "stored user token", "user_id", user.ID, "login", user.Login, "version", rec.Version)
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt == 3 {
			return fmt.Errorf("save token for %s: %w", user.Login, err)
		}
	}
}

// Delete removes the user's record (revocation). Absent records are fine.
func (v *Vault) Delete(ctx context.Context, userID int64) error {
	v.forget(userID)
	if err := v.cfg.Store.Delete(ctx, userID); err != nil {
		return fmt.Errorf("delete token of user %d: %w", userID, err)
	}
	return nil
}

// Token returns a usable access token for the user, refreshing it first when
// less than RefreshBefore remains. It returns ErrNotFound when the user has no
// token and ErrReauthRequired when they must log in again. Concurrent calls
// for one user, in this process or others sharing the Store, cause at most one
// refresh request to GitHub.
func (v *Vault) Token(ctx context.Context, userID int64) (string, error) {
	v.mu.RLock()
	c, ok := v.cache[userID]
	v.mu.RUnlock()
	if ok && v.cfg.Now().Before(c.until) {
		return c.token, nil
	}
	return v.coalesce(ctx, userID)
}

// coalesce lets one goroutine per user do the store work while the others in
// this process wait for its result.
func (v *Vault) coalesce(ctx context.Context, userID int64) (string, error) {
	v.mu.Lock()
	f, running := v.flights[userID]
	if !running {
		f = &flight{done: make(chan struct{})}
		v.flights[userID] = f
	}
	v.mu.Unlock()
	if running {
		select {
		case <-f.done:
			if f.err != nil && ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				return v.coalesce(ctx, userID) // the leader gave up, not us: try again
			}
			return f.token, f.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	f.token, f.err = v.load(ctx, userID)
	v.mu.Lock()
	delete(v.flights, userID)
	v.mu.Unlock()
	close(f.done)
	return f.token, f.err
}

func (v *Vault) load(ctx context.Context, userID int64) (string, error) {
	owner := ""
	for {
		rec, err := v.cfg.Store.Get(ctx, userID)
		if err != nil {
			return "", fmt.Errorf("token of user %d: %w", userID, err)
		}
		if rec.ReauthRequired {
			return "", fmt.Errorf("token of %s: %w", rec.Login, ErrReauthRequired)
		}
		now := v.cfg.Now()
		if v.fresh(rec, now) {
			return v.serve(ctx, rec, now)
		}
		if !rec.RefreshExpiresAt.IsZero() && !now.Before(rec.RefreshExpiresAt) {
			return "", v.markReauth(ctx, rec, "refresh token expired")
		}
		if owner == "" {
			owner = newLeaseOwner()
		}
		got, err := v.cfg.Store.Lease(ctx, userID, owner, now, now.Add(v.cfg.LeaseFor))
		if err != nil {
			return "", fmt.Errorf("refresh lease for %s: %w", rec.Login, err)
		}
		if got {
			return v.refresh(ctx, userID, owner)
		}
		// Another process is refreshing: wait and read its result.
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %s's token refresh: %w", rec.Login, ctx.Err())
		case <-time.After(v.cfg.PollEvery):
		}
	}
}

// refresh runs while owner holds the lease.
func (v *Vault) refresh(ctx context.Context, userID int64, owner string) (string, error) {
	// Re-read under the lease: a refresh may have finished between our read
	// and our lease (Put clears the lease, so the lease alone cannot tell).
	rec, err := v.cfg.Store.Get(ctx, userID)
	if err != nil {
		v.release(ctx, userID, owner)
		return "", fmt.Errorf("token of user %d: %w", userID, err)
	}
	now := v.cfg.Now()
	if rec.ReauthRequired {
		v.release(ctx, userID, owner)
		return "", fmt.Errorf("token of %s: %w", rec.Login, ErrReauthRequired)
	}
	if v.fresh(rec, now) {
		v.release(ctx, userID, owner)
		return v.serve(ctx, rec, now)
	}
	pair, err := open(ctx, v.cfg.Keys, rec)
	if err != nil {
		v.release(ctx, userID, owner)
		return "", err
	}
	if pair.Refresh == "" {
		return "", v.markReauth(ctx, rec, "no refresh token")
	}
	// Once the refresh request is sent GitHub may rotate the token, and the
	// new pair must then reach the store even if the caller gives up: the
	// request and the write run on a detached context with their own limit.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.cfg.PersistFor)
	defer cancel()
	g, err := v.cfg.Refresher.Refresh(pctx, pair.Refresh)
	if errors.Is(err, ErrRefreshRejected) {
		return "", v.markReauth(ctx, rec, err.Error())
	}
	if err != nil {
		v.release(ctx, userID, owner)
		return "", fmt.Errorf("refresh token of %s: %w", rec.Login, err)
	}
	if g.RefreshToken == "" {
		g.RefreshToken, g.RefreshExpiresAt = pair.Refresh, rec.RefreshExpiresAt
	}
	if len(g.Scopes) == 0 {
		g.Scopes = rec.Scopes
	}
	next, err := v.persist(pctx, rec, g, now)
	if err != nil {
		v.cfg.Log.ErrorContext(ctx, "rotated token not persisted: the user must log in again", "user_id", userID, "login", rec.Login, "err", err)
		return "", fmt.Errorf("persist refreshed token of %s: %w", rec.Login, err)
	}
	v.cfg.Log.InfoContext(ctx, "refreshed user token", "user_id", userID, "login", rec.Login, "version", next.Version)
	v.remember(userID, g.AccessToken, g.AccessExpiresAt, now)
	return g.AccessToken, nil
}

// persist seals g and writes it as the version after rec, retrying until ctx
// ends. A write that failed ambiguously (committed, then an error) is
// recognised on the retry by reading back our own ciphertext.
func (v *Vault) persist(ctx context.Context, rec Record, g Grant, now time.Time) (Record, error) {
	var next Record
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := func() error {
			if next.Sealed == nil {
				wrapped, sealed, err := seal(ctx, v.cfg.Keys, rec.UserID, g)
				if err != nil {
					return err
				}
				next = Record{
					UserID: rec.UserID, Login: rec.Login, Scopes: g.Scopes,
					AccessExpiresAt: g.AccessExpiresAt, RefreshExpiresAt: g.RefreshExpiresAt,
					Version: rec.Version + 1, WrappedKey: wrapped, Sealed: sealed, UpdatedAt: now,
				}
			}
			err := v.cfg.Store.Put(ctx, next, rec.Version)
			if errors.Is(err, ErrConflict) && attempt > 0 {
				if cur, gerr := v.cfg.Store.Get(ctx, rec.UserID); gerr == nil && cur.Version == next.Version && bytes.Equal(cur.Sealed, next.Sealed) {
					return nil // our earlier attempt did land
				}
			}
			return err
		}()
		if err == nil {
			return next, nil
		}
		if errors.Is(err, ErrConflict) {
			return Record{}, err
		}
		v.cfg.Log.WarnContext(ctx, "persist refreshed token: retrying", "user_id", rec.UserID, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return Record{}, fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// markReauth records that the user must log in again; the dead tokens are
// dropped from the record.
func (v *Vault) markReauth(ctx context.Context, rec Record, why string) error {
	next := rec
	next.Version = rec.Version + 1
	next.ReauthRequired = true
	next.WrappedKey, next.Sealed = nil, nil
	next.LeaseOwner, next.LeaseUntil = "", time.Time{}
	next.UpdatedAt = v.cfg.Now()
	v.forget(rec.UserID)
	if err := v.cfg.Store.Put(ctx, next, rec.Version); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("mark %s for re-login: %w", rec.Login, err)
	}
	v.cfg.Log.WarnContext(ctx, "user must log in again", "user_id", rec.UserID, "login", rec.Login, "reason", why)
	return fmt.Errorf("token of %s (%s): %w", rec.Login, why, ErrReauthRequired)
}

func (v *Vault) serve(ctx context.Context, rec Record, now time.Time) (string, error) {
	pair, err := open(ctx, v.cfg.Keys, rec)
	if err != nil {
		return "", err
	}
	v.remember(rec.UserID, pair.Access, rec.AccessExpiresAt, now)
	return pair.Access, nil
}

func (v *Vault) fresh(rec Record, now time.Time) bool {
	return rec.AccessExpiresAt.IsZero() || rec.AccessExpiresAt.Sub(now) >= v.cfg.RefreshBefore
}

func (v *Vault) release(ctx context.Context, userID int64, owner string) {
	if err := v.cfg.Store.Release(ctx, userID, owner); err != nil {
		v.cfg.Log.WarnContext(ctx, "release refresh lease", "user_id", userID, "err", err)
	}
}

func (v *Vault) remember(userID int64, token string, expires, now time.Time) {
	if v.cfg.CacheFor < 0 {
		return
	}
	until := now.Add(v.cfg.CacheFor)
	if !expires.IsZero() && expires.Add(-v.cfg.RefreshBefore).Before(until) {
		until = expires.Add(-v.cfg.RefreshBefore)
	}
	v.mu.Lock()
	v.cache[userID] = cachedToken{token: token, until: until}
	v.mu.Unlock()
}

func (v *Vault) forget(userID int64) {
	v.mu.Lock()
	delete(v.cache, userID)
	v.mu.Unlock()
}

func newLeaseOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}
