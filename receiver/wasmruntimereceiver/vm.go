package wasmruntimereceiver

import (
	"context"
	"path/filepath"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// vmRediscoverAfter spaces the rediscoveries of a VM whose vCPU threads are not all found (a
// vCPU running guest code is missed by the kvm-vcpu fallback, a VMM still starting has not
// spawned them): often enough to complete it within a few collections, not at every one.
const vmRediscoverAfter = 5 * time.Second

// vmInst is what is kept per VM instance: the VMM's vCPU threads and taps, found once and
// read at every scrape through the scraper's open-file cache.
type vmInst struct {
	pid          int
	start        uint64
	vm           *vmstats.VM
	stats        vmstats.VMStats
	discoveredAt time.Time
}

// vmParts is the receiver's VM side: one vmstats.Collector over the scraper's reader, and the
// opt-in sources of vm:.
type vmParts struct {
	c       *vmstats.Collector
	read    int // VM instances read this scrape, bounded by vm.max_vms
	warned  bool
	sources vmSources
}

// isVM tells whether an instance runs a guest under a VMM whose threads are in /proc.
func isVM(in *inventory.Instance) bool {
	return in.Identity.VMM != "" || in.Identity.Kind == catalog.KindVM || in.Identity.Kind == catalog.KindMicroVM
}

// vmmProcess is the instance's VMM: its first process the catalog matched as one (a Kata
// sandbox's shim is matched too, and is older), else its main process.
func vmmProcess(in *inventory.Instance) *inventory.Process {
	for i := range in.Procs {
		if e := in.Procs[i].Matched; e != nil && e.VMM != "" {
			return &in.Procs[i]
		}
	}
	return in.Main()
}

// vmBegin prepares this scrape's VM reads: the collector follows the snapshot's /proc, and
// the opt-in sources are read once for every instance.
func (s *scraperImpl) vmBegin(ctx context.Context, snap *inventory.Snapshot) {
	v := &s.vm
	if v.c == nil {
		v.c = vmstats.NewCollector(s.r)
		// A vCPU's stat is read only for its guest time: its CPU time comes from schedstat.
		v.c.VCPUStat = s.mb.Enabled("wasm_runtime.vm.vcpu.guest.time")
	}
	if snap.ProcRoot != "" {
		v.c.ProcRoot = snap.ProcRoot
		v.c.SysClassNet = filepath.Join(filepath.Dir(snap.ProcRoot), "sys", "class", "net")
	}
	v.c.BeginScrape()
	v.read = 0
	s.beginSources(ctx, snap)
}

// recordVM records the VM-grade figures of a VM instance into the builder.
func (s *scraperImpl) recordVM(in *inventory.Instance, st *instState, now time.Time, ts pcommon.Timestamp) {
	if !isVM(in) {
		return
	}
	p := vmmProcess(in)
	if s.cfg.VM.Enabled {
		if s.vm.read >= s.cfg.VM.maxVMs() {
			if !s.vm.warned {
				s.vm.warned = true
				s.logger.Warn("more VM instances than vm.max_vms; the others are reported without their VM-grade metrics (raise vm.max_vms)", zap.Int("max_vms", s.cfg.VM.maxVMs()))
			}
		} else {
			s.vm.read++
			s.recordVMProcess(in, p, st, now, ts)
		}
	}
	s.recordVMSources(in, p, ts)
}

func (s *scraperImpl) recordVMProcess(in *inventory.Instance, p *inventory.Process, st *instState, now time.Time, ts pcommon.Timestamp) {
	vi := st.vm
	if vi == nil || vi.pid != p.PID || vi.start != p.Start {
		vi = &vmInst{pid: p.PID, start: p.Start}
		st.vm = vi
	}
	if vi.vm == nil || (vi.vm.Stale() && now.Sub(vi.discoveredAt) >= vmRediscoverAfter) {
		vm, err := s.vm.c.Discover(p.PID, int(in.Identity.VCPUs))
		vi.discoveredAt = now
		if err != nil {
			s.errs.Fail(err)
			if vi.vm == nil {
				return
			}
		} else {
			vi.vm = vm
		}
	}
	vs := &vi.stats
	s.vm.c.CollectWithStat(vi.vm, &p.Stat, vs)
	for _, err := range vs.Errs {
		s.errs.Fail(err)
	}
	mb := s.mb
	for _, v := range vs.VCPUs {
		id := int64(v.Index)
		mb.RecordWasmRuntimeVMVcpuTimeDataPoint(ts, float64(v.Sched.RunNS)/1e9, id)
		if s.vm.c.VCPUStat {
			mb.RecordWasmRuntimeVMVcpuGuestTimeDataPoint(ts, ticks(v.CPU.GuestTime), id)
		}
		mb.RecordWasmRuntimeVMVcpuWaitTimeDataPoint(ts, float64(v.Sched.WaitNS)/1e9, id)
		mb.RecordWasmRuntimeVMVcpuTimeslicesDataPoint(ts, int64(v.Sched.Timeslices), id)
	}
	if vs.ProcessOK {
		mb.RecordWasmRuntimeVMGuestTimeDataPoint(ts, ticks(vs.Process.GuestTime))
		mb.RecordWasmRuntimeVMVMMCPUTimeDataPoint(ts, ticks(vs.Process.VMMUserTime()), m.AttributeCPUModeUser)
		mb.RecordWasmRuntimeVMVMMCPUTimeDataPoint(ts, ticks(vs.Process.STime), m.AttributeCPUModeSystem)
	}
	for _, t := range vs.Taps {
		g := t.Host.GuestView()
		recordVMNet(mb, ts, t.Name, m.AttributeVMCounterSourceTap, g.RxBytes, g.TxBytes, g.RxPackets, g.TxPackets)
		mb.RecordWasmRuntimeVMNetworkErrorsDataPoint(ts, int64(g.RxErrors), t.Name, m.AttributeNetworkIODirectionReceive, m.AttributeVMCounterSourceTap)
		mb.RecordWasmRuntimeVMNetworkErrorsDataPoint(ts, int64(g.TxErrors), t.Name, m.AttributeNetworkIODirectionTransmit, m.AttributeVMCounterSourceTap)
		mb.RecordWasmRuntimeVMNetworkPacketDroppedDataPoint(ts, int64(g.RxDropped), t.Name, m.AttributeNetworkIODirectionReceive, m.AttributeVMCounterSourceTap)
		mb.RecordWasmRuntimeVMNetworkPacketDroppedDataPoint(ts, int64(g.TxDropped), t.Name, m.AttributeNetworkIODirectionTransmit, m.AttributeVMCounterSourceTap)
	}
	if vs.IOErr != nil {
		s.errs.Fail(vs.IOErr)
		return
	}
	io := &vs.IO
	mb.RecordWasmRuntimeVMDiskIODataPoint(ts, int64(io.ReadBytes), m.AttributeDiskIODirectionRead)
	mb.RecordWasmRuntimeVMDiskIODataPoint(ts, int64(io.WriteBytes), m.AttributeDiskIODirectionWrite)
	mb.RecordWasmRuntimeVMDiskSyscallIODataPoint(ts, int64(io.RChar), m.AttributeDiskIODirectionRead)
	mb.RecordWasmRuntimeVMDiskSyscallIODataPoint(ts, int64(io.WChar), m.AttributeDiskIODirectionWrite)
	mb.RecordWasmRuntimeVMDiskSyscallCountDataPoint(ts, int64(io.Syscr), m.AttributeDiskIODirectionRead)
	mb.RecordWasmRuntimeVMDiskSyscallCountDataPoint(ts, int64(io.Syscw), m.AttributeDiskIODirectionWrite)
}

// recordVMNet records a device's bytes and packets in the guest's direction.
func recordVMNet(mb *m.MetricsBuilder, ts pcommon.Timestamp, dev string, src m.AttributeVMCounterSource, rxB, txB, rxP, txP uint64) {
	mb.RecordWasmRuntimeVMNetworkIODataPoint(ts, int64(rxB), dev, m.AttributeNetworkIODirectionReceive, src)
	mb.RecordWasmRuntimeVMNetworkIODataPoint(ts, int64(txB), dev, m.AttributeNetworkIODirectionTransmit, src)
	mb.RecordWasmRuntimeVMNetworkPacketCountDataPoint(ts, int64(rxP), dev, m.AttributeNetworkIODirectionReceive, src)
	mb.RecordWasmRuntimeVMNetworkPacketCountDataPoint(ts, int64(txP), dev, m.AttributeNetworkIODirectionTransmit, src)
}

// ticks converts clock ticks (USER_HZ) to seconds.
func ticks(v uint64) float64 { return float64(v) / clockTicks }
