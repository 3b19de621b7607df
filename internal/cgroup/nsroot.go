package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A process in a cgroup namespace of its own (a pod on a cgroup v2 node, a container with
// Docker's or containerd's default cgroupns=private) reads every /proc/<pid>/cgroup path
// relative to its namespace root: "/" is that root, and cgroups outside it show as
// "/../../<path>". A hierarchy mounted from the host (root_path) still shows the host's full
// tree, so such a path names a directory of the mount only once the namespace root's own place
// in the mount is known. The functions here find that place and do the path arithmetic.

// ErrNamespaceRootNotFound is returned when no directory of a mount is the namespace root.
var ErrNamespaceRootNotFound = errors.New("cgroup namespace root not found in the mounted hierarchy")

// Search bounds: a namespace root deeper than this (Kubernetes puts pods at depth 3 to 5) or a
// hierarchy with more directories above it than this is not searched.
const (
	MaxNamespaceRootDepth = 16
	maxSearchedDirs       = 50000
)

// UpLevels returns the number of leading ".." components of a /proc/<pid>/cgroup path: how
// far above the reader's namespace root the path climbs before it descends.
func UpLevels(p string) int {
	n := 0
	for {
		p = strings.TrimLeft(p, "/")
		if p == ".." || strings.HasPrefix(p, "../") {
			n++
			p = p[2:]
			continue
		}
		return n
	}
}

// MountRootDepth interprets the root field of a cgroup mount in /proc/<pid>/mountinfo, which
// the kernel also prints relative to the reader's cgroup namespace: "/../.." for a mount of the
// hierarchy root read from a namespace two levels down. It returns that depth, 0 for "/", and
// false for a root that is not an ancestor of the namespace root ("/x", "/../y").
func MountRootDepth(root string) (int, bool) {
	if root == "" || root[0] != '/' {
		return 0, false
	}
	n := UpLevels(root)
	rest := strings.Trim(root, "/")
	if rest != strings.TrimSuffix(strings.Repeat("../", n), "/") {
		return 0, false
	}
	return n, true
}

// JoinNamespacePath maps p, a path of /proc/<pid>/cgroup read in a cgroup namespace, to the
// path in a mounted hierarchy, given root, the namespace root's path in that mount (as
// FindNamespaceRoot returns it). The result is clean and absolute. It is false when p is not
// absolute or climbs above the mount's root: that cgroup is not visible in the mount.
func JoinNamespacePath(root, p string) (string, bool) {
	if p == "" || p[0] != '/' || root == "" || root[0] != '/' {
		return "", false
	}
	if root == "/" && UpLevels(p) == 0 && isClean(p) {
		return p, true
	}
	elems := make([]string, 0, 8)
	for _, part := range []string{root, p} {
		for _, e := range strings.Split(part, "/") {
			switch e {
			case "", ".":
			case "..":
				if len(elems) == 0 {
					return "", false
				}
				elems = elems[:len(elems)-1]
			default:
				elems = append(elems, e)
			}
		}
	}
	return "/" + strings.Join(elems, "/"), true
}

func isClean(p string) bool {
	if p == "/" {
		return true
	}
	if strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for _, e := range strings.Split(p[1:], "/") {
		if e == "." || e == ".." {
			return false
		}
	}
	return true
}

// FindNamespaceRoot returns the path, in the hierarchy mounted at mount, of the cgroup
// namespace root of process pid, whose own cgroup in that hierarchy reads self in its
// namespace (normally "/"). The root is the directory R such that R+self lists pid in its
// cgroup.procs: the kernel keeps a process in exactly one cgroup per hierarchy, so R is unique.
// pid must be the process's id as the pid namespace of the process calling FindNamespaceRoot
// numbers it: the kernel prints cgroup.procs in the reader's pid namespace. depth is R's depth below the mount when
// it is known (the ".." count of the mount's root in mountinfo), or negative to search level
// by level from the mount's root: outside a private namespace the answer is "/" at the cost of
// one read.
func FindNamespaceRoot(mount string, pid int, self string, depth int) (string, error) {
	if self == "" || self[0] != '/' || UpLevels(self) > 0 {
		return "", fmt.Errorf("own cgroup %q in %s is outside its namespace: %w", self, mount, ErrNamespaceRootNotFound)
	}
	if !isClean(self) {
		return "", fmt.Errorf("own cgroup %q in %s is not a clean path: %w", self, mount, ErrNamespaceRootNotFound)
	}
	if self == "/" {
		self = ""
	}
	want := strconv.Itoa(pid)
	maxDepth := MaxNamespaceRootDepth
	if depth >= 0 {
		maxDepth = min(depth, MaxNamespaceRootDepth)
	}
	level := []string{""}
	visited := 0
	for d := 0; d <= maxDepth; d++ {
		if depth < 0 || d == depth {
			for _, r := range level {
				if listsPID(mount+r+self+"/cgroup.procs", want) {
					if r == "" {
						return "/", nil
					}
					return r, nil
				}
			}
		}
		if d == maxDepth {
			break
		}
		var next []string
		for _, r := range level {
			entries, err := os.ReadDir(mount + r)
			if err != nil {
				continue // removed meanwhile, or not readable: not where the namespace is
			}
			for _, e := range entries {
				if !e.IsDir() {
					continue
				}
				if visited++; visited > maxSearchedDirs {
					return "", fmt.Errorf("%s: more than %d cgroups searched: %w", mount, maxSearchedDirs, ErrNamespaceRootNotFound)
				}
				next = append(next, r+"/"+e.Name())
			}
		}
		if len(next) == 0 {
			break
		}
		level = next
	}
	return "", fmt.Errorf("%s: no cgroup lists pid %d below a namespace root (depth %d): %w", mount, pid, depth, ErrNamespaceRootNotFound)
}

// listsPID reports whether a cgroup.procs file holds the decimal pid on a line of its own.
func listsPID(file, pid string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if string(line) == pid {
			return true
		}
	}
	return false
}
