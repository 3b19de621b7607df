package wasmruntimereceiver

import (
	"strconv"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// cgroupStats reads the usage files of a cgroup-backed instance and records its container.*
// and wasm_runtime.* cgroup metrics. It returns the instance's CPU time in seconds when the
// CPU accounting could be read.
func (s *wasmRuntimeScraper) cgroupStats(in *instance, st *instState) (cpuSeconds float64, cpuOK bool) {
	mb := s.mb
	// CPU: v2 cpu.stat has usage and throttling; v1 splits them over cpuacct.stat and
	// cpu.stat, and the latter only moves when a quota is set.
	if src, ok := s.source(in, ctrlCPU); ok && src.V2 {
		if d, ok := s.readStat(src.Dir, "cpu.stat"); ok {
			if cs, err := cgroup.ParseCPUStat(d); err == nil {
				user, sys := float64(cs.UserUsec)/1e6, float64(cs.SystemUsec)/1e6
				mb.Double(m.ContainerCPUTime, user, m.AttrCPUMode, "user")
				mb.Double(m.ContainerCPUTime, sys, m.AttrCPUMode, "system")
				cpuSeconds, cpuOK = float64(cs.UsageUsec)/1e6, true
				if st.cpuLimOK && !st.cpuLimit.Unlimited {
					throttling(mb, cs)
				}
			} else {
				s.fail(err)
			}
		}
	} else {
		if src, ok := s.source(in, ctrlCPUAcct); ok {
			if d, ok := s.readStat(src.Dir, "cpuacct.stat"); ok {
				if cs, err := cgroup.ParseCPUAcctStat(d); err == nil {
					mb.Double(m.ContainerCPUTime, float64(cs.User)/clockTicks, m.AttrCPUMode, "user")
					mb.Double(m.ContainerCPUTime, float64(cs.System)/clockTicks, m.AttrCPUMode, "system")
					cpuSeconds, cpuOK = float64(cs.User+cs.System)/clockTicks, true
				} else {
					s.fail(err)
				}
			}
		}
		if ok && st.cpuLimOK && !st.cpuLimit.Unlimited && s.wantThrottling() {
			if d, ok := s.readStat(src.Dir, "cpu.stat"); ok {
				if cs, err := cgroup.ParseCPUStat(d); err == nil {
					throttling(mb, cs)
				} else {
					s.fail(err)
				}
			}
		}
	}

	// Memory.
	if src, ok := s.source(in, ctrlMemory); ok {
		usageFile, eventsFile, peakFile := "memory.usage_in_bytes", "memory.oom_control", "memory.max_usage_in_bytes"
		if src.V2 {
			usageFile, eventsFile, peakFile = "memory.current", "memory.events", "memory.peak"
		}
		var usage uint64
		usageOK := false
		if d, ok := s.readStat(src.Dir, usageFile); ok {
			if v, err := cgroup.ParseUint(d); err == nil {
				usage, usageOK = v, true
				mb.Int(m.ContainerMemoryUsage, int64(v))
			} else {
				s.fail(err)
			}
		}
		if mb.Enabled(m.ContainerMemoryWorkingSet) || mb.Enabled(m.ContainerMemoryRss) || mb.Enabled(m.WasmRuntimeMemoryLimitUtilization) {
			if d, ok := s.readStat(src.Dir, "memory.stat"); ok {
				if ms, err := cgroup.ParseMemoryStat(d); err == nil {
					mb.Int(m.ContainerMemoryRss, int64(ms.Anon))
					if usageOK {
						ws := usage - min(usage, ms.InactiveFile)
						mb.Int(m.ContainerMemoryWorkingSet, int64(ws))
						if st.memLimOK && !st.memLimit.Unlimited && st.memLimit.Value > 0 {
							mb.Double(m.WasmRuntimeMemoryLimitUtilization, float64(ws)/float64(st.memLimit.Value))
						}
					}
				} else {
					s.fail(err)
				}
			}
		}
		if mb.Enabled(m.WasmRuntimeMemoryOOMEvents) || mb.Enabled(m.WasmRuntimeMemoryOOMKills) {
			if d, ok := s.readStat(src.Dir, eventsFile); ok {
				if ev, err := cgroup.ParseMemoryEvents(d); err == nil {
					if ev.HasOOM {
						mb.Int(m.WasmRuntimeMemoryOOMEvents, int64(ev.OOM))
					}
					mb.Int(m.WasmRuntimeMemoryOOMKills, int64(ev.OOMKill))
				} else {
					s.fail(err)
				}
			}
		}
		if mb.Enabled(m.WasmRuntimeMemoryPeak) {
			if d, ok := s.readStat(src.Dir, peakFile); ok {
				if v, err := cgroup.ParseUint(d); err == nil {
					mb.Int(m.WasmRuntimeMemoryPeak, int64(v))
				} else {
					s.fail(err)
				}
			}
		}
	}

	// Pids.
	if src, ok := s.source(in, ctrlPids); ok && mb.Enabled(m.WasmRuntimePidsCurrent) {
		if d, ok := s.readStat(src.Dir, "pids.current"); ok {
			if v, err := cgroup.ParseUint(d); err == nil {
				mb.Int(m.WasmRuntimePidsCurrent, int64(v))
			} else {
				s.fail(err)
			}
		}
	}

	// Block I/O.
	wantBytes, wantOps := mb.Enabled(m.ContainerDiskIO), mb.Enabled(m.WasmRuntimeDiskOperations)
	if src, ok := s.source(in, ctrlBlkio); ok && (wantBytes || wantOps) {
		if src.V2 {
			if d, ok := s.readStat(src.Dir, "io.stat"); ok {
				if io, err := cgroup.ParseIOStat(d); err == nil {
					mb.Int(m.ContainerDiskIO, int64(io.ReadBytes), m.AttrDiskIODirection, "read")
					mb.Int(m.ContainerDiskIO, int64(io.WriteBytes), m.AttrDiskIODirection, "write")
					mb.Int(m.WasmRuntimeDiskOperations, int64(io.ReadOps), m.AttrDiskIODirection, "read")
					mb.Int(m.WasmRuntimeDiskOperations, int64(io.WriteOps), m.AttrDiskIODirection, "write")
				} else {
					s.fail(err)
				}
			}
		} else {
			if wantBytes {
				s.blkio(src.Dir, "blkio.throttle.io_service_bytes", m.ContainerDiskIO)
			}
			if wantOps {
				s.blkio(src.Dir, "blkio.throttle.io_serviced", m.WasmRuntimeDiskOperations)
			}
		}
	}

	// Pressure stall information lives in the unified hierarchy, also on hybrid hosts.
	if mb.Enabled(m.WasmRuntimePressureStallTime) && s.layoutErr == nil && s.layout.Unified != "" && in.unified != "" {
		dir := s.layout.Unified + in.unified
		for _, res := range [...]string{"cpu", "memory", "io"} {
			d, err := s.r.readCached(dir + "/" + res + ".pressure")
			if err != nil {
				s.fail(err)
				continue
			}
			p, err := cgroup.ParsePSI(d)
			if err != nil {
				s.fail(err)
				continue
			}
			mb.Double(m.WasmRuntimePressureStallTime, float64(p.SomeTotalUsec)/1e6, m.AttrPressureResource, res, m.AttrPressureScope, "some")
			if p.HasFull {
				mb.Double(m.WasmRuntimePressureStallTime, float64(p.FullTotalUsec)/1e6, m.AttrPressureResource, res, m.AttrPressureScope, "full")
			}
		}
	}
	return cpuSeconds, cpuOK
}

func (s *wasmRuntimeScraper) wantThrottling() bool {
	return s.mb.Enabled(m.WasmRuntimeCPUPeriods) || s.mb.Enabled(m.WasmRuntimeCPUThrottledPeriods) || s.mb.Enabled(m.WasmRuntimeCPUThrottledTime)
}

func throttling(mb *m.Builder, cs cgroup.CPUStat) {
	mb.Int(m.WasmRuntimeCPUPeriods, int64(cs.NrPeriods))
	mb.Int(m.WasmRuntimeCPUThrottledPeriods, int64(cs.NrThrottled))
	mb.Double(m.WasmRuntimeCPUThrottledTime, float64(cs.ThrottledUsec)/1e6)
}

// blkio reads the hierarchical variant of a v1 blkio file when the kernel has it.
func (s *wasmRuntimeScraper) blkio(dir, base string, id m.MetricID) {
	d, err := s.r.readCached(dir + "/" + base + "_recursive")
	if err != nil {
		if d, err = s.r.readCached(dir + "/" + base); err != nil {
			s.fail(err)
			return
		}
	}
	r, w, err := cgroup.ParseBlkio(d)
	if err != nil {
		s.fail(err)
		return
	}
	s.mb.Int(id, int64(r), m.AttrDiskIODirection, "read")
	s.mb.Int(id, int64(w), m.AttrDiskIODirection, "write")
}

// limitMetrics records the limits, their utilisation and whether each is configured.
// memInUse is the process-tree RSS, used for process-grouped instances.
func (s *wasmRuntimeScraper) limitMetrics(in *instance, st *instState, usage float64, haveUsage bool, memInUse int64) {
	mb := s.mb
	if st.cpuLimOK {
		mb.Int(m.WasmRuntimeLimitConfigured, b2i(!st.cpuLimit.Unlimited), m.AttrLimitResource, "cpu")
		if !st.cpuLimit.Unlimited {
			lim := st.cpuLimit.CPUs()
			mb.Double(m.WasmRuntimeCPULimit, lim)
			if haveUsage && lim > 0 {
				mb.Double(m.WasmRuntimeCPULimitUtilization, usage/lim)
			}
		}
	}
	if st.memLimOK {
		mb.Int(m.WasmRuntimeLimitConfigured, b2i(!st.memLimit.Unlimited), m.AttrLimitResource, "memory")
		if !st.memLimit.Unlimited {
			mb.Int(m.WasmRuntimeMemoryLimit, int64(st.memLimit.Value))
			if !in.cgroupKey && st.memLimit.Value > 0 {
				mb.Double(m.WasmRuntimeMemoryLimitUtilization, float64(memInUse)/float64(st.memLimit.Value))
			}
		}
	}
	if st.pidsLimOK {
		mb.Int(m.WasmRuntimeLimitConfigured, b2i(!st.pidsLimit.Unlimited), m.AttrLimitResource, "pids")
		if !st.pidsLimit.Unlimited {
			mb.Int(m.WasmRuntimePidsLimit, int64(st.pidsLimit.Value))
		}
	}
}

// collectSocketInodes adds the socket inodes of a process's descriptors to s.inodes: one
// readlink per descriptor, which is why connection counting is off by default.
func (s *wasmRuntimeScraper) collectSocketInodes(e *procEntry) {
	dir := e.dir + "fd/"
	var err error
	s.fdBuf, err = s.r.listPIDs(dir, s.fdBuf[:0]) // descriptor names are numbers too
	if err != nil {
		s.fail(err)
		return
	}
	for _, fd := range s.fdBuf {
		link, err := s.r.readlinkInto(dir + strconv.Itoa(fd))
		if err != nil {
			continue // closed since the listing
		}
		if ino, ok := proc.SocketInode(link); ok {
			s.inodes[ino] = struct{}{}
		}
	}
}

// connectionMetrics matches the collected inodes against the TCP tables of the main
// process's network namespace.
func (s *wasmRuntimeScraper) connectionMetrics(e *procEntry) {
	var byState [256]int64
	for _, f := range [...]string{"net/tcp", "net/tcp6"} {
		d, err := s.r.read(e.dir + f)
		if err != nil {
			s.fail(err)
			continue
		}
		if err := proc.ScanNetTCP(d, func(state uint8, inode uint64) {
			if _, ok := s.inodes[inode]; ok && inode != 0 {
				byState[state]++
			}
		}); err != nil {
			s.fail(err)
		}
	}
	for st, name := range proc.TCPStates {
		if name == "" {
			continue
		}
		s.mb.Int(m.WasmRuntimeConnectionCount, byState[st], m.AttrNetworkTransport, "tcp", m.AttrConnectionState, name)
	}
}

// networkIO reports the traffic of the main process's network namespace when it has one of its
// own (the host's counters would say nothing about the instance). The namespace is read once
// per process lifetime.
func (s *wasmRuntimeScraper) networkIO(e *procEntry) {
	if !e.netnsRead {
		e.netnsRead = true
		ns, err := s.r.readlink(e.dir + "ns/net")
		if err != nil {
			s.fail(err)
		}
		e.netns = ns
	}
	if e.netns == "" || s.hostNetns == "" || e.netns == s.hostNetns {
		return
	}
	d, err := s.r.readCachedMulti(e.dir + "net/dev")
	if err != nil {
		s.fail(err)
		return
	}
	nd, err := proc.ParseNetDev(d)
	if err != nil {
		s.fail(err)
		return
	}
	s.mb.Int(m.ContainerNetworkIO, int64(nd.RxBytes), m.AttrNetworkIODirection, "receive")
	s.mb.Int(m.ContainerNetworkIO, int64(nd.TxBytes), m.AttrNetworkIODirection, "transmit")
}
