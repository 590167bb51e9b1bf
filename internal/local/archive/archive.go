// Package archive is the embedded shape's events.Archive: raw payloads as
// files under one root directory, written atomically (temp file in the same
// directory, fsync, rename, fsync of the directory), so a reader or a restart
// after a crash never finds a partial payload.
//
// Wiring (cmd/ai3 dev):
//
//	a, err := archive.Open(filepath.Join(env.DataDir, "payloads"))
//	env.Check("archive", a.Check)
//	// the receiver stores with a.Put(ctx, key, body); handlers read with events.Load(ctx, a, env)
package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Bucket is the Ref.Bucket of every payload this archive stores.
const Bucket = "local-archive"

// Archive stores payloads as files under a root directory. Its methods are
// safe for concurrent use.
type Archive struct {
	root string
	dirs dirSyncers
}

// Open returns the archive rooted at dir, creating it (0700) if needed.
func Open(dir string) (*Archive, error) {
	if dir == "" {
		return nil, errors.New("archive: root directory is empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("archive: create root %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("archive: root %s: %w", dir, err)
	}
	return &Archive{root: abs}, nil
}

// Put writes body at key atomically; files are 0600, directories 0700. A
// repeated Put of the same key replaces the file atomically with the same
// bytes.
func (a *Archive) Put(ctx context.Context, key string, body []byte) (events.Ref, error) {
	if err := events.CheckKey(key); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	path := a.path(key)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	if err := writeAtomic(dir, path, body); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	// The rename is durable only once the directory is synced.
	if err := a.dirs.sync(dir); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: sync directory: %w", key, err)
	}
	return events.Ref{Bucket: Bucket, Key: key}, nil
}

// writeAtomic writes body to a temp file in dir, syncs it and renames it over
// path; the caller syncs dir.
func writeAtomic(dir, path string, body []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(body); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Get reads the payload ref points to; events.ErrNotFound when it is absent.
func (a *Archive) Get(ctx context.Context, ref events.Ref) ([]byte, error) {
	if ref.Bucket != Bucket {
		return nil, fmt.Errorf("archive: get: reference to bucket %q, this archive is %q", ref.Bucket, Bucket)
	}
	if err := events.CheckKey(ref.Key); err != nil {
		return nil, fmt.Errorf("archive: get: %w", err)
	}
	body, err := os.ReadFile(a.path(ref.Key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("archive: get %s: %w", ref.Key, events.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: get %s: %w", ref.Key, err)
	}
	return body, nil
}

// Check reports whether the root directory is usable (for GET /healthz).
func (a *Archive) Check(ctx context.Context) error {
	f, err := os.CreateTemp(a.root, ".check-*")
	if err != nil {
		return fmt.Errorf("archive: root %s not writable: %w", a.root, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func (a *Archive) path(key string) string {
	return filepath.Join(a.root, filepath.FromSlash(key))
}
