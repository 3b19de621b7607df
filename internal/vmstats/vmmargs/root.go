package vmmargs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// Root is the directory a VMM calls "/", reached through procfs (<proc root>/<pid>/root): a
// jailed Firecracker's chroot, a containerised VMM's mount namespace. Absolute paths from the
// VMM's command line are resolved inside it with openat2(RESOLVE_IN_ROOT): "..", absolute
// symlinks and magic links cannot leave it, whatever the VMM put in its tree. Relative paths
// are the VMM's own (it opens them from its working directory: Firecracker's fs::read_to_string
// and open_file_nonblock, Cloud Hypervisor's UnixListener::bind): they are resolved beneath
// Cwd (<proc root>/<pid>/cwd) with RESOLVE_BENEATH, so that "..", an absolute symlink or a
// magic link is refused rather than followed out of it.
type Root struct {
	Dir string
	// Cwd is the VMM's working directory; empty: relative paths are refused.
	Cwd string
}

// ProcessRoot returns the root and working directory of the process whose procfs directory
// is dir ("<proc root>/<pid>/", with its slash).
func ProcessRoot(dir string) Root {
	return Root{Dir: dir + "root", Cwd: dir + "cwd"}
}

// Open opens path inside the root (absolute) or beneath the working directory (relative)
// with flags (O_CLOEXEC is added).
func (r Root) Open(path string, flags int) (int, error) {
	base, resolve, what := r.Dir, uint64(unix.RESOLVE_IN_ROOT), "root"
	if !filepath.IsAbs(path) {
		if r.Cwd == "" {
			return -1, fmt.Errorf("%s: a relative path, and the VMM's working directory is not known", path)
		}
		base, resolve, what = r.Cwd, unix.RESOLVE_BENEATH, "working directory"
	}
	dir, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("VMM %s %s: %w", what, base, err)
	}
	defer unix.Close(dir)
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve | unix.RESOLVE_NO_MAGICLINKS}
	for tries := 0; ; tries++ {
		fd, err := unix.Openat2(dir, path, &how)
		// EAGAIN: a rename raced the lookup (openat2(2)); retried a few times.
		if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && tries < 3 {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("%s inside VMM %s %s: %w", path, what, base, err)
		}
		return fd, nil
	}
}

// ReadFile reads the regular file at path (see Open), refusing one larger than max bytes. It
// is opened non-blocking and checked to be a regular file before it is read: a FIFO or a
// device the VMM put there must not stall the collector.
func (r Root) ReadFile(path string, max int) ([]byte, error) {
	fd, err := r.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if err != nil {
		return nil, err
	}
	defer func() {
		if fd >= 0 {
			unix.Close(fd)
		}
	}()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, linuxfs.ErrMalformed)
	}
	if st.Size > int64(max) {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than %d", path, linuxfs.ErrMalformed, st.Size, max)
	}
	f := os.NewFile(uintptr(fd), path)
	fd = -1 // f owns it now
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, linuxfs.ErrMalformed, max)
	}
	return data, nil
}

// Stat stats path inside the root, following symlinks within it.
func (r Root) Stat(path string, st *syscall.Stat_t) error {
	fd, err := r.Open(path, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := syscall.Fstat(fd, st); err != nil {
		return fmt.Errorf("%s inside VMM root %s: %w", path, r.Dir, err)
	}
	return nil
}

// DialUnix connects to the Unix socket at path inside the root, if the owner of the root's
// parent (<proc>/<pid>: the process's user) owns it. The socket is opened O_PATH
// inside the root and connected through /proc/self/fd/<n>, which names that very inode
// (systemd connects long socket paths the same way, src/basic/socket-util.c
// connect_unix_path): the kernel's own lookup of the address never sees the VMM's path.
func (r Root) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	fd, err := r.Open(path, unix.O_PATH)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("%s inside VMM root %s: %w", path, r.Dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, fmt.Errorf("%s inside VMM root %s: not a socket", path, r.Dir)
	}
	// A VMM creates its API socket itself: one of another user (a daemon's socket mounted into
	// a container's root) is not the VMM's, and the collector may have more rights than it.
	var owner unix.Stat_t
	if err := unix.Stat(filepath.Dir(r.Dir), &owner); err != nil {
		return nil, fmt.Errorf("VMM root %s: %w", r.Dir, err)
	}
	if st.Uid != owner.Uid {
		return nil, fmt.Errorf("%s inside VMM root %s: owned by uid %d, not by the VMM's uid %d; not connected", path, r.Dir, st.Uid, owner.Uid)
	}
	return (&net.Dialer{}).DialContext(ctx, "unix", "/proc/self/fd/"+strconv.Itoa(fd))
}
