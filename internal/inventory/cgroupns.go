package inventory

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/procfs"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// cgroupNamespace maps the paths of /proc/<pid>/cgroup, which the kernel prints relative to
// the collector's own cgroup namespace ("/../../kubepods.slice/..." for a cgroup outside it),
// to paths in the hierarchies mounted under root_path, which show the host's whole tree. The
// namespace root of each hierarchy is located once (see cgroup.FindNamespaceRoot); outside a
// private namespace it is "/" and paths are used as read.
type cgroupNamespace struct {
	// roots maps a hierarchy's mount directory to the namespace root's path in it.
	roots map[string]string
	// err tells why some hierarchy could not be resolved.
	err error
	// at is the last attempt; a failed one is retried after linuxfs.WarnEvery once a path needs it.
	at     time.Time
	retry  bool
	warned bool
	// depthHints counts the roots whose depth mountinfo gave (only that level was searched).
	depthHints int
}

// NamespaceInfo is what the inventory found of the collector's cgroup namespace: the root of
// the namespace in each mounted hierarchy ("/" outside a private namespace), why some could not
// be found, and how many roots mountinfo's depth led to directly.
type NamespaceInfo struct {
	Roots      map[string]string
	Err        error
	DepthHints int
}

// Namespace returns the collector's cgroup namespace as the last search found it.
func (inv *Inventory) Namespace() NamespaceInfo {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return NamespaceInfo{Roots: maps.Clone(inv.cgns.roots), Err: inv.cgns.err, DepthHints: inv.cgns.depthHints}
}

// hierarchies lists the mount directories of the layout with the collector's own path in each,
// taken from its /proc/<pid>/cgroup.
func (inv *Inventory) hierarchies(own *cgroup.Paths) map[string]string {
	out := map[string]string{}
	for c := range cgroup.NumControllers {
		if d, ok := inv.layout.V1[c.Name()]; ok && own.V1[c] != "" {
			out[d] = own.V1[c]
		}
	}
	if inv.layout.Unified != "" && own.Unified != "" {
		out[inv.layout.Unified] = own.Unified
	}
	if inv.namedMount != "" && own.Named != "" {
		out[inv.namedMount] = own.Named
	}
	return out
}

// resolveCgroupNamespace locates the collector's cgroup namespace root in every hierarchy.
// The collector reads its own cgroups and mountinfo through <root>/proc/self, which names its
// pid in the pid namespace of that procfs (the host's with hostPID or a host /proc);
// mountinfo's root field of each cgroup mount gives the root's depth, so only one level of the
// tree is searched.
func (inv *Inventory) resolveCgroupNamespace(now time.Time) {
	ns := &inv.cgns
	ns.at, ns.retry = now, false
	ns.roots, ns.err, ns.depthHints = map[string]string{}, nil, 0
	if inv.layoutErr != nil {
		ns.err = inv.layoutErr
		return
	}
	link, err := inv.r.Readlink(filepath.Join(inv.procRoot, "self"))
	if err != nil {
		ns.err = fmt.Errorf("finding the collector's own pid: %w", err)
		return
	}
	pid, err := strconv.Atoi(link)
	if err != nil {
		ns.err = fmt.Errorf("finding the collector's own pid: %s/self points to %q", inv.procRoot, link)
		return
	}
	depths := inv.mountRootDepths(pid)
	// cgroup.procs lists pids as the reader's own pid namespace numbers them: the same as
	// <root>/proc/self with hostPID, but os.Getpid() when the collector has a pid namespace of
	// its own and reads the host's /proc. The last NSpid of its status is that number (and
	// tells a real procfs of the collector from a fixture root, which has its own pids).
	searchPID := pid
	if data, err := inv.r.Read(filepath.Join(inv.procRoot, link, "status")); err == nil {
		if st, err := proc.ParseStatus(data); err == nil && st.InnermostPID == uint64(os.Getpid()) {
			searchPID = os.Getpid()
		}
	}
	own := func() (*cgroup.Paths, error) {
		data, err := inv.r.Read(filepath.Join(inv.procRoot, link, "cgroup"))
		if err != nil {
			return nil, err
		}
		p, err := cgroup.ParsePaths(data)
		return &p, err
	}
	var errs []error
	for attempt := 0; attempt < 2; attempt++ {
		before, err := own()
		if err != nil {
			ns.err = fmt.Errorf("reading the collector's own cgroups: %w", err)
			return
		}
		errs = errs[:0]
		clear(ns.roots)
		ns.depthHints = 0
		searched := map[string]string{} // co-mounted controllers (cpu and cpuacct) share one search
		for mount, self := range inv.hierarchies(before) {
			real := realPath(mount)
			if root, ok := searched[real+"\x00"+self]; ok {
				ns.roots[mount] = root
				continue
			}
			depth := -1
			if d, ok := depths[real]; ok {
				depth = d
			}
			// A depth from mountinfo is the kernel's word: only that level is read. Without
			// one the tree is searched level by level (bounded in cgroup.FindNamespaceRoot).
			root, err := cgroup.FindNamespaceRoot(mount, searchPID, self, depth)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if depth >= 0 {
				ns.depthHints++
			}
			ns.roots[mount] = root
			searched[real+"\x00"+self] = root
		}
		// Moved while searching (a cgroup manager reshuffling): search again, once.
		if after, err := own(); err == nil && !before.Differs(after) && after.Named == before.Named {
			break
		}
	}
	ns.err = errors.Join(errs...)
	fields := []zap.Field{zap.Int("pid", searchPID), zap.Any("roots", ns.roots)}
	if ns.err != nil {
		inv.logger.Debug("cgroup namespace root not found in every hierarchy", append(fields, zap.Error(ns.err))...)
		return
	}
	for _, r := range ns.roots {
		if r != "/" {
			inv.logger.Info("the collector runs in a cgroup namespace of its own; cgroup paths are resolved from its root in each hierarchy", fields...)
			return
		}
	}
}

// mountRootDepths maps the mount points of cgroup filesystems, in the collector's own mount
// namespace, to the depth of its cgroup namespace root below each mount's root. Missing or
// unreadable mountinfo only makes the search level by level.
func (inv *Inventory) mountRootDepths(pid int) map[string]int {
	out := map[string]int{}
	fs, err := procfs.NewFS(inv.procRoot)
	if err != nil {
		return out
	}
	mounts, err := fs.GetProcMounts(pid)
	if err != nil {
		return out
	}
	for _, m := range mounts {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		if d, ok := cgroup.MountRootDepth(m.Root); ok {
			out[m.MountPoint] = d // a later mount on the same point hides an earlier one
		} else {
			delete(out, m.MountPoint)
		}
	}
	return out
}

func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// inHostHierarchies rewrites a process's cgroup paths, as the collector reads them, to paths
// in the mounted hierarchies. A path that cannot be mapped is dropped (its controllers are not
// read, the instance keeps its process figures), counted under reason cgroup_namespace and
// warned about once.
func (inv *Inventory) inHostHierarchies(cg *cgroup.Paths) {
	for c := range cgroup.NumControllers {
		cg.V1[c] = inv.hostPath(inv.layout.V1[c.Name()], cg.V1[c])
	}
	cg.Unified = inv.hostPath(inv.layout.Unified, cg.Unified)
	cg.Named = inv.hostPath(inv.namedMount, cg.Named)
}

func (inv *Inventory) hostPath(mount, p string) string {
	if p == "" || inv.layoutErr != nil {
		return p
	}
	if mount == "" {
		// A hierarchy that is not mounted is never read; a climbing path in it would only
		// mislead identity (cgroupid) and grouping.
		if cgroup.UpLevels(p) > 0 {
			return ""
		}
		return p
	}
	root, known := inv.cgns.roots[mount]
	if !known {
		if cgroup.UpLevels(p) == 0 {
			return p // no sign of a namespace: as read, as it always was
		}
	} else if hp, ok := cgroup.JoinNamespacePath(root, p); ok {
		return hp
	}
	inv.unresolvedCgroup(mount, p, root, known)
	return ""
}

func (inv *Inventory) unresolvedCgroup(mount, p, root string, known bool) {
	inv.tally.Count(linuxfs.CgroupNamespace, fmt.Errorf("cgroup path %s in %s: not visible from the collector's cgroup namespace", p, mount))
	inv.cgns.retry = true
	if inv.cgns.warned {
		return
	}
	inv.cgns.warned = true
	why := inv.cgns.err
	if known {
		why = fmt.Errorf("the path climbs above the mount, whose namespace root is %s", root)
	} else if why == nil {
		why = errors.New("the hierarchy was not searched")
	}
	inv.logger.Warn("a cgroup path read in the collector's cgroup namespace cannot be mapped to the mounted hierarchy; "+
		"such instances are reported without cgroup figures (counted as read errors of reason cgroup_namespace). "+
		"Run with hostPID and the host's /proc and /sys/fs/cgroup under root_path, or in the host's cgroup namespace",
		zap.String("path", p), zap.String("hierarchy", mount), zap.NamedError("cause", why))
}

// namedMountOf returns the mount of the name=systemd hierarchy of a v1 or hybrid layout, "" without one.
func namedMountOf(cgroupRoot string, l cgroup.Layout) string {
	if l.Mode == cgroup.ModeV2 {
		return ""
	}
	d := filepath.Join(cgroupRoot, "systemd")
	if _, err := os.Stat(filepath.Join(d, "cgroup.procs")); err != nil {
		return ""
	}
	return d
}
