// Package linuxfs is the one layer through which otelcol-virt reads /proc and cgroup files: raw
// open/read/close into one reused buffer, a cache of open descriptors re-read with one pread
// each, directory listings with getdents64 and no allocation per entry, and the classification
// of what went wrong into the reasons every component reports. A Reader is not safe for
// concurrent use: each goroutine that reads owns one.
package linuxfs

import (
	"bytes"
	"io/fs"
	"os"
	"syscall"
	"unsafe"
)

// Reader reads small kernel files into one reused buffer with raw open/read/close, so a
// read costs three syscalls and no allocation beyond the path. It counts every read.
type Reader struct {
	buf   []byte
	dents []byte
	reads int64
	// path is where ReadCachedAt joins a directory and a file name, so that a read of an open
	// file builds no string: the map lookup by string(path) does not allocate.
	path []byte

	// fds keeps the files read at every pass open, up to MaxOpen, so that each later read
	// is one pread(2) at offset 0 (procfs and cgroupfs regenerate the content) instead of
	// open, read and close. Files not read during a pass are closed at its end.
	fds     map[string]*cachedFD
	MaxOpen int
	gen     uint64
	// budget is shared with the process's other Readers (see descriptorBudget); uncached
	// counts the reads of files the cache had no room for.
	budget   *descriptorBudget
	uncached int64
	fullTold bool
	// Trace, when set, records every operation (benchmarks replay it as their floor).
	Trace *[]TraceOp
}

type cachedFD struct {
	fd  int
	gen uint64
	// procfs marks a directory on procfs, whose size CountFDs may read (see there).
	procfs bool
}

// TraceOp is one recorded read.
type TraceOp struct {
	Kind byte // 'r' read, 'c' count dir, 'f' count descriptors, 'l' list dir, 'k' readlink
	Path string
}

func (r *Reader) record(kind byte, path string) {
	if r.Trace != nil {
		*r.Trace = append(*r.Trace, TraceOp{kind, path})
	}
}

// New returns a Reader that keeps up to maxOpen files open between passes (0: none).
func New(maxOpen int) *Reader {
	return &Reader{buf: make([]byte, 16<<10), dents: make([]byte, 8<<10), fds: map[string]*cachedFD{}, MaxOpen: maxOpen, budget: &processBudget}
}

// ReadCached reads a file that is read at every pass, through the open-file cache. The file
// must be a single-record one (see pread); ReadCachedMulti is for the others.
func (r *Reader) ReadCached(path string) ([]byte, error) { return r.cached(path, readSingle) }

// ReadCachedMulti reads a multi-record seq_file (/proc/<pid>/net/tcp) through the cache.
func (r *Reader) ReadCachedMulti(path string) ([]byte, error) { return r.cached(path, readMulti) }

// ReadCachedRecords is ReadCachedMulti for a seq_file whose records are at most maxRecord
// bytes (/proc/<pid>/net/dev: one line a device, under 200 bytes). seq_read fills a read with
// whole records until the next one would overflow its page-sized buffer or the records end
// (fs/seq_file.c, seq_read_iter), so a read that leaves room for one more record in that page
// holds the whole file: a small file costs one pread instead of two.
func (r *Reader) ReadCachedRecords(path string, maxRecord int) ([]byte, error) {
	return r.cached(path, readMode(maxRecord))
}

// readMode is readSingle, readMulti, or the largest record of a seq_file (ReadCachedRecords).
type readMode int

const (
	readSingle readMode = -1
	readMulti  readMode = 0
)

// seqPage is the size of a seq_file's buffer, the page size.
var seqPage = os.Getpagesize()

func (r *Reader) cached(path string, mode readMode) ([]byte, error) {
	return r.cachedAt(path, "", mode)
}

// ReadCachedAt is ReadCached of dir + "/" + name. A file the cache holds is read without
// building its path, which is most of what a steady-state read would otherwise allocate (cgroup
// paths of Kubernetes pods run to 200 bytes).
func (r *Reader) ReadCachedAt(dir, name string) ([]byte, error) {
	return r.cachedAt(dir, name, readSingle)
}

// ReadCachedMultiAt is ReadCachedMulti of dir + "/" + name (see ReadCachedAt).
func (r *Reader) ReadCachedMultiAt(dir, name string) ([]byte, error) {
	return r.cachedAt(dir, name, readMulti)
}

// cachedAt reads dir + "/" + name, or dir alone when name is empty.
func (r *Reader) cachedAt(dir, name string, mode readMode) ([]byte, error) {
	if r.MaxOpen <= 0 {
		return r.Read(joinName(dir, name))
	}
	r.reads++
	r.path = append(r.path[:0], dir...)
	if name != "" {
		r.path = append(append(r.path, '/'), name...)
	}
	if r.Trace != nil {
		r.record('r', string(r.path))
	}
	if c, ok := r.fds[string(r.path)]; ok {
		c.gen = r.gen
		if data, err := r.pread(c.fd, mode); err == nil {
			return data, nil
		}
		// The process exited (ESRCH) or the cgroup was removed (ENODEV); the path may now
		// name a new one: reopen once.
		r.drop(string(r.path), c)
	}
	path := string(r.path)
	fd, err := open(path, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	data, err := r.pread(fd, mode)
	if err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if r.admit() {
		r.fds[path] = &cachedFD{fd: fd, gen: r.gen}
	} else {
		syscall.Close(fd)
	}
	return data, nil
}

func joinName(dir, name string) string {
	if name == "" {
		return dir
	}
	return dir + "/" + name
}

// pread reads a file from offset 0. For a single-record file (one seq_file show() call:
// /proc/<pid>/stat and status, every cgroup control file, a regular file) the kernel
// produces the whole record before copying, so a read shorter than the buffer is the whole
// file and the read(2) that would return 0 is skipped. Multi-record files (/proc/<pid>/net/*)
// come in page-sized pieces and are read until 0, or until a read short of a page by more than
// their largest record (readMode > 0).
func (r *Reader) pread(fd int, mode readMode) ([]byte, error) {
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
		if mode == readSingle && n < len(r.buf) {
			return r.buf[:n], nil
		}
		// Only the first read is judged: a file that filled a page is read until 0.
		if mode > 0 && n == m && m+int(mode) <= seqPage && n < len(r.buf) {
			return r.buf[:n], nil
		}
	}
}

// maxFileSize bounds the read buffer: the largest file read is /proc/<pid>/net/tcp{,6} of a busy
// network namespace (about 150 bytes a socket); anything larger is refused as malformed rather
// than letting a hostile or broken file grow the collector's memory without bound.
const maxFileSize = 32 << 20

// grow doubles the read buffer up to maxFileSize; it reports false when it is already there.
func (r *Reader) grow() bool {
	if len(r.buf) >= maxFileSize {
		return false
	}
	r.buf = append(r.buf, make([]byte, min(len(r.buf), maxFileSize-len(r.buf)))...)
	return true
}

// BeginPass starts a cache generation.
func (r *Reader) BeginPass() { r.gen++ }

// EndPass closes the cached files that were not read during the pass.
func (r *Reader) EndPass() {
	for p, c := range r.fds {
		if c.gen != r.gen {
			r.drop(p, c)
		}
	}
}

// CloseAll closes every cached file.
func (r *Reader) CloseAll() {
	for p, c := range r.fds {
		r.drop(p, c)
	}
}

// admit reports whether the cache may keep one more file open: below the Reader's MaxOpen and
// within the process's descriptor budget. A file refused is read with open, read and close
// (counted in Uncached); those already held stay, so a cache too small for the host keeps a
// fixed set open instead of cycling through every file.
func (r *Reader) admit() bool {
	if len(r.fds) < r.MaxOpen && r.budget.take() {
		return true
	}
	r.uncached++
	return false
}

// drop closes a cached file and gives its descriptor back to the budget.
func (r *Reader) drop(path string, c *cachedFD) {
	syscall.Close(c.fd)
	delete(r.fds, path)
	r.budget.release()
}

// Read returns the file's content; the slice is valid until the next read.
func (r *Reader) Read(path string) ([]byte, error) {
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

// CountDir counts the entries of a directory (other than . and ..) with getdents64, without
// allocating per entry: /proc/<pid>/fd of a process with thousands of descriptors is one
// open and a few getdents calls.
func (r *Reader) CountDir(path string) (int64, error) {
	r.reads++
	r.record('c', path)
	var count int64
	err := r.scanDir(path, func([]byte) { count++ })
	return count, err
}

// ListNumeric appends the numeric entries of a directory (/proc, /proc/<pid>/fd) to dst.
func (r *Reader) ListNumeric(path string, dst []int) ([]int, error) {
	r.reads++
	r.record('l', path)
	err := r.scanDir(path, func(name []byte) {
		pid := 0
		for _, c := range name {
			if c < '0' || c > '9' || pid > 1<<30 {
				return
			}
			pid = pid*10 + int(c-'0')
		}
		dst = append(dst, pid)
	})
	return dst, err
}

// ListNames appends the names of a directory's entries (other than . and ..) to dst: the
// devices of /sys/class/net, the VM directories of KVM's debugfs.
func (r *Reader) ListNames(path string, dst []string) ([]string, error) {
	r.reads++
	r.record('l', path)
	err := r.scanDir(path, func(name []byte) { dst = append(dst, string(name)) })
	return dst, err
}

// scanDir calls fn with the name of every entry of a directory but . and .., read with
// getdents64 into the reader's buffer; name aliases it.
func (r *Reader) scanDir(path string, fn func(name []byte)) error {
	fd, err := open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	if err := r.scanFD(fd, fn); err != nil {
		return &fs.PathError{Op: "getdents", Path: path, Err: err}
	}
	return nil
}

// scanFD lists an open directory from its current offset to its end.
func (r *Reader) scanFD(fd int, fn func(name []byte)) error {
	for {
		n, err := syscall.Getdents(fd, r.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		buf := r.dents[:n]
		for len(buf) >= 19 {
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
			if reclen < 24 || reclen > len(buf) {
				break
			}
			name := buf[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) > 0 && string(name) != "." && string(name) != ".." {
				fn(name)
			}
			buf = buf[reclen:]
		}
	}
}

// procSuperMagic is PROC_SUPER_MAGIC of include/uapi/linux/magic.h.
const procSuperMagic = 0x9fa0

// CountFDs counts the open descriptors of a process, the entries of its /proc/<pid>/fd. The
// directory is held open by the cache like a file, and on procfs its size is the count: since
// Linux 6.2 fs/proc/fd.c proc_fd_getattr puts "the number of open fds" (bitmap_weight of the
// process's open_fds) in st_size, so a scrape pays one fstat instead of open, two getdents and
// close. A directory elsewhere (fixture trees) or of size 0 (older kernels, which report 0; a
// process without descriptors) is listed from the start instead. Opening the directory is what
// checks the permission to read it, as listing does.
func (r *Reader) CountFDs(path string) (int64, error) {
	r.reads++
	r.record('f', path)
	if r.MaxOpen <= 0 {
		var n int64
		err := r.scanDir(path, func([]byte) { n++ })
		return n, err
	}
	if c, ok := r.fds[path]; ok {
		c.gen = r.gen
		if n, err := r.countFD(c); err == nil {
			return n, nil
		}
		// The process exited (ENOENT): the path may name a new one now.
		r.drop(path, c)
	}
	fd, err := open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	c := &cachedFD{fd: fd, gen: r.gen}
	var sfs syscall.Statfs_t
	if err := syscall.Fstatfs(fd, &sfs); err == nil && sfs.Type == procSuperMagic {
		c.procfs = true
	}
	n, err := r.countFD(c)
	if err != nil {
		syscall.Close(fd)
		return 0, &fs.PathError{Op: "getdents", Path: path, Err: err}
	}
	if r.admit() {
		r.fds[path] = c
	} else {
		syscall.Close(fd)
	}
	return n, nil
}

func (r *Reader) countFD(c *cachedFD) (int64, error) {
	if c.procfs {
		var st syscall.Stat_t
		if err := syscall.Fstat(c.fd, &st); err != nil {
			return 0, err
		}
		if st.Size > 0 {
			return st.Size, nil
		}
	}
	if _, err := syscall.Seek(c.fd, 0, 0); err != nil {
		return 0, err
	}
	var n int64
	err := r.scanFD(c.fd, func([]byte) { n++ })
	return n, err
}

// Readlink reads a symbolic link such as /proc/<pid>/exe.
func (r *Reader) Readlink(path string) (string, error) {
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

// ReadlinkInto reads a link into the reader's buffer (valid until the next call).
func (r *Reader) ReadlinkInto(path string) ([]byte, error) {
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

// Reads counts every read, listing and readlink since the Reader was made.
func (r *Reader) Reads() int64 { return r.reads }

// Uncached counts the reads, since the Reader was made, of files the cache had no room for
// (MaxOpen or the descriptor budget reached): each cost an open and a close more.
func (r *Reader) Uncached() int64 { return r.uncached }

// NewlyFull reports, once in the Reader's life, that the cache has refused a file: the moment
// to tell the user that the descriptor limit or MaxOpen is too small for the host.
func (r *Reader) NewlyFull() bool {
	if r.uncached == 0 || r.fullTold {
		return false
	}
	r.fullTold = true
	return true
}

// OpenFiles is the number of descriptors the cache holds.
func (r *Reader) OpenFiles() int { return len(r.fds) }

// ShrinkBuffer drops a buffer that a huge file (the TCP table of a busy host) grew past 1 MiB,
// so that one large read does not pin its memory for the life of the collector.
func (r *Reader) ShrinkBuffer() {
	if len(r.buf) > 1<<20 {
		r.buf = make([]byte, 16<<10)
	}
}

// Cached reports whether path is held open by the descriptor cache.
func (r *Reader) Cached(path string) bool {
	_, ok := r.fds[path]
	return ok
}
