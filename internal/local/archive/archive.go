// Package archive is the embedded shape's events.Archive, in two tiers.
//
// Small payloads (at most Options.SmallMax bytes, 1 MiB by default: almost
// every webhook) are rows of the table archive_payloads in the SQLite
// database of the claims and the bus, written by that database's group
// commit (local.Committer): one fsync makes a whole batch of deliveries'
// payloads durable together with their claims and bus events. Large
// payloads are files under one root directory, written atomically (temp
// file in a staging directory of the root, fsync, rename into place, fsync
// of the directory), so a reader or a restart after a crash never finds a
// partial payload.
//
// Why two tiers: a file per delivery costs a new inode, and creating one is
// what limits file-per-payload ingest (measured on a 2-core VM's ext4: 0.1
// to 1 ms of kernel CPU per file, under 900 deliveries/s end to end, where
// the database tier sustains well over 2,000/s; see BenchmarkIngestHTTP in
// test/ingest). For a 25 MB payload the inode is noise and a file avoids
// writing it twice (SQLite's log, then its checkpoint).
//
// Either way a payload is read back by its key with Get, and
// `ai3 payloads get KEY` prints one.
//
// Wiring (cmd/ai3 dev):
//
//	commits := local.NewCommitter(env.DB, writeLock) // shared with claims
//	a, err := archive.Open(ctx, filepath.Join(env.DataDir, "payloads"), archive.Options{Committer: commits})
//	env.Check("archive", a.Check)
//	// the receiver stores with a.Put(ctx, key, body); handlers read with events.Load(ctx, a, env)
package archive

import (
	"bytes"
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
	"github.com/sbalswa/ai3-mvp/internal/local"
)

// Bucket is the Ref.Bucket of every payload this archive stores.
const Bucket = "local-archive"

// DefaultSmallMax is the largest payload kept in the database by default.
const DefaultSmallMax = 1 << 20

// Options configure an archive; the zero value keeps every payload as a
// file.
type Options struct {
	// Committer, when set, keeps payloads of at most SmallMax bytes in its
	// database, written by its group commit.
	Committer *local.Committer
	// SmallMax is the largest payload kept in the database; default
	// DefaultSmallMax. Larger payloads are files.
	SmallMax int
}

// Archive stores payloads as database rows and files under a root
// directory. Its methods are safe for concurrent use.
type Archive struct {
	root string
	db   *dbTier // nil: files only
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

// Open returns the archive rooted at dir, creating it (0700) if needed, and
// the payload table in the committer's database if one is given.
func Open(ctx context.Context, dir string, opts Options) (*Archive, error) {
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
	if opts.Committer != nil {
		if a.db, err = openDBTier(ctx, opts); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Close releases the database tier's prepared statements (not the
// database).
func (a *Archive) Close() error {
	if a.db != nil {
		return a.db.close()
	}
	return nil
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

// Put stores body at key durably and atomically; files are 0600,
// directories 0700. It never replaces an archived payload: a repeated Put
// of the same bytes (a redelivery) succeeds, one of other bytes fails with
// events.ErrArchived.
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
	body     []byte
}

// Stage prepares body for key without making it visible: a large payload
// is written to a temp file and synced (Commit renames it into place,
// Discard removes it); a small one is only held (Commit writes it in the
// database's next group commit). The
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
	if a.db != nil && len(body) <= a.db.smallMax {
		encoding, stored := encode(body)
		return &dbStaged{a: a, key: key, encoding: encoding, size: len(body), sum: checksum(body), body: stored, raw: body}, nil
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
	return &Staged{a: a, key: key, tmp: tmp, body: body}, nil
}

// Commit links the staged file at its key and syncs the directory, so once
// it returns the payload survives a crash. A link, unlike a rename, fails
// when the key exists: an archived payload is never replaced (the same bytes
// are accepted as already there, other bytes are events.ErrArchived). The
// temp file is removed either way.
func (s *Staged) Commit(ctx context.Context) (events.Ref, error) {
	defer os.Remove(s.tmp)
	ref := events.Ref{Bucket: Bucket, Key: s.key}
	if s.a.db != nil { // a small payload at this key would hide the file
		switch have, err := s.a.db.get(ctx, s.key); {
		case err == nil:
			return sameOrArchived(ref, have, s.body)
		case !errors.Is(err, events.ErrNotFound):
			return events.Ref{}, fmt.Errorf("archive: put %s: %w", s.key, err)
		}
	}
	path := s.a.path(s.key)
	err := os.Link(s.tmp, path)
	if errors.Is(err, fs.ErrNotExist) { // the day's directory was removed since we made it
		s.a.made.Delete(filepath.Dir(path))
		if err = s.a.mkdir(filepath.Dir(path)); err == nil {
			err = os.Link(s.tmp, path)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		have, rerr := os.ReadFile(path)
		if rerr != nil {
			return events.Ref{}, fmt.Errorf("archive: put %s: the key exists: %w", s.key, rerr)
		}
		return sameOrArchived(ref, have, s.body)
	}
	if err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", s.key, err)
	}
	// The link is durable only once the directory is synced.
	if err := s.a.dirs.sync(filepath.Dir(path)); err != nil {
		return events.Ref{}, fmt.Errorf("archive: put %s: sync directory: %w", s.key, err)
	}
	return ref, nil
}

// sameOrArchived answers a Put that found have archived at its key: the
// same bytes are that Put done already, other bytes events.ErrArchived.
func sameOrArchived(ref events.Ref, have, body []byte) (events.Ref, error) {
	if !bytes.Equal(have, body) {
		return events.Ref{}, fmt.Errorf("archive: put %s: %w", ref.Key, events.ErrArchived)
	}
	return ref, nil
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
	if a.db != nil {
		body, err := a.db.get(ctx, ref.Key)
		if err == nil || !errors.Is(err, events.ErrNotFound) {
			return body, err
		}
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

// Check reports whether the root directory is usable and the payload table
// answers (for GET /healthz).
func (a *Archive) Check(ctx context.Context) error {
	f, err := os.CreateTemp(a.root, ".check-*")
	if err != nil {
		return fmt.Errorf("archive: root %s not writable: %w", a.root, err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("archive: root %s: %w", a.root, err)
	}
	if a.db != nil {
		return a.db.check(ctx)
	}
	return nil
}

func (a *Archive) path(key string) string {
	return filepath.Join(a.root, filepath.FromSlash(key))
}
