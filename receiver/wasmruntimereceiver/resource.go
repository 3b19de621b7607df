package wasmruntimereceiver

import (
	"maps"
	"path"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// instanceResource is the one resource of an instance: its metrics, its runtime's log records
// and its threat events all carry exactly this, built with the user's resource_attributes. It
// holds only what identifies the instance for its life; what changes (limits) is a metric.
func instanceResource(snap *inventory.Snapshot, in *inventory.Instance, rb *m.ResourceBuilder) pcommon.Resource {
	str := func(set func(string), v string) {
		if v != "" {
			set(v)
		}
	}
	id := &in.Identity
	rb.SetWasmRuntimeInstanceID(in.Key)
	str(rb.SetWasmRuntimeInstanceKind, id.Kind)
	rb.SetWasmRuntimeInstanceGrouping(in.Grouping.String())
	if in.Grouping == inventory.ByCgroup {
		rb.SetWasmRuntimeCgroupPath(in.Key)
	} else if snap.LayoutErr == nil {
		rb.SetWasmRuntimeCgroupPath(in.Paths.Identity())
	}
	if snap.LayoutErr == nil {
		str(rb.SetWasmRuntimeCgroupVersion, snap.Layout.Mode)
	}
	str(rb.SetWasmRuntimeRuntime, id.Runtime)
	str(rb.SetWasmRuntimeVMM, id.VMM)
	str(rb.SetWasmRuntimeVMName, in.VMName())
	str(rb.SetWasmRuntimeVMID, in.VMID())
	if id.VCPUs > 0 {
		rb.SetWasmRuntimeVMVcpus(id.VCPUs)
	}
	if id.MemorySize > 0 {
		rb.SetWasmRuntimeVMMemorySize(id.MemorySize)
	}
	str(rb.SetWasmRuntimeWasmModule, id.WasmModule)
	str(rb.SetWasmRuntimeK8sPodQOS, in.Cgroup.QoS)
	str(rb.SetContainerID, in.Cgroup.ContainerID)
	str(rb.SetContainerRuntimeName, in.Cgroup.Runtime)
	str(rb.SetK8sPodUID, in.Cgroup.PodUID)
	main := in.Main()
	rb.SetProcessPID(int64(main.PID))
	// semantic conventions: the base name of /proc/<pid>/exe; comm is cut to 15 bytes.
	if main.Exe != "" {
		rb.SetProcessExecutableName(path.Base(main.Exe))
	} else {
		str(rb.SetProcessExecutableName, main.Comm)
	}
	res := rb.Emit()
	for k, v := range id.Extra {
		if v != "" {
			res.Attributes().PutStr(k, v)
		}
	}
	return res
}

func (s *scraperImpl) resource(in *inventory.Instance, rb *m.ResourceBuilder) pcommon.Resource {
	return instanceResource(s.snap, in, rb)
}

// cachedResource is the instance's resource, built again only when what it is made of changed: an
// instance's identity is stable for its life, and building its dozen attributes at every scrape
// (each PutStr scanning the ones before it) was a tenth of the scrape's allocations.
func (s *scraperImpl) cachedResource(in *inventory.Instance, st *instState) pcommon.Resource {
	in0 := resourceInputsOf(s.snap, in)
	if st.resOK && st.resIn == in0 && maps.Equal(st.resExtra, in.Identity.Extra) {
		return st.res
	}
	st.res = s.resource(in, s.rb)
	st.resIn, st.resExtra, st.resOK = in0, maps.Clone(in.Identity.Extra), true
	return st.res
}

// resourceInputs is everything instanceResource reads but the identity's Extra map.
type resourceInputs struct {
	key                                      string
	grouping                                 inventory.Grouping
	paths                                    cgroup.Paths
	layoutOK                                 bool
	mode                                     string
	runtime, kind, vmm, vmName, vmID, module string
	vcpus, memorySize                        int64
	cg                                       cgroupid.Identity
	pid                                      int
	exe                                      string
	comm                                     string
}

func resourceInputsOf(snap *inventory.Snapshot, in *inventory.Instance) resourceInputs {
	id := &in.Identity
	main := in.Main()
	return resourceInputs{
		key: in.Key, grouping: in.Grouping, paths: in.Paths,
		layoutOK: snap.LayoutErr == nil, mode: snap.Layout.Mode,
		runtime: id.Runtime, kind: id.Kind, vmm: id.VMM, vmName: id.VMName, vmID: id.VMID, module: id.WasmModule,
		vcpus: id.VCPUs, memorySize: id.MemorySize,
		cg: in.Cgroup, pid: main.PID, exe: main.Exe, comm: main.Comm,
	}
}

// logResolver joins log records to the instance that wrote them in the inventory's latest
// snapshot and gives them the instance's resource. It is called from the log pipeline's
// goroutines.
func (s *scraperImpl) logResolver() runtimelogs.Resolver {
	return &resolver{s: s, rb: m.NewResourceBuilder(s.requested.ResourceAttributes)}
}

type resolver struct {
	s *scraperImpl

	mu    sync.Mutex
	rb    *m.ResourceBuilder
	walk  uint64
	attrs map[string]map[string]any
}

func (r *resolver) Resolve(ref runtimelogs.InstanceRef) (map[string]any, bool) {
	if r.s.inv == nil {
		return nil, false
	}
	snap := r.s.inv.Current()
	if snap == nil {
		return nil, false
	}
	var in *inventory.Instance
	switch {
	case ref.PID > 0:
		in, _ = snap.ByPID(ref.PID)
	case ref.PodUID != "":
		if ins := snap.ByPodUID(ref.PodUID); len(ins) > 0 {
			in = ins[0] // a pod's Wasm containers share its sandbox; the oldest is the best guess
		}
	case ref.VMID != "":
		in, _ = snap.ByVMID(ref.VMID)
	}
	if in == nil || !r.s.keep(in) {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attrs == nil || r.walk != snap.Walk {
		r.attrs, r.walk = map[string]map[string]any{}, snap.Walk
	}
	a, ok := r.attrs[in.Key]
	if !ok {
		a = instanceResource(snap, in, r.rb).Attributes().AsRaw()
		r.attrs[in.Key] = a
	}
	return a, true
}
