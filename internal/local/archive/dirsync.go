package archive

import (
	"os"
	"sync"
)

// dirSyncers makes directory fsyncs shared: concurrent Puts into the same
// directory (same day and event) are covered by one fsync that starts after
// all their renames, instead of one fsync each.
type dirSyncers struct {
	mu   sync.Mutex
	dirs map[string]*dirSyncer
}

type dirSyncer struct {
	mu        sync.Mutex
	cond      *sync.Cond
	requested uint64 // renames announced so far
	completed uint64 // renames known to be durable
	running   bool
}

func (d *dirSyncers) get(dir string) *dirSyncer {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirs == nil {
		d.dirs = map[string]*dirSyncer{}
	}
	s := d.dirs[dir]
	if s == nil {
		s = &dirSyncer{}
		s.cond = sync.NewCond(&s.mu)
		d.dirs[dir] = s
	}
	return s
}

// sync returns once an fsync of dir that started after the caller's rename
// has succeeded. If the fsync a caller led fails, it gets the error and the
// waiters try again themselves.
func (d *dirSyncers) sync(dir string) error {
	s := d.get(dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requested++
	mine := s.requested
	for s.completed < mine {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		covers := s.requested
		s.mu.Unlock()
		err := fsyncDir(dir)
		s.mu.Lock()
		s.running = false
		if err != nil {
			s.cond.Broadcast()
			return err
		}
		s.completed = max(s.completed, covers)
		s.cond.Broadcast()
	}
	return nil
}

func fsyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
