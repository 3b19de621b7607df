package catalog

import "github.com/otelcol-virt/otelcol-virt/internal/cgroupid"

// ForCgroup classifies a workload known only by its cgroup (a container id or pod uid whose
// processes matched no entry): the cgroup layouts that name a runtime on their own.
func ForCgroup(id cgroupid.Identity) (kind, runtime, vmm string) {
	switch id.Runtime {
	case cgroupid.RuntimeKata:
		return KindMicroVM, "kata", ""
	case cgroupid.RuntimeFirecracker:
		return KindMicroVM, "firecracker", "firecracker"
	case cgroupid.RuntimeLibvirt:
		switch id.Machine {
		case "lxc":
			return KindContainer, "lxc", ""
		case "ch":
			return KindMicroVM, "cloud_hypervisor", "cloud_hypervisor"
		case "libxl":
			return KindVM, "xen", ""
		}
		return KindVM, "qemu", "qemu"
	case cgroupid.RuntimeProxmox:
		return KindVM, "qemu", "qemu"
	case cgroupid.RuntimeGVisor:
		return KindSandbox, "gvisor", ""
	case "":
		if id.ContainerID == "" && id.PodUID == "" {
			return KindProcess, "", ""
		}
		// A kubelet cgroupfs path names the pod and container but not the runtime.
		return KindContainer, "", ""
	}
	return KindContainer, id.Runtime, ""
}
