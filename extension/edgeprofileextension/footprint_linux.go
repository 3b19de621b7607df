package edgeprofileextension

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dropExecutableMappings applies MADV_DONTNEED to every read-only private mapping of this
// process's executable and returns how many it released. The executable is recognised by
// device and inode (proc(5) /proc/pid/maps), so a binary replaced on disk since the start,
// shown as "(deleted)", is still the one matched.
func dropExecutableMappings() (int, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	ranges, err := executableRanges(maps, unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	if err != nil {
		return 0, err
	}
	if len(ranges) == 0 {
		return 0, errors.New("/proc/self/maps has no read-only mapping of the executable")
	}
	for _, r := range ranges {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED); errno != 0 {
			return 0, fmt.Errorf("madvise(%#x, %d, MADV_DONTNEED): %w", r[0], r[1]-r[0], errno)
		}
	}
	return len(ranges), nil
}

// executableRanges returns the [start, end) of the private, non-writable mappings of the file
// (major:minor, inode) in a /proc/pid/maps listing.
func executableRanges(maps []byte, major, minor uint32, inode uint64) ([][2]uintptr, error) {
	var out [][2]uintptr
	sc := bufio.NewScanner(bytes.NewReader(maps))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// address perms offset dev inode [path]
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		perms, dev := f[1], f[3]
		if len(perms) != 4 || perms[1] != '-' || perms[3] != 'p' {
			continue // writable or shared: never dropped
		}
		ino, err := strconv.ParseUint(f[4], 10, 64)
		if err != nil || ino != inode {
			continue
		}
		maj, min, ok := strings.Cut(dev, ":")
		ma, err1 := strconv.ParseUint(maj, 16, 32)
		mi, err2 := strconv.ParseUint(min, 16, 32)
		if !ok || err1 != nil || err2 != nil || uint32(ma) != major || uint32(mi) != minor {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("/proc/self/maps: bad address range %q", f[0])
		}
		out = append(out, [2]uintptr{uintptr(start), uintptr(end)})
	}
	return out, sc.Err()
}
