package vmstats

import (
	"io/fs"
	"strings"
	"syscall"
	"unsafe"
)

// Files is the file layer every reader of this package goes through. The receiver's own
// layer implements it; OSFiles is a standalone implementation for tools and tests.
type Files interface {
	// Read returns the whole content of a small kernel file. The slice is valid until the
	// next call on the same Files. An implementation may keep the file open and pread it
	// at offset 0 at the next call (procfs regenerates the content).
	Read(path string) ([]byte, error)
	// ReadDir appends the names in a directory (without . and ..) to dst.
	ReadDir(path string, dst []string) ([]string, error)
	// Readlink returns the target of a symbolic link, valid until the next call.
	Readlink(path string) ([]byte, error)
}

// maxFileSize bounds a read: the largest file read here is /proc/<pid>/net/dev of a
// namespace with many devices (about 130 bytes a device).
const maxFileSize = 4 << 20

// OSFiles reads through raw syscalls into one reused buffer and keeps up to MaxOpen files
// open between scrapes, so that a file read at every scrape costs one pread(2).
// Call EndScrape after each scrape to close the files that were not read during it.
// It is not safe for concurrent use.
type OSFiles struct {
	MaxOpen int

	buf   []byte
	dents []byte
	link  [4096]byte
	fds   map[string]*openFile
	gen   uint64
}

type openFile struct {
	fd    int
	gen   uint64
	multi bool
}

// multiRecord reports whether a file is a multi-record seq_file, which comes a page at a
// time and is read until pread returns 0. Every other file read here (stat, schedstat, io,
// fdinfo, a sysfs or debugfs attribute) is produced whole by one show() call, so a read
// shorter than the buffer is the whole file and the read that would return 0 is skipped.
func multiRecord(path string) bool { return strings.Contains(path, "/net/") }

// NewOSFiles returns an OSFiles that keeps up to maxOpen files open (0: none).
func NewOSFiles(maxOpen int) *OSFiles {
	return &OSFiles{MaxOpen: maxOpen, buf: make([]byte, 16<<10), dents: make([]byte, 8<<10), fds: map[string]*openFile{}}
}

// Read implements Files.
func (o *OSFiles) Read(path string) ([]byte, error) {
	if c, ok := o.fds[path]; ok {
		c.gen = o.gen
		if data, err := o.readAt(c.fd, c.multi); err == nil {
			return data, nil
		}
		// The process exited (ESRCH) and the path may now name another one: reopen once.
		syscall.Close(c.fd)
		delete(o.fds, path)
	}
	fd, err := openRetry(path, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	multi := multiRecord(path)
	data, err := o.readAt(fd, multi)
	if err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if len(o.fds) < o.MaxOpen {
		o.fds[path] = &openFile{fd: fd, gen: o.gen, multi: multi}
	} else {
		syscall.Close(fd)
	}
	return data, nil
}

// readAt reads from offset 0: a multi-record file until pread returns 0, any other until a
// read shorter than the buffer.
func (o *OSFiles) readAt(fd int, multi bool) ([]byte, error) {
	n := 0
	for {
		if n == len(o.buf) {
			if len(o.buf) >= maxFileSize {
				return nil, syscall.EFBIG
			}
			o.buf = append(o.buf, make([]byte, min(len(o.buf), maxFileSize-len(o.buf)))...)
		}
		m, err := syscall.Pread(fd, o.buf[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return o.buf[:n], nil
		}
		n += m
		if !multi && n < len(o.buf) {
			return o.buf[:n], nil
		}
	}
}

// EndScrape closes the open files that were not read since the previous EndScrape.
func (o *OSFiles) EndScrape() {
	for p, c := range o.fds {
		if c.gen != o.gen {
			syscall.Close(c.fd)
			delete(o.fds, p)
		}
	}
	o.gen++
}

// Close closes every open file.
func (o *OSFiles) Close() {
	for p, c := range o.fds {
		syscall.Close(c.fd)
		delete(o.fds, p)
	}
}

// ReadDir implements Files with getdents64, allocating only the names.
func (o *OSFiles) ReadDir(path string, dst []string) ([]string, error) {
	fd, err := openRetry(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return dst, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	for {
		n, err := syscall.Getdents(fd, o.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return dst, &fs.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return dst, nil
		}
		buf := o.dents[:n]
		for len(buf) >= 19 {
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
			if reclen < 20 || reclen > len(buf) {
				break
			}
			name := buf[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if s := string(name); s != "." && s != ".." {
				dst = append(dst, s)
			}
			buf = buf[reclen:]
		}
	}
}

// Readlink implements Files.
func (o *OSFiles) Readlink(path string) ([]byte, error) {
	for {
		n, err := syscall.Readlink(path, o.link[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readlink", Path: path, Err: err}
		}
		return o.link[:n], nil
	}
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
