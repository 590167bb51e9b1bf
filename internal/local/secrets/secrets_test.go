package secrets_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/local/secrets"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
	"github.com/sbalswa/ai3-mvp/internal/webhook/webhooktest"
)

func TestContract(t *testing.T) {
	webhooktest.SecretSource(t, func(t *testing.T) (webhook.SecretSource, func([]byte)) {
		path := filepath.Join(t.TempDir(), "webhook-secret")
		return secrets.NewFile(path), func(raw []byte) {
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestFileRefusesLooseModes(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "webhook-secret")
			if err := os.WriteFile(path, []byte("s3cret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := secrets.NewFile(path).Secrets(context.Background())
			if err == nil || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("Secrets() with mode %v = %v, want an error telling to chmod 600", mode, err)
			}
		})
	}
}

func TestFileMissingIsAnError(t *testing.T) {
	if _, err := secrets.NewFile(filepath.Join(t.TempDir(), "absent")).Secrets(context.Background()); err == nil {
		t.Fatal("Secrets() of a missing file succeeded")
	}
}

func TestEnsureCreatesOnceWith0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webhook-secret")
	secret, created, err := secrets.Ensure(path)
	if err != nil || !created || len(secret) < 40 {
		t.Fatalf("first Ensure = %d-char secret, %v, %v; want a new long secret", len(secret), created, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode = %v, %v; want 0600", info.Mode(), err)
	}
	got, err := secrets.NewFile(path).Secrets(context.Background())
	if err != nil || len(got) != 1 || string(got[0]) != secret {
		t.Fatalf("reading the created file gave %d secrets, %v; want the created one", len(got), err)
	}
	again, created, err := secrets.Ensure(path)
	if err != nil || created || again != "" {
		t.Fatalf("second Ensure = %q, %v, %v; want the file left alone", again, created, err)
	}
	if got2, _ := secrets.NewFile(path).Secrets(context.Background()); string(got2[0]) != secret {
		t.Fatal("second Ensure changed the secret")
	}
}
