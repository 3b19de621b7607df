package wasmruntimereceiver

import (
	"errors"
	"io/fs"
	"syscall"
	"unsafe"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// Reasons a read fails, the values of wasm_runtime.error.reason.
const (
	reasonVanished   = "vanished"
	reasonPermission = "permission"
	reasonMalformed  = "malformed"
	reasonMissing    = "missing"
	// reasonCgroupNamespace counts cgroup paths read in the collector's cgroup namespace that
	// could not be mapped to the mounted hierarchy (see cgroupns.go).
	reasonCgroupNamespace = "cgroup_namespace"
	reasonOther           = "other"
)

var reasons = [...]string{reasonVanished, reasonPermission, reasonMalformed, reasonMissing, reasonCgroupNamespace, reasonOther}

// fileReader reads small kernel files into one reused buffer with raw open/read/close, so a
// read costs three syscalls and no allocation beyond the path. It counts every read.
type fileReader struct {
	buf   []byte
	dents []byte
	reads int64

	// fds keeps the files read at every scrape open, up to maxOpen, so that each later read
	// is one pread(2) at offset 0 (procfs and cgroupfs regenerate the content) instead of
	// open, read and close. Files not read during a scrape are closed at its end.
	fds     map[string]*cachedFD
	maxOpen int
	gen     uint64
	// trace, when set, records every operation (benchmarks replay it as their floor).
	trace *[]traceOp
}

type cachedFD struct {
	fd  int
	gen uint64
}

// traceOp is one recorded read.
type traceOp struct {
	kind byte // 'r' read, 'c' count dir, 'l' list dir, 'k' readlink
	path string
}

func (r *fileReader) record(kind byte, path string) {
	if r.trace != nil {
		*r.trace = append(*r.trace, traceOp{kind, path})
	}
}

func newFileReader() *fileReader {
	return &fileReader{buf: make([]byte, 16<<10), dents: make([]byte, 8<<10), fds: map[string]*cachedFD{}}
}

// readCached reads a file that is read at every scrape, through the open-file cache. The file
// must be a single-record one (see pread); readCachedMulti is for the others.
func (r *fileReader) readCached(path string) ([]byte, error) { return r.cached(path, true) }

// readCachedMulti reads a multi-record seq_file (/proc/<pid>/net/dev) through the cache.
func (r *fileReader) readCachedMulti(path string) ([]byte, error) { return r.cached(path, false) }

func (r *fileReader) cached(path string, single bool) ([]byte, error) {
	if r.maxOpen <= 0 {
		return r.read(path)
	}
	r.reads++
	r.record('r', path)
	if c, ok := r.fds[path]; ok {
		c.gen = r.gen
		if data, err := r.pread(c.fd, single); err == nil {
			return data, nil
		}
		// The process exited (ESRCH) or the cgroup was removed (ENODEV); the path may now
		// name a new one: reopen once.
		syscall.Close(c.fd)
		delete(r.fds, path)
	}
	fd, err := open(path, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	data, err := r.pread(fd, single)
	if err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if len(r.fds) < r.maxOpen {
		r.fds[path] = &cachedFD{fd: fd, gen: r.gen}
	} else {
		syscall.Close(fd)
	}
	return data, nil
}

// pread reads a file from offset 0. For a single-record file (one seq_file show() call:
// /proc/<pid>/stat and status, every cgroup control file, a regular file) the kernel
// produces the whole record before copying, so a read shorter than the buffer is the whole
// file and the read(2) that would return 0 is skipped. Multi-record files (/proc/<pid>/net/*)
// come in page-sized pieces and are read until 0.
func (r *fileReader) pread(fd int, single bool) ([]byte, error) {
	n := 0
	for {
		if n == len(r.buf) && !r.grow() {
			return nil, syscall.EFBIG
		}
		m, err := syscall.Pread(fd, r.buf[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return r.buf[:n], nil
		}
		n += m
		if single && n < len(r.buf) {
			return r.buf[:n], nil
		}
	}
}

// maxFileSize bounds the read buffer: the largest file read is /proc/<pid>/net/tcp{,6} of a busy
// network namespace (about 150 bytes a socket); anything larger is refused as malformed rather
// than letting a hostile or broken file grow the collector's memory without bound.
const maxFileSize = 32 << 20

// grow doubles the read buffer up to maxFileSize; it reports false when it is already there.
func (r *fileReader) grow() bool {
	if len(r.buf) >= maxFileSize {
		return false
	}
	r.buf = append(r.buf, make([]byte, min(len(r.buf), maxFileSize-len(r.buf)))...)
	return true
}

// beginScrape starts a cache generation.
func (r *fileReader) beginScrape() { r.gen++ }

// endScrape closes the cached files that were not read during the scrape.
func (r *fileReader) endScrape() {
	for p, c := range r.fds {
		if c.gen != r.gen {
			syscall.Close(c.fd)
			delete(r.fds, p)
		}
	}
}

// closeAll closes every cached file.
func (r *fileReader) closeAll() {
	for p, c := range r.fds {
		syscall.Close(c.fd)
		delete(r.fds, p)
	}
}

// read returns the file's content; the slice is valid until the next read.
func (r *fileReader) read(path string) ([]byte, error) {
	r.reads++
	r.record('r', path)
	fd, err := open(path, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(r.buf) && !r.grow() {
			return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EFBIG}
		}
		m, err := syscall.Read(fd, r.buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		// Read until read(2) returns 0: a short read is not the end of a procfs file
		// (/proc/<pid>/net/tcp comes in page-sized chunks).
		if m == 0 {
			return r.buf[:n], nil
		}
		n += m
	}
}

// countDir counts the entries of a directory (other than . and ..) with getdents64, without
// allocating per entry: /proc/<pid>/fd of a process with thousands of descriptors is one
// open and a few getdents calls.
func (r *fileReader) countDir(path string) (int64, error) {
	r.reads++
	r.record('c', path)
	fd, err := open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var count int64
	for {
		n, err := syscall.Getdents(fd, r.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return count, nil
		}
		buf := r.dents[:n]
		for len(buf) >= 19 {
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
			if reclen < 24 || reclen > len(buf) {
				break
			}
			if !isDotName(buf[19:reclen]) {
				count++
			}
			buf = buf[reclen:]
		}
	}
}

func isDotName(name []byte) bool {
	return name[0] == '.' && (name[1] == 0 || name[1] == '.' && name[2] == 0)
}

// listPIDs appends the numeric entries of a /proc directory to dst.
func (r *fileReader) listPIDs(path string, dst []int) ([]int, error) {
	r.reads++
	r.record('l', path)
	fd, err := open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return dst, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	for {
		n, err := syscall.Getdents(fd, r.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return dst, &fs.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return dst, nil
		}
		buf := r.dents[:n]
		for len(buf) >= 19 {
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
			if reclen < 24 || reclen > len(buf) {
				break
			}
			pid := 0
			if buf[19] == 0 {
				pid = -1
			}
			for _, c := range buf[19:reclen] {
				if c == 0 {
					break
				}
				if c < '0' || c > '9' || pid > 1<<30 {
					pid = -1
					break
				}
				pid = pid*10 + int(c-'0')
			}
			if pid >= 0 {
				dst = append(dst, pid)
			}
			buf = buf[reclen:]
		}
	}
}

// readlink reads a symbolic link such as /proc/<pid>/exe.
func (r *fileReader) readlink(path string) (string, error) {
	r.reads++
	r.record('k', path)
	var b [512]byte
	for {
		n, err := syscall.Readlink(path, b[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", &fs.PathError{Op: "readlink", Path: path, Err: err}
		}
		return string(b[:n]), nil
	}
}

// readlinkInto reads a link into the reader's buffer (valid until the next call).
func (r *fileReader) readlinkInto(path string) ([]byte, error) {
	r.reads++
	r.record('k', path)
	for {
		n, err := syscall.Readlink(path, r.buf[:256])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readlink", Path: path, Err: err}
		}
		return r.buf[:n], nil
	}
}

func open(path string, flags int) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// classify maps a read or parse error to a reason.
func classify(err error) string {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ESRCH):
		return reasonVanished
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return reasonPermission
	case errors.Is(err, proc.ErrMalformed), errors.Is(err, cgroup.ErrMalformed), errors.Is(err, syscall.EFBIG):
		return reasonMalformed
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.EOPNOTSUPP):
		return reasonMissing
	}
	return reasonOther
}
