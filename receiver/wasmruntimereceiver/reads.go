package wasmruntimereceiver

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// readStat reads a file that changes between scrapes (a usage counter) through the open-file
// cache: one pread once it is open, and no path built.
func (s *scraperImpl) readStat(dir, name string) ([]byte, bool) {
	data, err := s.r.ReadCachedAt(dir, name)
	if err != nil {
		s.errs.FailIn(dir, err)
		return nil, false
	}
	return data, true
}

// readFile reads a file that is re-read only when its cache expires (a limit).
func (s *scraperImpl) readFile(dir, name string) ([]byte, bool) {
	data, err := s.r.Read(dir + "/" + name)
	if err != nil {
		s.errs.FailIn(dir, err)
		return nil, false
	}
	return data, true
}

// readOptional is readFile for a file a cgroup may lack without anything being wrong: the root
// has no cpu.max or memory.max, a kernel without swap accounting no memory.swap.max.
func (s *scraperImpl) readOptional(dir, name string) ([]byte, bool) {
	data, err := s.r.Read(dir + "/" + name)
	if err != nil {
		if !errors.Is(err, syscall.ENOENT) {
			s.errs.FailIn(dir, err)
		}
		return nil, false
	}
	return data, true
}

// dirKey is a cgroup directory as a hierarchy's mount and the cgroup's path in it.
type dirKey struct{ mount, rel string }

type dirEntry struct {
	dir string
	gen uint64
}

// cgroupDir is filepath.Join(mount, rel), kept from one scrape to the next: every instance
// reads several files of the same few directories at every scrape, and joining their paths
// anew was a tenth of a scrape's CPU and a third of its allocated bytes. Directories not
// used during a scrape are dropped at its end (pruneDirs).
func (s *scraperImpl) cgroupDir(mount, rel string) string {
	k := dirKey{mount, rel}
	e, ok := s.dirs[k]
	if ok && e.gen == s.gen {
		return e.dir
	}
	if !ok {
		e.dir = filepath.Join(mount, rel)
	}
	e.gen = s.gen
	s.dirs[k] = e
	return e.dir
}

func (s *scraperImpl) pruneDirs() {
	for k, e := range s.dirs {
		if e.gen != s.gen {
			delete(s.dirs, k)
		}
	}
}

func pageSize() int { return os.Getpagesize() }
