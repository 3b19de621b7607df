package cgroup

import (
	"os"
	"path/filepath"
	"strings"
)

// Layout modes.
const (
	ModeV1     = "v1"
	ModeV2     = "v2"
	ModeHybrid = "hybrid"
)

// Layout tells where each controller's files are on a host: a v1 hierarchy of its own (possibly
// co-mounted, "cpu,cpuacct"), or the unified v2 hierarchy.
type Layout struct {
	// Mode is v1, v2 or hybrid (v1 controllers plus a cgroup2 mount, usually at "unified").
	Mode string
	// Unified is the directory of the v2 hierarchy, empty without one.
	Unified string
	// UnifiedControllers are the controllers enabled at the v2 root (cgroup.controllers).
	UnifiedControllers map[string]bool
	// V1 maps a v1 controller name to its mount directory.
	V1 map[string]string
}

// Controllers the receiver reads.
var knownV1 = controllerNames[:]

// Detect inspects dir (normally <root>/sys/fs/cgroup). It probes the directory instead of
// parsing mountinfo so that it works on a host filesystem mounted elsewhere (root_path) and on
// fixture trees.
func Detect(dir string) (Layout, error) {
	l := Layout{V1: map[string]string{}, UnifiedControllers: map[string]bool{}}
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers")); err == nil {
		l.Mode, l.Unified = ModeV2, dir
		for _, c := range strings.Fields(string(b)) {
			l.UnifiedControllers[c] = true
		}
		return l, nil
	} else if !os.IsNotExist(err) {
		return l, err
	}
	if _, err := os.Stat(dir); err != nil {
		return l, err
	}
	for _, c := range knownV1 {
		d := filepath.Join(dir, c)
		if _, err := os.Stat(filepath.Join(d, "cgroup.procs")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "cgroup.controllers")); os.IsNotExist(err) {
				l.V1[c] = d
			}
		}
	}
	u := filepath.Join(dir, "unified")
	if b, err := os.ReadFile(filepath.Join(u, "cgroup.controllers")); err == nil {
		l.Unified = u
		for _, c := range strings.Fields(string(b)) {
			l.UnifiedControllers[c] = true
		}
	}
	switch {
	case len(l.V1) > 0 && l.Unified != "":
		l.Mode = ModeHybrid
	case len(l.V1) > 0:
		l.Mode = ModeV1
	case l.Unified != "":
		l.Mode = ModeV2
	default:
		return l, os.ErrNotExist
	}
	return l, nil
}

// Source is where one controller of one cgroup is read.
type Source struct {
	Dir string // absolute directory of the cgroup in that hierarchy
	V2  bool
}

// Controller returns the hierarchy that serves controller for a process whose cgroup paths are
// v1Paths (controller -> path) and unifiedPath. A v1 mount wins (the kernel gives a controller
// to one hierarchy only); the unified one serves it when enabled there.
func (l Layout) Controller(controller string, v1Paths map[string]string, unifiedPath string) (Source, bool) {
	if d, ok := l.V1[controller]; ok {
		if p, ok := v1Paths[controller]; ok {
			return Source{Dir: filepath.Join(d, p)}, true
		}
		return Source{}, false
	}
	if l.Unified != "" && unifiedPath != "" && l.UnifiedControllers[controller] {
		return Source{Dir: filepath.Join(l.Unified, unifiedPath), V2: true}, true
	}
	return Source{}, false
}
