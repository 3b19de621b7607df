package vmmargs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Root is the directory a VMM calls "/", reached through procfs (<proc root>/<pid>/root): a
// jailed Firecracker's chroot, a containerised VMM's mount namespace. Paths from the VMM's
// command line are resolved inside it with openat2(RESOLVE_IN_ROOT): "..", absolute symlinks
// and magic links cannot leave it, whatever the VMM put in its tree.
type Root struct {
	Dir string
}

// ProcRoot returns the root of process pid under procRoot ("/proc", or the host's procfs
// under root_path).
func ProcRoot(procRoot string, pid int) Root {
	return Root{Dir: procRoot + "/" + strconv.Itoa(pid) + "/root"}
}

// Open opens path inside the root with flags (O_CLOEXEC is added).
func (r Root) Open(path string, flags int) (int, error) {
	dir, err := unix.Open(r.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("VMM root %s: %w", r.Dir, err)
	}
	defer unix.Close(dir)
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for tries := 0; ; tries++ {
		fd, err := unix.Openat2(dir, path, &how)
		// EAGAIN: a rename raced the lookup (openat2(2)); retried a few times.
		if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && tries < 3 {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("%s inside VMM root %s: %w", path, r.Dir, err)
		}
		return fd, nil
	}
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
