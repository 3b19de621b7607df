package wasmruntimereceiver

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/cloudhypervisor"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// The states each source can report, recorded all at once (1 for the current one) so that a
// state's series does not appear and vanish as the VM moves through them.
var (
	// virDomainState, include/libvirt/libvirt-domain.h (libvirtStates in that order).
	libvirtStateSet = []m.AttributeVMState{m.AttributeVMStateNostate, m.AttributeVMStateRunning, m.AttributeVMStateBlocked, m.AttributeVMStatePaused, m.AttributeVMStateShutdown, m.AttributeVMStateShutoff, m.AttributeVMStateCrashed, m.AttributeVMStatePmsuspended}
	// What xenState names.
	xenStateSet = []m.AttributeVMState{m.AttributeVMStateNostate, m.AttributeVMStateRunning, m.AttributeVMStateBlocked, m.AttributeVMStatePaused, m.AttributeVMStateShutdown, m.AttributeVMStateCrashed, m.AttributeVMStateDying}
	// VmState of cloud-hypervisor vmm/src/vm.rs (cloudhypervisor.States).
	chStateSet = []m.AttributeVMState{m.AttributeVMStateCreated, m.AttributeVMStateRunning, m.AttributeVMStateShutdown, m.AttributeVMStatePaused, m.AttributeVMStateBreakpoint}
	// VmState of firecracker src/vmm/src/vmm_config/instance_info.rs.
	fcStateSet = []m.AttributeVMState{m.AttributeVMStateNotStarted, m.AttributeVMStateRunning, m.AttributeVMStatePaused}
)

// recordVMState records 1 for cur and 0 for the rest of its source's set; a state the set
// does not hold records nothing.
func recordVMState(mb *m.MetricsBuilder, ts pcommon.Timestamp, set []m.AttributeVMState, cur string) {
	st, ok := m.MapAttributeVMState[cur]
	if !ok {
		return
	}
	for _, s := range set {
		v := int64(0)
		if s == st {
			v = 1
		}
		mb.RecordWasmRuntimeVMStateDataPoint(ts, v, s)
	}
}

// chState names a Cloud Hypervisor VmState as the attribute does (BreakPoint: breakpoint).
func chState(s string) string { return strings.ToLower(s) }

// vmSize is a VM's vCPUs and guest memory as last known: its boot values from the inventory,
// replaced by what its VMM's API answered.
type vmSize struct{ vcpus, memory int64 }

func (z vmSize) record(mb *m.MetricsBuilder, ts pcommon.Timestamp) {
	if z.vcpus > 0 {
		mb.RecordWasmRuntimeVMVcpuCountDataPoint(ts, z.vcpus)
	}
	if z.memory > 0 {
		mb.RecordWasmRuntimeVMMemorySizeDataPoint(ts, z.memory)
	}
}

// recordCloudHypervisorInfo records vm.info's state and the memory the guest has now, and
// returns the VM's current size.
func recordCloudHypervisorInfo(mb *m.MetricsBuilder, ts pcommon.Timestamp, info *cloudhypervisor.Info) vmSize {
	recordVMState(mb, ts, chStateSet, chState(info.State))
	if info.ActualBytes > 0 {
		mb.RecordWasmRuntimeVMMemoryBalloonDataPoint(ts, int64(info.ActualBytes), m.AttributeVMBalloonStateCurrent)
	}
	return vmSize{vcpus: int64(info.VCPUs), memory: int64(info.MemoryBytes)}
}
