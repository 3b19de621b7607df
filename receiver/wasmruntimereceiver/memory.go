package wasmruntimereceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// memFigures are an instance's memory figures summed over its cgroups.
type memFigures struct {
	usage, workingSet, anon uint64
	pgfault, pgmajfault     uint64
	oomEvents, oomKills     uint64
	peak                    uint64
	usageOK, statOK         bool
	faultsOK, oomOK         bool
	hasOOMEvents, peakOK    bool
	// v1Limit is v1's hierarchical_memory_limit of the main cgroup (the kernel's effective
	// limit), v1Memsw its hierarchical_memsw_limit; zero when absent.
	v1Limit, v1Memsw uint64
}

// cgroupMemory reads one cgroup's memory files into f.
func (s *scraperImpl) cgroupMemory(st *instState, paths *cgroup.Paths, main bool, f *memFigures, now time.Time) {
	mount, p, v2, ok := s.hierarchyOf(cgroup.Memory, paths)
	if !ok || p == "/" {
		return
	}
	dir := s.dirs.Join(mount, p)
	usageFile, peakFile := "memory.usage_in_bytes", "memory.max_usage_in_bytes"
	if v2 {
		usageFile, peakFile = "memory.current", "memory.peak"
	}
	var usage uint64
	if d, ok := s.readStat(dir, usageFile); ok {
		if v, err := cgroup.ParseUint(d); err == nil {
			usage = v
			f.usage += v
			f.usageOK = true
		} else {
			s.errs.Fail(err)
		}
	}
	if d, ok := s.readStat(dir, "memory.stat"); ok {
		if ms, err := cgroup.ParseMemoryStat(d); err == nil {
			f.statOK = true
			f.anon += ms.Anon
			f.workingSet += usage - min(usage, ms.InactiveFile)
			if ms.HasFaults {
				f.pgfault += ms.PgFault
				f.pgmajfault += ms.PgMajFault
				f.faultsOK = true
			}
			if main && !v2 {
				f.v1Limit, f.v1Memsw = ms.HierarchicalLimit, ms.HierarchicalMemswLimit
			}
		} else {
			s.errs.Fail(err)
		}
	}
	if s.mb.Enabled("wasm_runtime.memory.oom.events") || s.mb.Enabled("wasm_runtime.memory.oom.kills") {
		if v2 {
			// memory.events counts the cgroup and its descendants.
			s.oomOf(dir, "memory.events", f)
		} else {
			// memory.oom_control counts the cgroup alone: a libvirt machine scope's kills
			// happen in its libvirt/emulator child.
			s.oomOf(dir, "memory.oom_control", f)
			for _, sub := range s.subCgroups(st, dir, now) {
				s.oomOf(sub, "memory.oom_control", f)
			}
		}
	}
	if s.mb.Enabled("wasm_runtime.memory.peak") {
		if d, ok := s.readStat(dir, peakFile); ok {
			if v, err := cgroup.ParseUint(d); err == nil {
				f.peak += v
				f.peakOK = true
			} else {
				s.errs.Fail(err)
			}
		}
	}
}

func (s *scraperImpl) oomOf(dir, name string, f *memFigures) {
	d, ok := s.readStat(dir, name)
	if !ok {
		return
	}
	ev, err := cgroup.ParseMemoryEvents(d)
	if err != nil {
		s.errs.Fail(err)
		return
	}
	f.oomOK = true
	f.oomKills += ev.OOMKill
	if ev.HasOOM {
		f.hasOOMEvents = true
		f.oomEvents += ev.OOM
	}
}

// recordMemory records the container.* memory metrics and the OOM counters.
func (s *scraperImpl) recordMemory(f *memFigures, eff *effective, ts pcommon.Timestamp) {
	mb := s.mb
	if f.usageOK {
		mb.RecordContainerMemoryUsageDataPoint(ts, int64(f.usage))
	}
	if f.statOK {
		mb.RecordContainerMemoryRSSDataPoint(ts, int64(f.anon))
		if f.usageOK {
			mb.RecordContainerMemoryWorkingSetDataPoint(ts, int64(f.workingSet))
			if !eff.mem.Unlimited {
				mb.RecordContainerMemoryAvailableDataPoint(ts, int64(eff.mem.Value-min(eff.mem.Value, f.workingSet)))
				if eff.mem.Value > 0 {
					mb.RecordWasmRuntimeMemoryLimitUtilizationDataPoint(ts, float64(f.workingSet)/float64(eff.mem.Value))
				}
			}
		}
	}
	if f.faultsOK {
		mb.RecordContainerPagingFaultsDataPoint(ts, int64(f.pgmajfault), m.AttributeSystemPagingFaultTypeMajor)
		mb.RecordContainerPagingFaultsDataPoint(ts, int64(f.pgfault-min(f.pgfault, f.pgmajfault)), m.AttributeSystemPagingFaultTypeMinor)
	}
	if f.oomOK {
		if f.hasOOMEvents {
			mb.RecordWasmRuntimeMemoryOOMEventsDataPoint(ts, int64(f.oomEvents))
		}
		mb.RecordWasmRuntimeMemoryOOMKillsDataPoint(ts, int64(f.oomKills))
	}
	if f.peakOK {
		mb.RecordWasmRuntimeMemoryPeakDataPoint(ts, int64(f.peak))
	}
}

// applyV1Hierarchical takes v1's own word for the effective memory limits (memory.stat's
// hierarchical_memory_limit and hierarchical_memsw_limit, what the kernel enforces); the walk
// of the ancestors still tells which cgroup set them when one of them has that value.
func applyV1Hierarchical(f *memFigures, eff *effective) {
	if f.v1Limit != 0 {
		l := cgroup.V1Limit(f.v1Limit)
		if l != eff.mem {
			eff.mem, eff.memFrom = l, ""
		}
	}
	if f.v1Memsw != 0 {
		l := cgroup.V1Limit(f.v1Memsw)
		if l != eff.swap {
			eff.swap, eff.swapFrom = l, ""
		}
	}
}
