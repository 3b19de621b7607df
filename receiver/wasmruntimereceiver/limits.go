package wasmruntimereceiver

import (
	"path"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
)

// limitsRefresh bounds how long a cgroup's limit files are served from cache when its directory
// cannot be watched, and how often an instance's limits are folded again (cpuset.effective_cpus
// is changed by the kernel, on CPU hotplug, without a notification). Limits change rarely
// (systemctl set-property, a pod resize) and every instance under a pod or slice shares its
// ancestors' files, so each directory's files are read at most once per refresh, however many
// instances sit below it.
const limitsRefresh = time.Minute

// watchedLimitsRefresh is how long a watched directory's limit files are served: a write to
// one is seen at the next scrape (limitWatch), so this only bounds the damage of a change the
// watch could not see.
const watchedLimitsRefresh = 10 * time.Minute

// dirLimits are the limit files of one cgroup directory.
type dirLimits struct {
	at, used              time.Time
	watched               bool
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
	cpusAt    time.Time
	at        time.Time
	gen       uint64 // limitWatch.gen the fold saw
}

// tighter reports whether a is a tighter byte or count limit than b.
func tighter(a, b cgroup.Limit) bool {
	return !a.Unlimited && (b.Unlimited || a.Value < b.Value)
}

// effectiveLimits folds the limit files of every cgroup from p up to (not including) the root
// of the hierarchies that serve each controller.
func (s *scraperImpl) effectiveLimits(st *instState, paths *cgroup.Paths, now time.Time) *effective {
	if !st.limits.at.IsZero() && now.Sub(st.limits.at) < limitsRefresh && st.limits.gen == s.limitWatch.gen {
		return &st.limits
	}
	e := effective{at: now, gen: s.limitWatch.gen, cpus: st.limits.cpus, cpusFrom: st.limits.cpusFrom, cpusAt: st.limits.cpusAt, cpu: cgroup.CPULimit{Unlimited: true}, mem: cgroup.Limit{Unlimited: true},
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
	// cpuset.effective_cpus is read on its own minute: a limit written elsewhere folds again
	// without re-reading it.
	if mount, p, v2, ok := s.hierarchyOf(cgroup.Cpuset, paths); !ok || p == "/" {
		e.cpus, e.cpusFrom = 0, ""
	} else if e.cpusAt.IsZero() || now.Sub(e.cpusAt) >= limitsRefresh {
		e.cpus, e.cpusFrom, e.cpusAt = 0, "", now
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
	if dl, ok := s.dirLimits[key]; ok && (now.Sub(dl.at) < limitsRefresh || dl.watched && now.Sub(dl.at) < watchedLimitsRefresh) {
		dl.used = now
		return dl
	}
	// Watched before the files are read, so that a write in between is seen.
	dl := &dirLimits{at: now, used: now, watched: s.limitWatch.watch(dir)}
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
	if len(s.dirLimits) > maxDirLimits {
		clear(s.dirLimits)
		s.limitWatch.retainFor(s.dirLimits)
	}
	s.dirLimits[key] = dl
	return dl
}

type limitKey struct {
	dir string
	c   cgroup.Controller
}
