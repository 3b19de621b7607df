package wasmruntimereceiver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/cloudhypervisor"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/firecracker"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/libvirtstats"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// recordBlock records a virtual disk's bytes and requests as its VMM counts them.
func recordBlock(mb *m.MetricsBuilder, ts pcommon.Timestamp, dev string, src m.AttributeVMCounterSource, rdB, wrB, rdOps, wrOps uint64) {
	mb.RecordWasmRuntimeVMBlockIODataPoint(ts, int64(rdB), dev, m.AttributeDiskIODirectionRead, src)
	mb.RecordWasmRuntimeVMBlockIODataPoint(ts, int64(wrB), dev, m.AttributeDiskIODirectionWrite, src)
	mb.RecordWasmRuntimeVMBlockOperationsDataPoint(ts, int64(rdOps), dev, m.AttributeDiskIODirectionRead, src)
	mb.RecordWasmRuntimeVMBlockOperationsDataPoint(ts, int64(wrOps), dev, m.AttributeDiskIODirectionWrite, src)
}

// recordFirecracker records the sums of a Firecracker metrics source. Its net groups are the
// guest's view already (rx is what the guest received, NetDeviceMetrics).
func recordFirecracker(mb *m.MetricsBuilder, a *firecracker.Accumulator, ts pcommon.Timestamp) {
	src := m.AttributeVMCounterSourceFirecracker
	for _, n := range a.NetDevices() {
		recordVMNet(mb, ts, n.ID, src, n.RxBytes, n.TxBytes, n.RxPackets, n.TxPackets)
		mb.RecordWasmRuntimeVMNetworkErrorsDataPoint(ts, int64(n.RxFails), n.ID, m.AttributeNetworkIODirectionReceive, src)
		mb.RecordWasmRuntimeVMNetworkErrorsDataPoint(ts, int64(n.TxFails), n.ID, m.AttributeNetworkIODirectionTransmit, src)
	}
	for _, b := range a.BlockDevices() {
		recordBlock(mb, ts, b.ID, src, b.ReadBytes, b.WriteBytes, b.ReadCount, b.WriteCount)
	}
	if a.Lines > 0 {
		v := a.VCPU()
		mb.RecordWasmRuntimeVMVMMExitsDataPoint(ts, int64(v.ExitIOIn), m.AttributeVMExitReasonIOIn)
		mb.RecordWasmRuntimeVMVMMExitsDataPoint(ts, int64(v.ExitIOOut), m.AttributeVMExitReasonIOOut)
		mb.RecordWasmRuntimeVMVMMExitsDataPoint(ts, int64(v.ExitMMIORead), m.AttributeVMExitReasonMmioRead)
		mb.RecordWasmRuntimeVMVMMExitsDataPoint(ts, int64(v.ExitMMIOWrite), m.AttributeVMExitReasonMmioWrite)
		mb.RecordWasmRuntimeVMSeccompFaultsDataPoint(ts, int64(a.SeccompFaults()))
	}
	mb.RecordWasmRuntimeVMCounterDroppedDataPoint(ts, int64(a.Dropped.Oversized), m.AttributeVMCounterDropReasonOversized)
	mb.RecordWasmRuntimeVMCounterDroppedDataPoint(ts, int64(a.Dropped.Malformed), m.AttributeVMCounterDropReasonMalformed)
	mb.RecordWasmRuntimeVMCounterDroppedDataPoint(ts, int64(a.Dropped.Keys), m.AttributeVMCounterDropReasonKeys)
}

// chLatencies maps Cloud Hypervisor's latency counters (virtio-devices/src/block.rs) to the
// direction and statistic they are.
var chLatencies = [...]struct {
	name string
	dir  m.AttributeDiskIODirection
	stat m.AttributeVMLatencyStat
}{
	{"read_latency_min", m.AttributeDiskIODirectionRead, m.AttributeVMLatencyStatMin},
	{"read_latency_max", m.AttributeDiskIODirectionRead, m.AttributeVMLatencyStatMax},
	{"read_latency_avg", m.AttributeDiskIODirectionRead, m.AttributeVMLatencyStatAvg},
	{"write_latency_min", m.AttributeDiskIODirectionWrite, m.AttributeVMLatencyStatMin},
	{"write_latency_max", m.AttributeDiskIODirectionWrite, m.AttributeVMLatencyStatMax},
	{"write_latency_avg", m.AttributeDiskIODirectionWrite, m.AttributeVMLatencyStatAvg},
}

// recordCloudHypervisor records vm.counters: block devices have read_bytes, net devices
// rx_bytes (virtio rx is what the guest received).
func recordCloudHypervisor(mb *m.MetricsBuilder, devs []cloudhypervisor.Device, ts pcommon.Timestamp) {
	src := m.AttributeVMCounterSourceCloudHypervisor
	for _, d := range devs {
		c := d.Counters
		if _, ok := c["read_bytes"]; ok {
			recordBlock(mb, ts, d.ID, src, c["read_bytes"], c["write_bytes"], c["read_ops"], c["write_ops"])
		}
		if _, ok := c["rx_bytes"]; ok {
			recordVMNet(mb, ts, d.ID, src, c["rx_bytes"], c["tx_bytes"], c["rx_frames"], c["tx_frames"])
		}
		for _, l := range chLatencies {
			if us, ok := d.LatencyUS[l.name]; ok {
				mb.RecordWasmRuntimeVMBlockLatencyDataPoint(ts, float64(us)/1e6, d.ID, l.dir, l.stat)
			}
		}
	}
}

// collectLibvirt fetches the domain stats of every active domain.
func (s *scraperImpl) collectLibvirt(ctx context.Context) {
	cfg := s.cfg.VM.Libvirt
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	doms, err := libvirtstats.Client{Socket: cfg.Socket, Timeout: timeout}.Collect(ctx)
	if err != nil {
		s.errs.Fail(fmt.Errorf("vm.libvirt: %w", err))
		return
	}
	s.vm.sources.libvirt = make(map[string]*libvirtstats.Domain, 2*len(doms))
	for i := range doms {
		d := &doms[i]
		if d.UUID != "" {
			s.vm.sources.libvirt["uuid:"+strings.ToLower(d.UUID)] = d
		}
		s.vm.sources.libvirt["name:"+d.Name] = d
	}
}

// libvirtStates are the names of virDomainState (include/libvirt/libvirt-domain.h).
var libvirtStates = [...]string{"nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"}

// recordLibvirt records a libvirt domain's state, per-device, balloon and CPU figures.
// Per-vCPU figures come from procfs, which reads the same threads; libvirt's would repeat
// them.
func recordLibvirt(mb *m.MetricsBuilder, d *libvirtstats.Domain, ts pcommon.Timestamp) {
	src := m.AttributeVMCounterSourceLibvirt
	if d.State >= 0 && d.State < len(libvirtStates) {
		recordVMState(mb, ts, libvirtStateSet, libvirtStates[d.State])
	}
	mb.RecordWasmRuntimeVMCPUTimeDataPoint(ts, float64(d.CPUTime)/1e9)
	for _, b := range d.Blocks {
		recordBlock(mb, ts, b.Name, src, b.RdBytes, b.WrBytes, b.RdReqs, b.WrReqs)
	}
	for _, n := range d.Nets {
		recordVMNet(mb, ts, n.Name, src, n.RxBytes, n.TxBytes, n.RxPkts, n.TxPkts)
		mb.RecordWasmRuntimeVMNetworkErrorsDataPoint(ts, int64(n.RxErrs), n.Name, m.AttributeNetworkIODirectionReceive, src)
		mb.RecordWasmRuntimeVMNetworkErrorsDataPoint(ts, int64(n.TxErrs), n.Name, m.AttributeNetworkIODirectionTransmit, src)
		mb.RecordWasmRuntimeVMNetworkPacketDroppedDataPoint(ts, int64(n.RxDrop), n.Name, m.AttributeNetworkIODirectionReceive, src)
		mb.RecordWasmRuntimeVMNetworkPacketDroppedDataPoint(ts, int64(n.TxDrop), n.Name, m.AttributeNetworkIODirectionTransmit, src)
	}
	bl := &d.Balloon
	for _, f := range [...]struct {
		kib   uint64
		state m.AttributeVMBalloonState
	}{
		{bl.CurrentKiB, m.AttributeVMBalloonStateCurrent}, {bl.MaximumKiB, m.AttributeVMBalloonStateMaximum},
		{bl.RSSKiB, m.AttributeVMBalloonStateRSS}, {bl.AvailableKiB, m.AttributeVMBalloonStateAvailable},
		{bl.UsableKiB, m.AttributeVMBalloonStateUsable}, {bl.UnusedKiB, m.AttributeVMBalloonStateUnused},
	} {
		if f.kib > 0 { // absent without a balloon driver in the guest
			mb.RecordWasmRuntimeVMMemoryBalloonDataPoint(ts, int64(f.kib)*1024, f.state)
		}
	}
}
