// Package tokenstest is the contract every tokens.Store adapter must meet.
// Run it from each adapter's tests so the SQLite and DynamoDB stores cannot
// drift.
package tokenstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// RunStore runs the Store contract. newStore must return an empty store.
func RunStore(t *testing.T, newStore func(t *testing.T) tokens.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	t.Run("get of an absent user is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx, 404); !errors.Is(err, tokens.ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	})

	t.Run("put then get round-trips every field", func(t *testing.T) {
		s := newStore(t)
		want := sample(7, 1, t0)
		if err := s.Put(ctx, want, 0); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if err := same(got, want); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("versioned puts: stale version conflicts and changes nothing", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, sample(7, 1, t0), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, sample(7, 1, t0), 0); !errors.Is(err, tokens.ErrConflict) {
			t.Fatalf("second create = %v, want ErrConflict", err)
		}
		v2 := sample(7, 2, t0.Add(time.Hour))
		v2.ReauthRequired = true
		if err := s.Put(ctx, v2, 1); err != nil {
			t.Fatal(err)
		}
		stale := sample(7, 2, t0.Add(2*time.Hour))
		if err := s.Put(ctx, stale, 1); !errors.Is(err, tokens.ErrConflict) {
			t.Fatalf("put on stale version = %v, want ErrConflict", err)
		}
		got, _ := s.Get(ctx, 7)
		if err := same(got, v2); err != nil {
			t.Fatalf("after a rejected put: %v", err)
		}
	})

	t.Run("concurrent puts on one version: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, sample(9, 1, t0), 0); err != nil {
			t.Fatal(err)
		}
		wins := race(20, func(i int) error {
			r := sample(9, 2, t0)
			r.Login = fmt.Sprintf("writer-%d", i)
			return s.Put(ctx, r, 1)
		})
		if wins != 1 {
			t.Fatalf("%d puts won, want exactly 1", wins)
		}
	})

	t.Run("lease: one holder until it expires, released, or a put clears it", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Lease(ctx, 5, "a", t0, t0.Add(time.Minute)); !errors.Is(err, tokens.ErrNotFound) {
			t.Fatalf("lease on absent record = %v, want ErrNotFound", err)
		}
		if err := s.Put(ctx, sample(5, 1, t0), 0); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name      string
			do        func() (bool, error)
			wantHeld  bool
			wantOwner string
		}{
			{"a takes it", func() (bool, error) { return s.Lease(ctx, 5, "a", t0, t0.Add(20*time.Second)) }, true, "a"},
			{"b is refused while a holds it", func() (bool, error) { return s.Lease(ctx, 5, "b", t0.Add(time.Second), t0.Add(21*time.Second)) }, false, "a"},
			{"b's release of a's lease is a no-op", func() (bool, error) { return false, s.Release(ctx, 5, "b") }, false, "a"},
			{"b takes it once expired", func() (bool, error) { return s.Lease(ctx, 5, "b", t0.Add(21*time.Second), t0.Add(41*time.Second)) }, true, "b"},
			{"b releases", func() (bool, error) { return false, s.Release(ctx, 5, "b") }, false, ""},
			{"c takes the released lease", func() (bool, error) { return s.Lease(ctx, 5, "c", t0.Add(22*time.Second), t0.Add(42*time.Second)) }, true, "c"},
			{"a put clears it", func() (bool, error) { return false, s.Put(ctx, sample(5, 2, t0), 1) }, false, ""},
			{"d takes it after the put", func() (bool, error) { return s.Lease(ctx, 5, "d", t0.Add(23*time.Second), t0.Add(43*time.Second)) }, true, "d"},
		}
		for _, st := range steps {
			held, err := st.do()
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if held != st.wantHeld {
				t.Fatalf("%s: held = %v, want %v", st.name, held, st.wantHeld)
			}
			got, err := s.Get(ctx, 5)
			if err != nil {
				t.Fatal(err)
			}
			if got.LeaseOwner != st.wantOwner {
				t.Fatalf("%s: lease owner = %q, want %q", st.name, got.LeaseOwner, st.wantOwner)
			}
		}
	})

	t.Run("concurrent leases: exactly one holder", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, sample(6, 1, t0), 0); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		held := 0
		err := errors.Join(raceErrs(20, func(i int) error {
			ok, err := s.Lease(ctx, 6, fmt.Sprintf("owner-%d", i), t0, t0.Add(time.Minute))
			if ok {
				mu.Lock()
				held++
				mu.Unlock()
			}
			return err
		})...)
		if err != nil {
			t.Fatal(err)
		}
		if held != 1 {
			t.Fatalf("%d owners hold the lease, want exactly 1", held)
		}
	})

	t.Run("delete removes the record and tolerates absence", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, sample(8, 1, t0), 0); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.Delete(ctx, 8); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, 8); !errors.Is(err, tokens.ErrNotFound) {
			t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
		}
		if err := s.Put(ctx, sample(8, 1, t0), 0); err != nil {
			t.Fatalf("re-create after delete: %v", err)
		}
	})
}

func sample(id, version int64, at time.Time) tokens.Record {
	return tokens.Record{
		UserID: id, Login: fmt.Sprintf("user%d", id), Scopes: []string{"repo", "read:org"},
		AccessExpiresAt: at.Add(8 * time.Hour), RefreshExpiresAt: at.Add(4380 * time.Hour),
		Version: version, WrappedKey: []byte{1, 2, 3, byte(version)}, Sealed: []byte{9, 8, 7, 0, byte(id)},
		UpdatedAt: at,
	}
}

func same(got, want tokens.Record) error {
	switch {
	case got.UserID != want.UserID, got.Login != want.Login, got.Version != want.Version,
		got.ReauthRequired != want.ReauthRequired, !slices.Equal(got.Scopes, want.Scopes):
		return fmt.Errorf("got %+v\nwant %+v", got, want)
	case !got.AccessExpiresAt.Equal(want.AccessExpiresAt), !got.RefreshExpiresAt.Equal(want.RefreshExpiresAt),
		!got.UpdatedAt.Equal(want.UpdatedAt):
		return fmt.Errorf("times differ: got %v/%v/%v want %v/%v/%v", got.AccessExpiresAt, got.RefreshExpiresAt, got.UpdatedAt,
			want.AccessExpiresAt, want.RefreshExpiresAt, want.UpdatedAt)
	case !bytes.Equal(got.WrappedKey, want.WrappedKey), !bytes.Equal(got.Sealed, want.Sealed):
		return fmt.Errorf("sealed bytes differ")
	}
	return nil
}

// race runs f concurrently n times and counts the calls that returned nil.
func race(n int, f func(i int) error) int {
	wins := 0
	for _, err := range raceErrs(n, f) {
		if err == nil {
			wins++
		}
	}
	return wins
}

func raceErrs(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// RunDataKeys runs the DataKeys contract: data keys are 32 random bytes, open
// only under the encryption context they were made with, and differ per call.
func RunDataKeys(t *testing.T, keys tokens.DataKeys) {
	ctx := context.Background()
	ec := map[string]string{"purpose": "ai3-user-token", "user_id": "42"}
	dk1, w1, err := keys.GenerateDataKey(ctx, ec)
	if err != nil {
		t.Fatal(err)
	}
	dk2, w2, err := keys.GenerateDataKey(ctx, ec)
	if err != nil {
		t.Fatal(err)
	}
	if len(dk1) != 32 || bytes.Equal(dk1, dk2) || bytes.Equal(w1, w2) || bytes.Contains(w1, dk1) {
		t.Fatalf("data keys must be 32 fresh bytes, wrapped: got len %d, equal=%v", len(dk1), bytes.Equal(dk1, dk2))
	}
	got, err := keys.Decrypt(ctx, w1, map[string]string{"user_id": "42", "purpose": "ai3-user-token"})
	if err != nil || !bytes.Equal(got, dk1) {
		t.Fatalf("Decrypt under the same context: %v", err)
	}
	for name, other := range map[string]map[string]string{
		"other user":    {"purpose": "ai3-user-token", "user_id": "43"},
		"no context":    nil,
		"extra entry":   {"purpose": "ai3-user-token", "user_id": "42", "x": "y"},
		"other purpose": {"purpose": "other", "user_id": "42"},
	} {
		if _, err := keys.Decrypt(ctx, w1, other); err == nil {
			t.Errorf("%s: Decrypt opened a data key under the wrong encryption context", name)
		}
	}
	tampered := bytes.Clone(w2)
	tampered[len(tampered)-1] ^= 1
	if _, err := keys.Decrypt(ctx, tampered, ec); err == nil {
		t.Error("Decrypt opened a tampered data key")
	}
}
