package sandbox

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// snapshotFile is the state's file in the data directory.
const snapshotFile = "github-sandbox.json"

// load reads the snapshot in dir; nil when there is none yet.
func load(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: read state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("sandbox: state in %s is not valid JSON (remove it to start afresh): %w", filepath.Join(dir, snapshotFile), err)
	}
	return st, nil
}

// persist writes the state to the data directory unless a snapshot at least
// as recent as gen is already there. Concurrent callers share writes: the
// first one to get the lock writes everything changed so far.
func (s *Sandbox) persist(gen uint64) error {
	if s.cfg.DataDir == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.savedGen >= gen {
		return nil
	}
	s.mu.Lock()
	b, err := json.Marshal(s.st)
	at := s.gen
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sandbox: encode state: %w", err)
	}
	if err := writeAtomic(filepath.Join(s.cfg.DataDir, snapshotFile), b); err != nil {
		return err
	}
	s.savedGen = at
	return nil
}

// writeAtomic replaces path with b: a synced temporary file renamed over it,
// then the directory synced, so a crash leaves the old or the new file whole.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sandbox: data directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".github-sandbox-*.tmp")
	if err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o600)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("sandbox: save state: %w", werr)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func keyPEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func parseKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

// AppPrivateKey is the App's RSA private key as PEM (what GitHub lets an
// owner download), for the code under test to sign JWTs with.
func (s *Sandbox) AppPrivateKey() []byte { return keyPEM(s.appKey) }

// AppID is the GitHub App's id.
func (s *Sandbox) AppID() int64 { return s.cfg.AppID }
