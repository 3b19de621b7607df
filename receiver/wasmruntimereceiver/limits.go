package wasmruntimereceiver

import (
	"path"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
)

// limitsRefresh bounds how long a cgroup's limit files are served from cache. Limits change
// rarely (systemctl set-property, a pod resize) and every instance under a pod or slice shares
// its ancestors' files, so each directory's files are read at most once per refresh, however
// many instances sit below it.
const limitsRefresh = time.Minute

// dirLimits are the limit files of one cgroup directory.
type dirLimits struct {
	at                    time.Time
	cpu                   cgroup.CPULimit
	cpuOK                 bool
	mem, high, swap, pids cgroup.Limit
	memOK, highOK, swapOK bool
	pidsOK                bool
}

// effective is the tightest limit of each resource on the path from an instance's cgroup to the
// root, and the cgroup that set it.
type effective struct {
	cpu       cgroup.CPULimit
	cpuFrom   string
	cpuKnown  bool
	mem       cgroup.Limit
	memFrom   string
	memKnown  bool
	high      cgroup.Limit
	highFrom  string
	swap      cgroup.Limit
	swapFrom  string
	pids      cgroup.Limit
	pidsFrom  string
	pidsKnown bool
	cpus      int
	cpusFrom  string
	at        time.Time
}

// tighter reports whether a is a tighter byte or count limit than b.
func tighter(a, b cgroup.Limit) bool {
	return !a.Unlimited && (b.Unlimited || a.Value < b.Value)
}

// effectiveLimits folds the limit files of every cgroup from p up to (not including) the root
// of the hierarchies that serve each controller.
func (s *scraperImpl) effectiveLimits(st *instState, paths *cgroup.Paths, now time.Time) *effective {
	if !st.limits.at.IsZero() && now.Sub(st.limits.at) < limitsRefresh {
		return &st.limits
	}
	e := effective{at: now, cpu: cgroup.CPULimit{Unlimited: true}, mem: cgroup.Limit{Unlimited: true},
		high: cgroup.Limit{Unlimited: true}, swap: cgroup.Limit{Unlimited: true}, pids: cgroup.Limit{Unlimited: true}}
	walk := func(c cgroup.Controller, fn func(dir, p string, dl *dirLimits)) bool {
		mount, p, v2, ok := s.hierarchyOf(c, paths)
		if !ok {
			return false
		}
		for p != "/" && p != "." && p != "" {
			dir := s.dirs.Join(mount, p)
			fn(dir, p, s.limitsOf(dir, c, v2, now))
			p = path.Dir(p)
		}
		return true
	}
	e.cpuKnown = walk(cgroup.CPU, func(_, p string, dl *dirLimits) {
		if dl.cpuOK && !dl.cpu.Unlimited && (e.cpu.Unlimited || dl.cpu.CPUs() < e.cpu.CPUs()) {
			e.cpu, e.cpuFrom = dl.cpu, p
		}
	})
	e.memKnown = walk(cgroup.Memory, func(_, p string, dl *dirLimits) {
		if dl.memOK && tighter(dl.mem, e.mem) {
			e.mem, e.memFrom = dl.mem, p
		}
		if dl.highOK && tighter(dl.high, e.high) {
			e.high, e.highFrom = dl.high, p
		}
		if dl.swapOK && tighter(dl.swap, e.swap) {
			e.swap, e.swapFrom = dl.swap, p
		}
	})
	e.pidsKnown = walk(cgroup.Pids, func(_, p string, dl *dirLimits) {
		if dl.pidsOK && tighter(dl.pids, e.pids) {
			e.pids, e.pidsFrom = dl.pids, p
		}
	})
	if mount, p, v2, ok := s.hierarchyOf(cgroup.Cpuset, paths); ok && p != "/" {
		name := "cpuset.effective_cpus" // v1
		if v2 {
			name = "cpuset.cpus.effective"
		}
		// The cpuset controller is often not enabled below the root on v2: no file, no bound.
		if d, ok := s.readOptional(s.dirs.Join(mount, p), name); ok {
			if n, err := cgroup.ParseCPUList(d); err == nil && n > 0 {
				e.cpus, e.cpusFrom = n, p
			} else if err != nil {
				s.errs.Fail(err)
			}
		}
	}
	st.limits = e
	return &st.limits
}

// hierarchyOf returns the mount serving controller c, the instance's path in it and whether it
// is the unified (v2) hierarchy.
func (s *scraperImpl) hierarchyOf(c cgroup.Controller, paths *cgroup.Paths) (mount, p string, v2, ok bool) {
	l := &s.snap.Layout
	if s.snap.LayoutErr != nil {
		return "", "", false, false
	}
	if m, ok := l.V1[c.Name()]; ok {
		return m, paths.V1[c], false, paths.V1[c] != ""
	}
	name := c.V2Name()
	if name == "" || l.Unified == "" || paths.Unified == "" || !l.UnifiedControllers[name] {
		return "", "", false, false
	}
	return l.Unified, paths.Unified, true, true
}

// limitsOf returns one directory's limit files of controller c, cached for limitsRefresh.
func (s *scraperImpl) limitsOf(dir string, c cgroup.Controller, v2 bool, now time.Time) *dirLimits {
	key := limitKey{dir, c}
	if dl, ok := s.dirLimits[key]; ok && now.Sub(dl.at) < limitsRefresh {
		return dl
	}
	dl := &dirLimits{at: now}
	limit := func(name string) (cgroup.Limit, bool) {
		d, ok := s.readOptional(dir, name)
		if !ok {
			return cgroup.Limit{}, false
		}
		l, err := cgroup.ParseLimit(d)
		if err != nil {
			s.errs.Fail(err)
			return cgroup.Limit{}, false
		}
		return l, true
	}
	switch c {
	case cgroup.CPU:
		if v2 {
			if d, ok := s.readOptional(dir, "cpu.max"); ok {
				if l, err := cgroup.ParseCPUMax(d); err == nil {
					dl.cpu, dl.cpuOK = l, true
				} else {
					s.errs.Fail(err)
				}
			}
		} else if q, ok := s.readOptional(dir, "cpu.cfs_quota_us"); ok {
			q = append([]byte(nil), q...)
			if p, ok := s.readOptional(dir, "cpu.cfs_period_us"); ok {
				if l, err := cgroup.ParseCFSQuota(q, p); err == nil {
					dl.cpu, dl.cpuOK = l, true
				} else {
					s.errs.Fail(err)
				}
			}
		}
	case cgroup.Memory:
		if v2 {
			dl.mem, dl.memOK = limit("memory.max")
			dl.high, dl.highOK = limit("memory.high")
			dl.swap, dl.swapOK = limit("memory.swap.max")
		} else {
			dl.mem, dl.memOK = limit("memory.limit_in_bytes")
			dl.swap, dl.swapOK = limit("memory.memsw.limit_in_bytes")
		}
	case cgroup.Pids:
		dl.pids, dl.pidsOK = limit("pids.max")
	}
	if len(s.dirLimits) > 1<<15 {
		clear(s.dirLimits)
	}
	s.dirLimits[key] = dl
	return dl
}

type limitKey struct {
	dir string
	c   cgroup.Controller
}
