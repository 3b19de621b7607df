package runtimelogs

import (
	"strconv"
	"sync"

	"github.com/otelcol-virt/otelcol-virt/internal/registry"
)

// RegistryResolver resolves records against the instances the wasm_runtime receiver published
// in reg on its last discovery: by the writer's pid (pid_from_path), by the Kubernetes pod of a
// container-format file, or by the VM id a VMM writes in its lines (Firecracker). The resource
// it returns is the identifying part of the instance's metrics resource: instance id and kind,
// runtime, VMM, cgroup path, container and pod ids, main pid and the discovered extras.
func RegistryResolver(reg *registry.Registry) Resolver {
	return &registryResolver{reg: reg}
}

type registryResolver struct {
	reg *registry.Registry

	mu    sync.Mutex
	snap  *registry.Snapshot
	attrs []map[string]any // per instance of snap, built on first use
	byVM  map[string]int
	index map[*registry.Instance]int
}

func (r *registryResolver) Resolve(ref InstanceRef) (map[string]any, bool) {
	snap := r.reg.Snapshot()
	if snap == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if snap != r.snap {
		r.snap, r.attrs, r.byVM = snap, make([]map[string]any, len(snap.Instances)), map[string]int{}
		r.index = make(map[*registry.Instance]int, len(snap.Instances))
		for i := range snap.Instances {
			r.index[&snap.Instances[i]] = i
			if id := snap.Instances[i].Attributes["wasm_runtime.vm.id"]; id != "" {
				r.byVM[id] = i
			}
		}
	}
	idx := -1
	switch {
	case ref.PID > 0:
		if in, ok := snap.ByPID(ref.PID); ok {
			idx = r.index[in]
		}
	case ref.PodUID != "":
		if ins := snap.ByPodUID(ref.PodUID); len(ins) > 0 {
			// A pod's Wasm containers share its sandbox; the first is the best guess.
			idx = r.index[ins[0]]
		}
	case ref.VMID != "":
		if i, ok := r.byVM[ref.VMID]; ok {
			idx = i
		}
	}
	if idx < 0 {
		return nil, false
	}
	if r.attrs[idx] == nil {
		r.attrs[idx] = instanceAttributes(&snap.Instances[idx])
	}
	return r.attrs[idx], true
}

// Integer resource attributes the registry carries as strings.
var intAttributes = map[string]bool{"wasm_runtime.vm.vcpus": true, "wasm_runtime.vm.memory_size": true}

func instanceAttributes(in *registry.Instance) map[string]any {
	m := map[string]any{
		"wasm_runtime.instance.id":   in.Key,
		"wasm_runtime.instance.kind": in.Kind,
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("wasm_runtime.runtime", in.Runtime)
	put("wasm_runtime.vmm", in.VMM)
	put("wasm_runtime.cgroup.path", in.CgroupPath)
	put("container.id", in.ContainerID)
	put("k8s.pod.uid", in.PodUID)
	if len(in.Pids) > 0 {
		m["process.pid"] = int64(in.Pids[0])
	}
	for k, v := range in.Attributes {
		if intAttributes[k] {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				m[k] = n
				continue
			}
		}
		put(k, v)
	}
	return m
}
