// Package oauthtest is the contract every oauth.NonceStore adapter must meet.
package oauthtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
)

// RunNonceStore runs the NonceStore contract. newStore must return an empty store.
func RunNonceStore(t *testing.T, newStore func(t *testing.T) oauth.NonceStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	exp := t0.Add(oauth.StateTTL)

	t.Run("consume sequence", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "k1", oauth.Nonce{Verifier: "v1", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "k1", oauth.Nonce{Verifier: "other", ExpiresAt: exp}); !errors.Is(err, oauth.ErrStateExists) {
			t.Fatalf("duplicate Put = %v, want ErrStateExists", err)
		}
		if err := s.Put(ctx, "k2", oauth.Nonce{Verifier: "v2", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name    string
			key     string
			now     time.Time
			want    error
			wantVer string
		}{
			{"unknown key", "nope", t0, oauth.ErrStateUnknown, ""},
			{"first consume returns the verifier", "k1", t0.Add(time.Minute), nil, "v1"},
			{"second consume is refused as used", "k1", t0.Add(2 * time.Minute), oauth.ErrStateUsed, ""},
			{"consume past expiry is refused as expired", "k2", exp, oauth.ErrStateExpired, ""},
			{"an expired state stays unusable", "k2", t0, oauth.ErrStateUsed, ""},
		}
		for _, st := range steps {
			n, err := s.Consume(ctx, st.key, st.now)
			if !errors.Is(err, st.want) {
				t.Fatalf("%s: err = %v, want %v", st.name, err, st.want)
			}
			if err == nil && (n.Verifier != st.wantVer || !n.ExpiresAt.Equal(exp)) {
				t.Fatalf("%s: got %+v, want verifier %q expiring %v", st.name, n, st.wantVer, exp)
			}
		}
	})

	t.Run("concurrent consumes: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "race", oauth.Nonce{Verifier: "v", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, used := 0, 0
		var other []error
		for range 20 {
			wg.Go(func() {
				_, err := s.Consume(ctx, "race", t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, oauth.ErrStateUsed):
					used++
				default:
					other = append(other, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || used != 19 || len(other) > 0 {
			t.Fatalf("wins=%d used=%d other=%v, want 1 win and 19 used", wins, used, other)
		}
	})

	t.Run("the browser binding comes back with the nonce", func(t *testing.T) {
		s := newStore(t)
		want := oauth.Nonce{Verifier: "v", Browser: oauth.BrowserKey("cookie-value"), ExpiresAt: exp}
		if err := s.Put(ctx, "bound", want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Consume(ctx, "bound", t0)
		if err != nil || got.Browser != want.Browser || got.Verifier != want.Verifier {
			t.Fatalf("Consume = %+v, %v; want the browser key %q stored with the state", got, err, want.Browser)
		}
	})

	t.Run("many keys stay independent", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			if err := s.Put(ctx, fmt.Sprint("key", i), oauth.Nonce{Verifier: fmt.Sprint("ver", i), ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 4; i >= 0; i-- {
			n, err := s.Consume(ctx, fmt.Sprint("key", i), t0)
			if err != nil || n.Verifier != fmt.Sprint("ver", i) {
				t.Fatalf("key%d: %+v, %v", i, n, err)
			}
		}
	})
}
