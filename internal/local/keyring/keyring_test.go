package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/local/keyring"
	"github.com/sbalswa/ai3-mvp/internal/tokens/tokenstest"
)

func TestOpenCreatesA0600KeyAndReusesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "master.key")
	k1, err := keyring.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Fatalf("key file mode %v size %d, want 0600 and 32 bytes", st.Mode().Perm(), st.Size())
	}
	ctx := context.Background()
	ec := map[string]string{"user_id": "1"}
	dk, wrapped, err := k1.GenerateDataKey(ctx, ec)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := keyring.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k2.Decrypt(ctx, wrapped, ec)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("reopened keyring: %v, equal=%v", err, bytes.Equal(got, dk))
	}
}

func TestOpenRefusesBadKeyFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		mode os.FileMode
		size int
	}{
		{"world readable", 0o644, 32},
		{"short", 0o600, 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			if err := os.WriteFile(p, make([]byte, c.size), c.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, c.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := keyring.Open(p); err == nil {
				t.Fatal("Open accepted a bad key file")
			}
		})
	}
}

func TestDecryptEnforcesEncryptionContext(t *testing.T) {
	k, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, wrapped, err := k.GenerateDataKey(ctx, map[string]string{"user_id": "1", "purpose": "p"})
	if err != nil {
		t.Fatal(err)
	}
	for name, ec := range map[string]map[string]string{
		"other user":    {"user_id": "2", "purpose": "p"},
		"missing key":   {"user_id": "1"},
		"extra key":     {"user_id": "1", "purpose": "p", "x": "y"},
		"shifted value": {"user_id": "1p", "purpose": ""},
	} {
		if _, err := k.Decrypt(ctx, wrapped, ec); !errors.Is(err, keyring.ErrContextMismatch) {
			t.Errorf("%s: Decrypt = %v, want ErrContextMismatch", name, err)
		}
	}
	if _, err := k.Decrypt(ctx, wrapped, map[string]string{"purpose": "p", "user_id": "1"}); err != nil {
		t.Fatalf("right context refused: %v", err)
	}
}

func TestKeyringContract(t *testing.T) {
	k, err := keyring.Open(filepath.Join(t.TempDir(), "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	tokenstest.RunDataKeys(t, k)
}
