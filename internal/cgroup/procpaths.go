package cgroup

import "github.com/otelcol-virt/otelcol-virt/internal/proc"

// Controller indexes the controllers otelcol-virt reads.
type Controller uint8

// Controllers, in the order they are searched for a path that names a workload.
const (
	CPU Controller = iota
	CPUAcct
	Memory
	Pids
	Blkio
	Cpuset
	NumControllers
)

var controllerNames = [NumControllers]string{"cpu", "cpuacct", "memory", "pids", "blkio", "cpuset"}

// Name is the controller's name in /proc/<pid>/cgroup and as a v1 mount directory.
func (c Controller) Name() string { return controllerNames[c] }

// V2Name is the name of the controller's files in the unified hierarchy ("io" for blkio;
// cpuacct has none: v2 folds it into cpu.stat).
func (c Controller) V2Name() string {
	switch c {
	case Blkio:
		return "io"
	case CPUAcct:
		return ""
	}
	return controllerNames[c]
}

// Paths are the cgroups of one process, one per hierarchy, as /proc/<pid>/cgroup lists them.
type Paths struct {
	// V1 is the path in each v1 controller's hierarchy, "" when the controller is not on one.
	V1 [NumControllers]string
	// Unified is the path in the v2 hierarchy, "" without a "0::" line.
	Unified string
	// Named is the name=systemd path of v1 and hybrid hosts, which names the workload there.
	Named string
}

// ParsePaths parses /proc/<pid>/cgroup.
func ParsePaths(data []byte) (Paths, error) {
	var p Paths
	lines, err := proc.ParseCgroup(data)
	if err != nil {
		return p, err
	}
	for _, l := range lines {
		if l.HierarchyID == 0 && len(l.Controllers) == 0 {
			p.Unified = l.Path
			continue
		}
		for _, name := range l.Controllers {
			if name == "name=systemd" {
				p.Named = l.Path
			}
			for c := range NumControllers {
				if name == controllerNames[c] {
					p.V1[c] = l.Path
				}
			}
		}
	}
	return p, nil
}

// Identity is the path that best names the workload: the unified one unless it is the root
// (hybrid hosts keep processes at / there), else the systemd or a controller path.
func (p *Paths) Identity() string {
	for _, s := range [...]string{p.Unified, p.Named, p.V1[CPU], p.V1[Memory], p.V1[Pids]} {
		if s != "" && s != "/" {
			return s
		}
	}
	return "/"
}

// Differs reports whether two processes sit in different cgroups in any hierarchy.
func (p *Paths) Differs(o *Paths) bool {
	return p.Unified != o.Unified || p.V1 != o.V1
}
