package githubapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestScopedTokenSendsPermissions: the permissions reach GitHub in the
// access_tokens request, each set of permissions is its own cached token,
// and names or levels GitHub does not define are refused before any call.
func TestScopedTokenSendsPermissions(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	var mu sync.Mutex
	var bodies []map[string]map[string]string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/app/installations/7/access_tokens" || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.NotFound(w, r)
			return
		}
		var in map[string]map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		bodies = append(bodies, in)
		n := len(bodies)
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"token": "ghs_" + strings.Repeat("x", n), "expires_at": time.Now().Add(time.Hour)})
	}))
	t.Cleanup(gh.Close)
	m := &Minter{AppID: 1, Key: func(context.Context) ([]byte, error) { return pemKey, nil }, APIURL: gh.URL}
	ctx := context.Background()
	read := map[string]string{"members": "read"}
	write := map[string]string{"members": "read", "issues": "write"}
	a, err := m.ScopedToken(ctx, 7, read)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := m.ScopedToken(ctx, 7, read); again != a {
		t.Fatal("the same permissions minted a second token")
	}
	if b, _ := m.ScopedToken(ctx, 7, write); b == a {
		t.Fatal("other permissions shared a token")
	}
	if len(bodies) != 2 || !maps.Equal(bodies[0]["permissions"], read) || !maps.Equal(bodies[1]["permissions"], write) {
		t.Fatalf("GitHub was asked for %v, want %v then %v", bodies, read, write)
	}
	for _, bad := range []map[string]string{{"members": "admin"}, {"not_a_permission": "read"}} {
		if _, err := m.ScopedToken(ctx, 7, bad); err == nil {
			t.Errorf("ScopedToken(%v) succeeded", bad)
		}
	}
	if len(bodies) != 2 {
		t.Fatalf("refused permissions still called GitHub (%d calls)", len(bodies))
	}
	// The full token shares the cache but not an entry with a scoped one.
	full, err := m.InstallationToken(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if full == a || len(bodies) != 3 || bodies[2]["permissions"] != nil {
		t.Fatalf("InstallationToken = %v after scoped %v; GitHub was asked for %v, want a third token with no permissions named", full, a, bodies)
	}
	if again, _ := m.ScopedToken(ctx, 7, nil); again != full {
		t.Fatalf("ScopedToken without permissions = %v, want the cached full token %v", again, full)
	}
}
