// Package archive is the embedded shape's events.Archive: raw payloads as
// files under one root directory, written atomically (temp file in a staging
// directory of the root, fsync, rename into place, fsync of the directory),
// so a reader or a restart after a crash never finds a partial payload.
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
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Bucket is the Ref.Bucket of every payload this archive stores.
const Bucket = "local-archive"

// Archive stores payloads as files under a root directory. Its methods are
// safe for concurrent use.
type Archive struct {
	root string
	dirs dirSyncers
	made sync.Map // directories known to exist (MkdirAll costs syscalls per level)
	// Payloads are written in staging directories and renamed into their
	// day's directory: creating a file holds its directory's lock for a long
	// time on ext4, so concurrent writers each creating in the one directory
	// of the day would queue there. next picks the staging directory.
	next atomic.Uint32
}

// stagingDir holds temp files being written, in stagingDirs subdirectories
// (on the archive's filesystem, so a rename moves a file into place).
// A dot first: CheckKey refuses such keys, so no payload lives there.
const (
	stagingDir  = ".staging"
	stagingDirs = 16
	// staleAfter is the age beyond which Open removes a temp file: its
	// writer crashed (a write takes well under a second).
	staleAfter = time.Hour
)

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
	a := &Archive{root: abs}
	for i := range stagingDirs {
		d := a.staging(i)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("archive: create staging directory: %w", err)
		}
		removeStale(d, time.Now().Add(-staleAfter))
	}
	return a, nil
}

func (a *Archive) staging(i int) string {
	return filepath.Join(a.root, stagingDir, strconv.Itoa(i))
}

// removeStale deletes temp files left in dir by writers that crashed.
func removeStale(dir string, before time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(before) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

var _ events.Stager = (*Archive)(nil)

// Put writes body at key atomically; files are 0600, directories 0700. A
// repeated Put of the same key replaces the file atomically with the same
// bytes.
func (a *Archive) Put(ctx context.Context, key string, body []byte) (events.Ref, error) {
	st, err := a.Stage(ctx, key, body)
	if err != nil {
		return events.Ref{}, err
	}
	return st.Commit(ctx)
}

// Staged is a payload written and synced under a temporary name, not yet
// visible at its key (an events.Staged).
type Staged struct {
	a        *Archive
	key, tmp string
}

// Stage writes body to a temp file next to key's path and syncs it, without
// making it visible: Commit renames it into place, Discard removes it. The
// receiver stages while the delivery is being claimed, so the payload's
// write and sync overlap the claim, and only a claimed delivery's payload
// ever appears at its key.
func (a *Archive) Stage(ctx context.Context, key string, body []byte) (events.Staged, error) {
	if err := events.CheckKey(key); err != nil {
		return nil, fmt.Errorf("archive: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("archive: put %s: %w", key, err)
	}
	path := a.path(key)
	if err := a.mkdir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("archive: put %s: %w", key, err)
	}
	dir := a.staging(int(a.next.Add(1) % stagingDirs))
	tmp, err := writeTemp(dir, path, body)
	if errors.Is(err, fs.ErrNotExist) { // the staging directory was removed under us
		if err = os.MkdirAll(dir, 0o700); err == nil {
			tmp, err = writeTemp(dir, path, body)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("archive: put %s: %w", key, err)
	}
	return &Staged{a: a, key: key, tmp: tmp}, nil
}

// Commit renames the staged file to its key and syncs the directory, so
// once it returns the payload survives a crash. A failed Commit removes the
// temp file.
func (s *Staged) Commit(ctx context.Context) (events.Ref, error) {
	path := s.a.path(s.key)
	err := os.Rename(s.tmp, path)
	if errors.Is(err, fs.ErrNotExist) { // the day's directory was removed since we made it
		s.a.made.Delete(filepath.Dir(path))
		if err = s.a.mkdir(filepath.Dir(path)); err == nil {
			err = os.Rename(s.tmp, path)
		}
	}
	if err != nil {
		os.Remove(s.tmp)
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", s.key, err)
	}
	// The rename is durable only once the directory is synced.
	if err := s.a.dirs.sync(filepath.Dir(path)); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: sync directory: %w", s.key, err)
	}
	return events.Ref{Bucket: Bucket, Key: s.key}, nil
}

// Discard removes the staged file (the delivery was not claimed).
func (s *Staged) Discard() { os.Remove(s.tmp) }

// mkdir creates dir (0700) unless this archive already made sure it exists.
func (a *Archive) mkdir(dir string) error {
	if _, ok := a.made.Load(dir); ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	a.made.Store(dir, true)
	return nil
}

// writeTemp writes body to a temp file in dir named after path, syncs and
// closes it, and returns its name.
func writeTemp(dir, path string, body []byte) (tmp string, err error) {
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return "", err
	}
	tmp = f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(body); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return tmp, nil
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
