package virtualizationattributesprocessor

import (
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/registry"
	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// wasmRuntimes are process names of WebAssembly engines run directly or by a containerd shim.
var wasmRuntimes = map[string]string{
	"wasmtime": "wasmtime", "wasmedge": "wasmedge", "spin": "spin", "wazero": "wazero", "wasmer": "wasmer",
	"iwasm": "wamr", "slight": "slight", "containerd-shim-wasmtime-v1": "wasmtime",
	"containerd-shim-wasmedge-v1": "wasmedge", "containerd-shim-spin-v2": "spin",
}

// classifyInstance decides the isolation of a process from its name and cgroup identity.
func classifyInstance(comm string, id cgroupid.Identity) (kind, runtime, vmm string) {
	switch {
	case wasmRuntimes[comm] != "":
		return registry.KindWasm, wasmRuntimes[comm], ""
	case comm == "firecracker":
		return registry.KindMicroVM, "firecracker", "firecracker"
	case comm == "cloud-hypervisor":
		return registry.KindMicroVM, "cloud_hypervisor", "cloud_hypervisor"
	case strings.HasPrefix(comm, "qemu-system-") || comm == "qemu-kvm":
		if id.Runtime == cgroupid.RuntimeKata {
			return registry.KindMicroVM, "kata", "qemu"
		}
		return registry.KindVM, "qemu", "qemu"
	case comm == "runsc" || strings.HasPrefix(comm, "runsc-"):
		return registry.KindSandbox, "gvisor", ""
	}
	switch id.Runtime {
	case cgroupid.RuntimeKata:
		return registry.KindMicroVM, "kata", ""
	case cgroupid.RuntimeFirecracker:
		return registry.KindMicroVM, "firecracker", "firecracker"
	case cgroupid.RuntimeLibvirt:
		return registry.KindVM, "libvirt", "qemu"
	case "":
		if id.ContainerID == "" && id.PodUID == "" {
			return registry.KindProcess, "", ""
		}
		// A kubelet cgroupfs path names the pod and container but not the runtime.
	}
	return registry.KindContainer, id.Runtime, ""
}

// procInstance is what the lookup learns about one process.
type procInstance struct {
	pid  int
	comm string
	id   cgroupid.Identity
}

// readProc reads /proc/<pid>/comm and /proc/<pid>/cgroup below the root.
func readProc(f virtdetect.FS, pid int) (procInstance, bool) {
	p := "/proc/" + strconv.Itoa(pid)
	b, err := f.ReadFile(p + "/cgroup")
	if err != nil {
		return procInstance{}, false
	}
	path := virtdetect.PreferredCgroupPath(virtdetect.ParseProcCgroup(b))
	return procInstance{pid: pid, comm: f.ReadString(p + "/comm"), id: cgroupid.Parse(path)}, true
}

// localIndex maps container ids and pod uids to instances, from one scan of /proc.
type localIndex struct {
	byContainer map[string]procInstance
	byPod       map[string]procInstance
	scanned     time.Time
	truncated   bool
}

// scanProc reads up to maxProcs processes. Workload processes are preferred over runtime
// helpers (conmon, shims) by keeping the first non-monitor process seen per id.
func scanProc(f virtdetect.FS, maxProcs int) *localIndex {
	idx := &localIndex{byContainer: map[string]procInstance{}, byPod: map[string]procInstance{}, scanned: time.Now()}
	n := 0
	for _, name := range f.ReadDir("/proc") {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		if n >= maxProcs {
			idx.truncated = true
			break
		}
		n++
		pi, ok := readProc(f, pid)
		if !ok || pi.id.IsZero() {
			continue
		}
		if c := pi.id.ContainerID; c != "" {
			if old, ok := idx.byContainer[c]; !ok || old.id.Monitor && !pi.id.Monitor {
				idx.byContainer[c] = pi
			}
		}
		if u := pi.id.PodUID; u != "" {
			if old, ok := idx.byPod[u]; !ok || old.id.Monitor && !pi.id.Monitor {
				idx.byPod[u] = pi
			}
		}
	}
	return idx
}

// lookup resolves one key by reading /proc; it runs on the resolver goroutine only.
func (p *virtProcessor) lookup(k cacheKey) *instanceInfo {
	build := func(pi procInstance) *instanceInfo {
		kind, runtime, vmm := classifyInstance(pi.comm, pi.id)
		return newInstanceInfo(kind, runtime, vmm, p.cfg.ResourceAttributes)
	}
	if k.kind == keyConnection {
		pid, ok := socketOwner(p.fs.Root(), k.ap, p.cfg.Association.MaxProcesses)
		if !ok {
			return nil
		}
		k = cacheKey{kind: keyPID, n: int64(pid)}
	}
	if k.kind == keyPID {
		if k.n > 1<<31 {
			return nil
		}
		if pi, ok := readProc(p.fs, int(k.n)); ok {
			return build(pi)
		}
		return nil
	}
	if p.index == nil || time.Since(p.index.scanned) >= p.cfg.Association.RescanInterval {
		p.index = scanProc(p.fs, p.cfg.Association.MaxProcesses)
		if p.index.truncated {
			p.warn.Warn("/proc scan stopped at association::max_processes; raise it to see every process")
		}
	}
	switch k.kind {
	case keyContainer:
		if pi, ok := p.index.byContainer[k.s]; ok {
			return build(pi)
		}
	case keyPod:
		if pi, ok := p.index.byPod[k.s]; ok {
			return build(pi)
		}
	case keyServiceInstance:
		if pid, ok := strings.CutPrefix(k.s, "pid:"); ok {
			if n, err := strconv.Atoi(pid); err == nil && n > 1 {
				if pi, ok := readProc(p.fs, n); ok {
					return build(pi)
				}
			}
			return nil
		}
		if pi, ok := p.index.byContainer[k.s]; ok {
			return build(pi)
		}
		if pi, ok := p.index.byPod[k.s]; ok {
			return build(pi)
		}
	}
	return nil
}
