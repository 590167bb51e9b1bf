// Package keyring is the embedded shape's tokens.DataKeys: data keys wrapped
// with AES-256-GCM under a 32-byte master key kept in a 0600 file, with the
// encryption context bound as associated data (as KMS does).
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Keyring wraps and unwraps data keys under one master key.
type Keyring struct{ aead cipher.AEAD }

// ErrContextMismatch is returned when a data key is opened with an encryption
// context other than the one it was made with (or was tampered with).
var ErrContextMismatch = errors.New("data key does not open under this encryption context")

// Open loads the master key from path, creating a new random one (mode 0600)
// if the file does not exist. It refuses a key file readable by group or
// others, or of the wrong size.
func Open(path string) (*Keyring, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("master key directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create master key %s: %w", path, err)
		}
		_, werr := f.Write(key)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("write master key %s: %w", path, err)
		}
		return New(key)
	}
	if err != nil {
		return nil, fmt.Errorf("read master key %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key %s has mode %v: run `chmod 600 %s`", path, st.Mode().Perm(), path)
	}
	return New(key)
}

// New returns a Keyring over a 32-byte master key.
func New(master []byte) (*Keyring, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("master key is %d bytes, want 32", len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead}, nil
}

// GenerateDataKey returns a fresh 32-byte data key and its wrapped form.
func (k *Keyring) GenerateDataKey(_ context.Context, encCtx map[string]string) (plaintext, wrapped []byte, err error) {
	plaintext = make([]byte, 32)
	_, _ = rand.Read(plaintext)
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return plaintext, k.aead.Seal(nonce, nonce, plaintext, canonical(encCtx)), nil
}

// Decrypt unwraps a data key; the encryption context must be the one it was
// generated with.
func (k *Keyring) Decrypt(_ context.Context, wrapped []byte, encCtx map[string]string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(wrapped) < n {
		return nil, ErrContextMismatch
	}
	dk, err := k.aead.Open(nil, wrapped[:n], wrapped[n:], canonical(encCtx))
	if err != nil {
		return nil, ErrContextMismatch
	}
	return dk, nil
}

// canonical encodes a context independent of map order.
func canonical(encCtx map[string]string) []byte {
	keys := make([]string, 0, len(encCtx))
	for k := range encCtx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%d:%s=%d:%s;", len(k), k, len(encCtx[k]), encCtx[k])
	}
	return []byte(b.String())
}
