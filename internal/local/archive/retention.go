package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Retention is how long `ai3 dev` keeps archived payloads: the S3 bucket's
// lifecycle rule expires them after the same 90 days.
const Retention = 90 * 24 * time.Hour

// sweepChunk bounds the rows one sweep transaction deletes, so a sweep
// never holds the write lock (and the receivers behind it) for long.
const sweepChunk = 500

// Sweep deletes the payloads archived before cutoff: database rows stored
// before it, and the files of every day (yyyy/mm/dd, UTC, from the key)
// that ended by then. It reports how many payloads it deleted.
func (a *Archive) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	if a.db != nil {
		for {
			m, err := a.db.sweep(ctx, cutoff)
			n += m
			if err != nil {
				return n, fmt.Errorf("archive: sweep payload table: %w", err)
			}
			if m < sweepChunk {
				break
			}
		}
	}
	days, err := a.days()
	if err != nil {
		return n, fmt.Errorf("archive: sweep: %w", err)
	}
	for _, d := range days {
		if d.day.AddDate(0, 0, 1).After(cutoff) {
			break // days are in order
		}
		files := 0
		_ = filepath.WalkDir(d.dir, func(_ string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files++
			}
			return nil
		})
		if err := os.RemoveAll(d.dir); err != nil {
			return n, fmt.Errorf("archive: sweep %s: %w", d.dir, err)
		}
		a.forget(d.dir)
		n += files
	}
	return n, nil
}

func (t *dbTier) sweep(ctx context.Context, cutoff time.Time) (int, error) {
	lock := t.commits.Lock()
	lock.Lock()
	defer lock.Unlock()
	res, err := t.commits.DB().ExecContext(ctx, `DELETE FROM archive_payloads WHERE rowid IN
		(SELECT rowid FROM archive_payloads WHERE stored_at < ? LIMIT ?)`, cutoff.UnixMilli(), sweepChunk)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// forget drops the cached "exists" marks of dir and the directories under
// it, so a later Put recreates them.
func (a *Archive) forget(dir string) {
	a.made.Range(func(k, _ any) bool {
		if p := k.(string); p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			a.made.Delete(k)
		}
		return true
	})
}

type dayDir struct {
	day time.Time
	dir string
}

// days lists the archive's day directories (yyyy/mm/dd), oldest first.
func (a *Archive) days() ([]dayDir, error) {
	var out []dayDir
	years, err := os.ReadDir(a.root)
	if err != nil {
		return nil, err
	}
	for _, y := range years {
		months, _ := os.ReadDir(filepath.Join(a.root, y.Name()))
		for _, m := range months {
			days, _ := os.ReadDir(filepath.Join(a.root, y.Name(), m.Name()))
			for _, d := range days {
				day, err := time.Parse("2006/01/02", y.Name()+"/"+m.Name()+"/"+d.Name())
				if err != nil || !d.IsDir() {
					continue // not a day directory (staging, a stray file)
				}
				out = append(out, dayDir{day, filepath.Join(a.root, y.Name(), m.Name(), d.Name())})
			}
		}
	}
	slices.SortFunc(out, func(x, y dayDir) int { return x.day.Compare(y.day) })
	return out, nil
}

// List returns the keys of the archived payloads that start with prefix,
// sorted, at most limit of them (0: no limit).
func (a *Archive) List(ctx context.Context, prefix string, limit int) ([]string, error) {
	seen := map[string]bool{}
	if a.db != nil {
		rows, err := a.db.commits.DB().QueryContext(ctx,
			`SELECT key FROM archive_payloads WHERE substr(key, 1, length(?1)) = ?1`, prefix)
		if err != nil {
			return nil, fmt.Errorf("archive: list: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("archive: list: %w", err)
			}
			seen[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("archive: list: %w", err)
		}
	}
	err := filepath.WalkDir(a.root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(a.root, path)
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			if strings.HasPrefix(e.Name(), ".") && path != a.root {
				return filepath.SkipDir // staging
			}
			if path != a.root && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir // outside the prefix
			}
			return nil
		}
		if strings.HasPrefix(key, prefix) && events.CheckKey(key) == nil {
			seen[key] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: list: %w", err)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return keys, nil
}
