// Package secrets is the embedded webhook.SecretSource: a file readable only
// by its owner (mode 0600), one secret per line, current first.
package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// File reads the webhook secrets from a 0600 file each time it is asked
// (wrap it with webhook.CacheSecrets to read less often).
type File struct{ path string }

var _ webhook.SecretSource = (*File)(nil)

// NewFile returns a source reading path.
func NewFile(path string) *File { return &File{path: path} }

// Secrets implements webhook.SecretSource. A file that group or others can
// read or write is refused: the secret would no longer be secret.
func (f *File) Secrets(ctx context.Context) ([][]byte, error) {
	info, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("webhook secret file: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("webhook secret file %s has mode %#o: run `chmod 600 %s`", f.path, perm, f.path)
	}
	raw, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("webhook secret file: %w", err)
	}
	s, err := webhook.ParseSecrets(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook secret file %s: %w", f.path, err)
	}
	return s, nil
}

// Ensure creates path with a new random secret (mode 0600) when it does not
// exist yet, returning the secret and true; an existing file is left alone
// and Ensure returns "", false.
func Ensure(path string) (secret string, created bool, err error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("create webhook secret file: %w", err)
	}
	secret = rand.Text() + rand.Text() // 256 bits of base32
	_, werr := file.WriteString(secret + "\n")
	serr := file.Sync()
	cerr := file.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return "", false, fmt.Errorf("write webhook secret file: %w", err)
	}
	return secret, true, nil
}
