package wasmmem

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// FileReader is how the package reads files: Read returns the whole file in a buffer that
// stays valid until the next call. The receiver's file layer implements it; FileBuffer is a
// plain one.
type FileReader interface {
	Read(path string) ([]byte, error)
}

// ErrTooLarge is returned for a file past a FileBuffer's limit.
var ErrTooLarge = errors.New("file too large")

// FileBuffer reads files into one reused buffer. After warm-up it allocates only what os.Open
// does (the *os.File).
type FileBuffer struct {
	// Max bounds a file's size (0: 64 MiB). smaps of a process with 1,000 linear memories is
	// about 4 MiB.
	Max int
	buf []byte
}

// Read implements FileReader.
func (f *FileBuffer) Read(path string) ([]byte, error) {
	max := f.Max
	if max <= 0 {
		max = 64 << 20
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if f.buf == nil {
		f.buf = make([]byte, 0, 64<<10)
	}
	b := f.buf[:0]
	for {
		if len(b) > max {
			f.buf = b
			return nil, fmt.Errorf("%s: %w (over %d bytes)", path, ErrTooLarge, max)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := file.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF || n == 0 && err == nil {
			break
		}
		if err != nil {
			f.buf = b
			return nil, err
		}
	}
	f.buf = b
	return b, nil
}

// SmapsPath names a process's smaps under procRoot ("/proc" on a host, the host's /proc
// mount in a container). Keep the string per process: building it allocates.
func SmapsPath(procRoot string, pid int) string {
	return procRoot + "/" + strconv.Itoa(pid) + "/smaps"
}

// RollupPath names a process's smaps_rollup.
func RollupPath(procRoot string, pid int) string { return SmapsPath(procRoot, pid) + "_rollup" }

// Cadence says when to read smaps: every Every-th collection (1 or less: every one), the
// first collection included. smaps costs a page-table walk per mapping in the kernel, so it is
// read less often than the cheap per-process files.
type Cadence struct {
	Every int
	n     int
}

// Due reports whether this collection reads smaps, and counts it.
func (c *Cadence) Due() bool {
	due := c.n == 0
	c.n++
	if c.Every <= 1 || c.n >= c.Every {
		c.n = 0
	}
	return due || c.Every <= 1
}
