package edgeprofileextension

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/wasmmem"
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
	ranges, err := cleanMappingsOf(unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	if err != nil {
		return 0, err
	}
	if len(ranges) == 0 {
		return 0, errors.New("/proc/self/maps has no clean read-only mapping of the executable")
	}
	for _, r := range ranges {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED); errno != 0 {
			return 0, fmt.Errorf("madvise(%#x, %d, MADV_DONTNEED): %w", r[0], r[1]-r[0], errno)
		}
	}
	return len(ranges), nil
}

// cleanMappingsOf returns the read-only private mappings of the file (major:minor, inode) that
// hold no page of their own. A read-only mapping can hold private copies: relocations the
// dynamic loader wrote before it made a PIE build's RELRO segment read-only (GNU_RELRO), or a
// debugger's breakpoints in the code. Those copies are anonymous pages (smaps' Anonymous
// counts them for a file mapping too), and MADV_DONTNEED would put the file's bytes back in
// their place: a mapping with any (/proc/self/smaps) is left alone. Private_Dirty is no sign
// of them: it also counts the file's own page-cache pages not yet written back (a binary just
// linked), which the mapping only shares with the page cache.
func cleanMappingsOf(major, minor uint32, inode uint64) ([][2]uintptr, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	ranges, err := executableRanges(maps, major, minor, inode)
	if err != nil || len(ranges) == 0 {
		return nil, err
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	var sc wasmmem.Scanner
	sm, err := sc.Parse(smaps)
	if err != nil {
		return nil, err
	}
	return withoutPrivatePages(ranges, sm.VMAs), nil
}

// withoutPrivatePages keeps the ranges that smaps shows as a mapping with no anonymous page; a
// range smaps does not show as such (changed since maps was read) is dropped too.
func withoutPrivatePages(ranges [][2]uintptr, vmas []wasmmem.VMA) [][2]uintptr {
	clean := make(map[[2]uintptr]bool, len(vmas))
	for _, v := range vmas {
		if v.Anonymous == 0 {
			clean[[2]uintptr{uintptr(v.Start), uintptr(v.End)}] = true
		}
	}
	return slices.DeleteFunc(ranges, func(r [2]uintptr) bool { return !clean[r] })
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
