package linuxfs

import (
	"bytes"
	"errors"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// ChangeWatch tells which watched directories had a file written, created or removed since the
// last Drain, through one inotify descriptor. It lets a cache of rarely changing files (a
// cgroup's limits) be served until they change instead of re-read on a timer:
//
//   - every successful write(2), pwrite(2) and writev(2) notifies the watchers of the file's
//     directory (fs/read_write.c vfs_write → fsnotify_modify, brauner/linux 57b4dd77), on
//     cgroupfs too, through whichever mount of the hierarchy the writer used;
//   - the kernel's own changes to cgroup files (memory.events, cgroup.events) notify the same
//     way (fs/kernfs/file.c kernfs_notify_workfn), so a caller filters by file name;
//   - removing a watched cgroup directory sends the watch nothing (cgroupfs keeps the inode's
//     link count), only its parent gets IN_DELETE: a caller watches the parent as well, and
//     Drain reports the removed (or created, or renamed) child so a stale entry is dropped.
//
// A queue overflow (more than fs.inotify.max_queued_events before a Drain) is reported as
// lost, meaning: anything may have changed. A ChangeWatch is not safe for concurrent use.
type ChangeWatch struct {
	fd    int
	err   error // why there is no descriptor (inotify unavailable or refused)
	max   int
	byWD  map[int32]string
	byDir map[string]int32
	buf   []byte
	// full is why the last Watch was refused for lack of watches, kept until one succeeds.
	full error
}

// watchMask: file writes, and subdirectories or files created, removed or renamed.
const watchMask = syscall.IN_MODIFY | syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO |
	syscall.IN_ONLYDIR | syscall.IN_DONT_FOLLOW

// NewChangeWatch returns a watch that holds at most max directories (0: a quarter of the
// user's fs.inotify.max_user_watches, which every inotify user of the same uid shares).
// Without inotify (refused, or too many instances) every Watch reports false and Err says why.
func NewChangeWatch(max int) *ChangeWatch {
	w := &ChangeWatch{fd: -1, byWD: map[int32]string{}, byDir: map[string]int32{}}
	if max <= 0 {
		max = 8192 / 4 // the kernel's smallest default
		if d, err := os.ReadFile("/proc/sys/fs/inotify/max_user_watches"); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(d))); err == nil && n > 0 {
				max = n / 4
			}
		}
	}
	w.max = max
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		w.err = &os.SyscallError{Syscall: "inotify_init1", Err: err}
		return w
	}
	w.fd = fd
	return w
}

// Err is why no directory can be watched, nil when inotify works.
func (w *ChangeWatch) Err() error { return w.err }

// Full is why the last Watch was refused for lack of watches (the cap or the user's
// fs.inotify.max_user_watches), nil once one succeeds again.
func (w *ChangeWatch) Full() error { return w.full }

// Len is the number of watched directories.
func (w *ChangeWatch) Len() int { return len(w.byDir) }

// Watch starts watching dir (no-op when it is watched) and reports whether it is. Call it
// before reading what it guards, so that a write between the read and the watch is not missed.
func (w *ChangeWatch) Watch(dir string) bool {
	if w.fd < 0 {
		return false
	}
	if _, ok := w.byDir[dir]; ok {
		return true
	}
	if len(w.byDir) >= w.max {
		w.full = errors.New("at most " + strconv.Itoa(w.max) + " directories are watched")
		return false
	}
	wd, err := syscall.InotifyAddWatch(w.fd, dir, watchMask)
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			w.full = &os.SyscallError{Syscall: "inotify_add_watch", Err: err}
		}
		return false
	}
	w.full = nil
	// Two paths of one directory (a bind mount, a symlink) share one watch descriptor.
	if old, ok := w.byWD[int32(wd)]; ok && old != dir {
		delete(w.byDir, old)
	}
	w.byWD[int32(wd)] = dir
	w.byDir[dir] = int32(wd)
	return true
}

// Watched reports whether dir is watched.
func (w *ChangeWatch) Watched(dir string) bool {
	_, ok := w.byDir[dir]
	return ok
}

// Unwatch stops watching dir; a removed directory's inode is pinned until then.
func (w *ChangeWatch) Unwatch(dir string) {
	wd, ok := w.byDir[dir]
	if !ok {
		return
	}
	delete(w.byDir, dir)
	delete(w.byWD, wd)
	_, _ = syscall.InotifyRmWatch(w.fd, uint32(wd))
}

// Drain reads every queued event without blocking. For each it calls changed with the
// watched directory and the name of the entry (a file written, created or removed), and,
// when the entry is a directory that was created, removed or renamed, child with its path,
// after dropping any watch on it. It returns false when events were lost (queue overflow):
// the caller must then treat everything as changed.
func (w *ChangeWatch) Drain(changed func(dir, name string), child func(dir string)) bool {
	if w.fd < 0 {
		return true
	}
	if w.buf == nil {
		w.buf = make([]byte, 64<<10)
	}
	complete := true
	for {
		n, err := syscall.Read(w.fd, w.buf)
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return complete // EAGAIN: the queue is empty
		}
		complete = w.dispatch(w.buf[:n], changed, child) && complete
	}
}

// dispatch decodes one read of inotify events (struct inotify_event, then a NUL-padded name).
func (w *ChangeWatch) dispatch(b []byte, changed func(dir, name string), child func(dir string)) bool {
	complete := true
	for len(b) >= syscall.SizeofInotifyEvent {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := syscall.SizeofInotifyEvent + int(ev.Len)
		if end > len(b) {
			return false // the kernel writes whole events; a short one is not trusted
		}
		name := b[syscall.SizeofInotifyEvent:end]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[end:]
		switch {
		case ev.Mask&syscall.IN_Q_OVERFLOW != 0:
			complete = false
		case ev.Mask&syscall.IN_IGNORED != 0:
			if dir, ok := w.byWD[ev.Wd]; ok {
				delete(w.byWD, ev.Wd)
				delete(w.byDir, dir)
			}
		default:
			dir, ok := w.byWD[ev.Wd]
			if !ok {
				continue // a watch removed with events still queued
			}
			changed(dir, string(name))
			if ev.Mask&syscall.IN_ISDIR != 0 && ev.Mask&syscall.IN_MODIFY == 0 && len(name) > 0 {
				sub := path.Join(dir, string(name))
				w.Unwatch(sub)
				child(sub)
			}
		}
	}
	return complete
}

// Retain stops watching every directory keep refuses.
func (w *ChangeWatch) Retain(keep func(dir string) bool) {
	for dir := range w.byDir {
		if !keep(dir) {
			w.Unwatch(dir)
		}
	}
}

// Close releases the descriptor and every watch.
func (w *ChangeWatch) Close() {
	if w.fd >= 0 {
		_ = syscall.Close(w.fd)
		w.fd = -1
	}
	clear(w.byWD)
	clear(w.byDir)
}
