package firecracker

import (
	"errors"
	"fmt"
	"syscall"
)

// Source reads a metrics file or FIFO without blocking and feeds an Accumulator. Regular
// files are read from the start (Firecracker appends, so the whole history is there) and
// followed by offset; a file that shrank was truncated and is read again from 0. A FIFO is
// drained: Firecracker opens it non-blocking read-write (src/vmm/src/logger/mod.rs, the
// metrics writer) and drops a flush when its buffer is full, so draining at every scrape
// keeps flushes from being lost.
type Source struct {
	Path string
	// MaxReadBytes bounds one Poll (default 1 MiB): a file written faster than that is
	// caught up over several scrapes, never read whole into memory.
	MaxReadBytes int
	// Open and Stat, when set, replace open(2) and stat(2) of Path: a path found on a VMM's
	// command line is resolved inside that VMM's root (vmmargs.Root).
	Open func(path string, flags int) (int, error)
	Stat func(path string, st *syscall.Stat_t) error

	acc    *Accumulator
	fd     int
	fifo   bool
	ino    uint64
	offset int64
	buf    []byte
}

// NewSource returns a Source for path feeding acc. Nothing is opened until Poll.
func NewSource(path string, acc *Accumulator) *Source {
	return &Source{Path: path, acc: acc, fd: -1}
}

// Accumulator returns the accumulator the source feeds.
func (s *Source) Accumulator() *Accumulator { return s.acc }

// Poll reads what was written since the previous Poll, up to MaxReadBytes.
func (s *Source) Poll() error {
	if s.MaxReadBytes <= 0 {
		s.MaxReadBytes = 1 << 20
	}
	if len(s.buf) == 0 {
		s.buf = make([]byte, 64<<10)
	}
	var st syscall.Stat_t
	stat, open := syscall.Stat, func(path string, flags int) (int, error) { return syscall.Open(path, flags, 0) }
	if s.Stat != nil {
		stat = s.Stat
	}
	if s.Open != nil {
		open = s.Open
	}
	if err := stat(s.Path, &st); err != nil {
		s.Close()
		return fmt.Errorf("firecracker metrics %s: %w", s.Path, err)
	}
	if s.fd >= 0 && st.Ino != s.ino {
		s.Close() // replaced (a restarted VMM, log rotation)
	}
	if t := st.Mode & syscall.S_IFMT; t != syscall.S_IFREG && t != syscall.S_IFIFO {
		s.Close() // checked before opening: opening a device can act on it
		return fmt.Errorf("firecracker metrics %s: neither a regular file nor a FIFO", s.Path)
	}
	if s.fd < 0 {
		fd, err := open(s.Path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC)
		if err != nil {
			return fmt.Errorf("firecracker metrics %s: %w", s.Path, err)
		}
		// What was opened is checked again: the path may have been swapped since the stat.
		if err := syscall.Fstat(fd, &st); err != nil || (st.Mode&syscall.S_IFMT != syscall.S_IFREG && st.Mode&syscall.S_IFMT != syscall.S_IFIFO) {
			syscall.Close(fd)
			return fmt.Errorf("firecracker metrics %s: changed while opened, or neither a regular file nor a FIFO", s.Path)
		}
		s.fd, s.ino, s.offset = fd, st.Ino, 0
		s.fifo = st.Mode&syscall.S_IFMT == syscall.S_IFIFO
	}
	if !s.fifo && st.Size < s.offset {
		s.offset = 0 // truncated
		s.acc.pending, s.acc.skip = s.acc.pending[:0], false
	}
	read := 0
	for read < s.MaxReadBytes {
		want := min(len(s.buf), s.MaxReadBytes-read)
		var n int
		var err error
		if s.fifo {
			n, err = syscall.Read(s.fd, s.buf[:want])
		} else {
			n, err = syscall.Pread(s.fd, s.buf[:want], s.offset)
		}
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EAGAIN) || n == 0 {
			return nil // nothing more now (a FIFO without a writer reads 0 too)
		}
		if err != nil {
			return fmt.Errorf("firecracker metrics %s: %w", s.Path, err)
		}
		s.offset += int64(n)
		read += n
		s.acc.Write(s.buf[:n])
	}
	return nil
}

// Close releases the descriptor.
func (s *Source) Close() {
	if s.fd >= 0 {
		syscall.Close(s.fd)
		s.fd = -1
	}
}
