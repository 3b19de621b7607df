package cgroup

import (
	"os"
	"path/filepath"
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
