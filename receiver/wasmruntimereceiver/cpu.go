package wasmruntimereceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// cpuTimes are cumulative CPU seconds.
type cpuTimes struct{ user, system, total float64 }

func (c *cpuTimes) add(o cpuTimes) { c.user += o.user; c.system += o.system; c.total += o.total }

// cgroupCPU reads the CPU accounting of one cgroup: v2 cpu.stat (usage_usec, user_usec,
// system_usec), v1 cpuacct.usage with cpuacct.usage_user and cpuacct.usage_sys (nanoseconds,
// as runc and cAdvisor read them; cpuacct.stat is in clock ticks and only used where the split
// files are missing). The total, which usage and the CPU rule use, is cpuacct.usage: the
// scheduler charges it in nanoseconds at every switch (cpuacct_charge), while recent kernels
// fill usage_user/usage_sys from the same tick-accounted cpustat as cpuacct.stat
// (kernel/sched/cpuacct.c cpuacct_cpuusage_read; microsoft/WSL2-Linux-Kernel c778c501 is one
// such tree). The split is kept as read, not rescaled to the total, so that each mode's counter
// stays monotonic.
func (s *scraperImpl) cgroupCPU(paths *cgroup.Paths) (cpuTimes, bool) {
	if mount, p, v2, ok := s.hierarchyOf(cgroup.CPU, paths); ok && v2 {
		d, ok := s.readStat(s.dirs.Join(mount, p), "cpu.stat")
		if !ok {
			return cpuTimes{}, false
		}
		cs, err := cgroup.ParseCPUStat(d)
		if err != nil {
			s.errs.Fail(err)
			return cpuTimes{}, false
		}
		return cpuTimes{user: float64(cs.UserUsec) / 1e6, system: float64(cs.SystemUsec) / 1e6, total: float64(cs.UsageUsec) / 1e6}, true
	}
	mount, p, _, ok := s.hierarchyOf(cgroup.CPUAcct, paths)
	if !ok {
		return s.unifiedCPUWithoutController(paths)
	}
	dir := s.dirs.Join(mount, p)
	d, ok := s.readStat(dir, "cpuacct.usage")
	if !ok {
		return cpuTimes{}, false
	}
	total, err := cgroup.ParseUint(d)
	if err != nil {
		s.errs.Fail(err)
		return cpuTimes{}, false
	}
	out := cpuTimes{total: float64(total) / 1e9}
	if d, err := s.r.ReadCachedAt(dir, "cpuacct.usage_user"); err == nil {
		if u, err := cgroup.ParseUint(d); err == nil {
			if d, err := s.r.ReadCachedAt(dir, "cpuacct.usage_sys"); err == nil {
				if sys, err := cgroup.ParseUint(d); err == nil {
					out.user, out.system = float64(u)/1e9, float64(sys)/1e9
					return out, true
				}
			}
		}
	}
	// Kernels before 4.6 have no usage_user/usage_sys: split the nanosecond total in the
	// proportions of the tick-sampled cpuacct.stat.
	if d, ok := s.readStat(dir, "cpuacct.stat"); ok {
		if cs, err := cgroup.ParseCPUAcctStat(d); err == nil && cs.User+cs.System > 0 {
			f := float64(cs.User) / float64(cs.User+cs.System)
			out.user, out.system = out.total*f, out.total*(1-f)
		}
	}
	return out, true
}

// unifiedCPUWithoutController reads cpu.stat of the unified hierarchy when no v1 cpuacct
// serves the instance: the kernel keeps usage_usec there even without the cpu controller.
func (s *scraperImpl) unifiedCPUWithoutController(paths *cgroup.Paths) (cpuTimes, bool) {
	u := s.snap.Layout.Unified
	if u == "" || paths.Unified == "" || paths.Unified == "/" {
		return cpuTimes{}, false
	}
	d, ok := s.readStat(s.dirs.Join(u, paths.Unified), "cpu.stat")
	if !ok {
		return cpuTimes{}, false
	}
	cs, err := cgroup.ParseCPUStat(d)
	if err != nil {
		s.errs.Fail(err)
		return cpuTimes{}, false
	}
	return cpuTimes{user: float64(cs.UserUsec) / 1e6, system: float64(cs.SystemUsec) / 1e6, total: float64(cs.UsageUsec) / 1e6}, true
}

// throttling reports the CFS throttling of the cgroup that sets the effective quota (a pod's,
// when its containers have none of their own): its cpu.stat is the one that moves.
func (s *scraperImpl) throttling(in *inventory.Instance, eff *effective, ts pcommon.Timestamp) {
	if eff.cpu.Unlimited || eff.cpuFrom == "" {
		return
	}
	mb := s.mb
	if !mb.Enabled("wasm_runtime.cpu.periods") && !mb.Enabled("wasm_runtime.cpu.throttled_periods") && !mb.Enabled("wasm_runtime.cpu.throttled_time") {
		return
	}
	mount, _, _, ok := s.hierarchyOf(cgroup.CPU, &in.Paths)
	if !ok {
		return
	}
	d, ok := s.readStat(s.dirs.Join(mount, eff.cpuFrom), "cpu.stat")
	if !ok {
		return
	}
	cs, err := cgroup.ParseCPUStat(d)
	if err != nil {
		s.errs.Fail(err)
		return
	}
	from := m.WithLimitCgroupMetricAttribute(eff.cpuFrom)
	mb.RecordWasmRuntimeCPUPeriodsDataPoint(ts, int64(cs.NrPeriods), from)
	mb.RecordWasmRuntimeCPUThrottledPeriodsDataPoint(ts, int64(cs.NrThrottled), from)
	mb.RecordWasmRuntimeCPUThrottledTimeDataPoint(ts, float64(cs.ThrottledUsec)/1e6, from)
}
