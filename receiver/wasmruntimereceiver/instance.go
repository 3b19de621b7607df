package wasmruntimereceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// scrapeInstance records one instance's metrics into the builder; the caller emits them under
// the instance's resource.
func (s *scraperImpl) scrapeInstance(in *inventory.Instance, st *instState, now time.Time, ts pcommon.Timestamp) {
	mb := s.mb
	main := in.Main()
	// Every point of the instance starts when its main process did; without the boot time
	// (an unreadable /proc/stat) that is unknown and the receiver's start stands in.
	start := s.started
	var started time.Time
	if !s.snap.BootTime.IsZero() {
		started = processStart(s.snap.BootTime, main.Start)
		start = pcommon.NewTimestampFromTime(started)
	}
	mb.Reset(m.WithStartTime(start))

	eff := s.effectiveLimits(st, &in.Paths, now)
	sums := s.processSums(in, now)
	byCgroup := in.Grouping == inventory.ByCgroup

	// CPU: pair each reading with the time it was taken (the walk's for process stat lines),
	// not with the start of the scrape.
	var cpu cpuTimes
	cpuOK, cpuAt := false, s.snap.Taken
	if byCgroup {
		at := time.Now()
		for _, p := range s.cgroupsOf(in) {
			if c, ok := s.cgroupCPU(p); ok {
				cpu.add(c)
				cpuOK = true
			}
		}
		if cpuOK {
			cpuAt = at
			mb.RecordContainerCPUTimeDataPoint(ts, cpu.user, m.AttributeCPUModeUser)
			mb.RecordContainerCPUTimeDataPoint(ts, cpu.system, m.AttributeCPUModeSystem)
		}
	}
	if !cpuOK {
		// A process tree keeps the time of the children it reaped (cutime, cstime): a
		// fork-per-request workload's exited workers stay counted.
		user := float64(sums.utime+sums.cutime) / clockTicks
		system := float64(sums.stime+sums.cstime) / clockTicks
		minflt, majflt := sums.minflt+sums.cminflt, sums.majflt+sums.cmajflt
		series := m.WithStartTimestamp(st.tree.advance(user, system, minflt, majflt, start, ts))
		mb.RecordWasmRuntimeCPUTimeDataPoint(ts, user, m.AttributeCPUModeUser, series)
		mb.RecordWasmRuntimeCPUTimeDataPoint(ts, system, m.AttributeCPUModeSystem, series)
		mb.RecordWasmRuntimePagingFaultsDataPoint(ts, int64(majflt), m.AttributeSystemPagingFaultTypeMajor, series)
		mb.RecordWasmRuntimePagingFaultsDataPoint(ts, int64(minflt), m.AttributeSystemPagingFaultTypeMinor, series)
		cpu.total = user + system
	}
	usage, haveUsage := 0.0, false
	if st.hasPrev {
		if dt := cpuAt.Sub(st.prevAt).Seconds(); dt > 0 && cpu.total >= st.prevCPU {
			usage, haveUsage = (cpu.total-st.prevCPU)/dt, true
		}
	}
	st.prevCPU, st.prevAt, st.hasPrev = cpu.total, cpuAt, true
	if haveUsage {
		mb.RecordWasmRuntimeCPUUsageDataPoint(ts, usage)
		if cpuOK && byCgroup {
			mb.RecordContainerCPUUsageDataPoint(ts, usage)
		}
	}

	rssBytes := int64(sums.rssPages) * s.pageSz
	var mem memFigures
	if byCgroup {
		for k, p := range s.cgroupsOf(in) {
			s.cgroupMemory(st, p, k == 0, &mem, now)
		}
		applyV1Hierarchical(&mem, eff)
		s.recordMemory(&mem, eff, ts)
		if mb.Enabled("wasm_runtime.pids.current") {
			var pids uint64
			ok := false
			for _, p := range s.cgroupsOf(in) {
				if v, found := s.pidsCurrent(p); found {
					pids += v
					ok = true
				}
			}
			if ok {
				mb.RecordWasmRuntimePidsCurrentDataPoint(ts, int64(pids))
			}
		}
		if mb.Enabled("container.disk.io") || mb.Enabled("wasm_runtime.disk.operations") {
			acc := map[cgroup.Device]*devIO{}
			for _, p := range s.cgroupsOf(in) {
				s.cgroupIO(p, acc, now)
			}
			s.recordIO(acc, ts)
		}
		s.cgroupPressure(&in.Paths, ts)
	} else {
		mb.RecordWasmRuntimeMemoryRSSDataPoint(ts, rssBytes)
		if !eff.mem.Unlimited && eff.mem.Value > 0 {
			mb.RecordWasmRuntimeMemoryLimitUtilizationDataPoint(ts, float64(rssBytes)/float64(eff.mem.Value))
		}
	}
	s.throttling(in, eff, ts)
	s.recordLimits(eff, usage, haveUsage, ts)

	mb.RecordWasmRuntimeMemoryVirtualDataPoint(ts, int64(sums.vsize))
	mb.RecordWasmRuntimeProcessCountDataPoint(ts, int64(len(in.Procs)))
	mb.RecordWasmRuntimeThreadCountDataPoint(ts, sums.threads)
	if sums.fdOK {
		mb.RecordWasmRuntimeFileDescriptorCountDataPoint(ts, sums.fds)
	}
	if mb.Enabled("wasm_runtime.file_descriptor.limit") || mb.Enabled("wasm_runtime.file_descriptor.limit.utilization") || mb.Enabled("wasm_runtime.limit.configured") {
		if lim, ok := s.fdLimitOf(main, s.procOf(main), now); ok {
			if lim != proc.Unlimited {
				mb.RecordWasmRuntimeFileDescriptorLimitDataPoint(ts, int64(lim))
				if sums.fdOK {
					mb.RecordWasmRuntimeFileDescriptorLimitUtilizationDataPoint(ts, sums.fdUtil)
				}
			}
			mb.RecordWasmRuntimeLimitConfiguredDataPoint(ts, b2i(lim != proc.Unlimited), m.AttributeLimitResourceFileDescriptors)
		}
	}
	if sums.ctxOK {
		mb.RecordWasmRuntimeContextSwitchesDataPoint(ts, int64(sums.vol), m.AttributeProcessContextSwitchTypeVoluntary)
		mb.RecordWasmRuntimeContextSwitchesDataPoint(ts, int64(sums.invol), m.AttributeProcessContextSwitchTypeInvoluntary)
	}
	if mb.Enabled("wasm_runtime.connection.count") {
		s.recordConnections(in, ts)
	}
	if mb.Enabled("container.network.io") {
		s.networkIO(in, ts)
	}
	s.recordLinearMemory(in, ts)
	s.recordVM(in, st, now, ts)
	if !started.IsZero() {
		up := now.Sub(started).Seconds()
		if byCgroup {
			mb.RecordContainerUptimeDataPoint(ts, up)
		} else {
			mb.RecordProcessUptimeDataPoint(ts, up)
		}
	}
}

// cgroupsOf lists the instance's cgroups: its own, then the others it spans.
func (s *scraperImpl) cgroupsOf(in *inventory.Instance) []*cgroup.Paths {
	out := s.cgBuf[:0]
	out = append(out, &in.Paths)
	for i := range in.Extra {
		out = append(out, &in.Extra[i])
	}
	s.cgBuf = out
	return out
}

func (s *scraperImpl) pidsCurrent(p *cgroup.Paths) (uint64, bool) {
	mount, path, _, ok := s.hierarchyOf(cgroup.Pids, p)
	if !ok || path == "/" {
		return 0, false
	}
	d, ok := s.readStat(s.dirs.Join(mount, path), "pids.current")
	if !ok {
		return 0, false
	}
	v, err := cgroup.ParseUint(d)
	if err != nil {
		s.errs.Fail(err)
		return 0, false
	}
	return v, true
}

// recordLimits records the effective limits, their utilisation and whether each is configured:
// "unlimited" is a state (limit.configured 0), never a 0 or MaxUint64 limit.
func (s *scraperImpl) recordLimits(eff *effective, usage float64, haveUsage bool, ts pcommon.Timestamp) {
	mb := s.mb
	if eff.cpuKnown {
		mb.RecordWasmRuntimeLimitConfiguredDataPoint(ts, b2i(!eff.cpu.Unlimited), m.AttributeLimitResourceCPU)
		if !eff.cpu.Unlimited {
			lim := eff.cpu.CPUs()
			mb.RecordWasmRuntimeCPULimitDataPoint(ts, lim, m.WithLimitCgroupMetricAttribute(eff.cpuFrom))
			if haveUsage && lim > 0 {
				mb.RecordWasmRuntimeCPULimitUtilizationDataPoint(ts, usage/lim)
			}
		}
	}
	if eff.cpus > 0 {
		mb.RecordWasmRuntimeCpusetCpusDataPoint(ts, int64(eff.cpus), m.WithLimitCgroupMetricAttribute(eff.cpusFrom))
	}
	if eff.memKnown {
		mb.RecordWasmRuntimeLimitConfiguredDataPoint(ts, b2i(!eff.mem.Unlimited), m.AttributeLimitResourceMemory)
		if !eff.mem.Unlimited {
			mb.RecordWasmRuntimeMemoryLimitDataPoint(ts, int64(eff.mem.Value), limitFrom(eff.memFrom)...)
		}
		if !eff.high.Unlimited {
			mb.RecordWasmRuntimeMemorySoftLimitDataPoint(ts, int64(eff.high.Value), limitFrom(eff.highFrom)...)
		}
		if !eff.swap.Unlimited {
			mb.RecordWasmRuntimeMemorySwapLimitDataPoint(ts, int64(eff.swap.Value), limitFrom(eff.swapFrom)...)
		}
	}
	if eff.pidsKnown {
		mb.RecordWasmRuntimeLimitConfiguredDataPoint(ts, b2i(!eff.pids.Unlimited), m.AttributeLimitResourcePids)
		if !eff.pids.Unlimited {
			mb.RecordWasmRuntimePidsLimitDataPoint(ts, int64(eff.pids.Value), limitFrom(eff.pidsFrom)...)
		}
	}
}

// limitFrom is the limit.cgroup attribute when the setting cgroup is known.
func limitFrom(p string) []m.MetricAttributeOption {
	if p == "" {
		return nil
	}
	return []m.MetricAttributeOption{m.WithLimitCgroupMetricAttribute(p)}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
