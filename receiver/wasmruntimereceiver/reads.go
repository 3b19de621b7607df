package wasmruntimereceiver

import (
	"errors"
	"os"
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

func pageSize() int { return os.Getpagesize() }
