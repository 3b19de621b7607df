package cgroup

import (
	"os"
	"path/filepath"
	"syscall"
)

// Subtree appends to dst the directories below dir (not dir itself), breadth first, at most max
// of them and at most maxDepth levels down: the sub-cgroups a runtime creates below an instance
// (libvirt's libvirt/emulator and vcpuN, Podman's container) are a handful, and a bound keeps a
// hostile or huge tree from costing more.
func Subtree(dst []string, dir string, max, maxDepth int) []string {
	type level struct {
		dir   string
		depth int
	}
	queue := []level{{dir, 0}}
	for len(queue) > 0 && len(dst) < max {
		l := queue[0]
		queue = queue[1:]
		if l.depth >= maxDepth {
			continue
		}
		if leaf(l.dir) {
			continue
		}
		ents, err := os.ReadDir(l.dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() || len(dst) >= max {
				continue
			}
			sub := filepath.Join(l.dir, e.Name())
			dst = append(dst, sub)
			queue = append(queue, level{sub, l.depth + 1})
		}
	}
	return dst
}

// leaf reports whether a directory has no subdirectory by its link count, without listing it:
// kernfs (cgroupfs v1 and v2) sets a directory's nlink to its number of subdirectories + 2
// whenever it is stat'ed (fs/kernfs/inode.c kernfs_refresh_inode, brauner/linux 849fe7d6), as
// tmpfs and ext4 keep it. Most instance cgroups have none, and a stat costs a fraction of an
// open, two getdents and a close. Filesystems that do not count subdirectories (btrfs reports
// 1) are listed.
func leaf(dir string) bool {
	var st syscall.Stat_t
	return syscall.Stat(dir, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR && st.Nlink == 2
}
