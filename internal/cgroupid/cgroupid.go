// Package cgroupid derives a workload's identity (container runtime and id, Kubernetes pod uid and
// QoS class, VM name and id) from its cgroup path alone. It is pure: no file is read, so it can be
// used on paths from /proc/<pid>/cgroup of any host, from fixtures or from remote data.
//
// Recognised layouts (with both kubelet cgroup drivers):
//
//	systemd kubelet   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
//	cgroupfs kubelet  /kubepods/burstable/pod<uid>/<id>
//	containerd        cri-containerd-<id>.scope, /<namespace>/<id>, slice:cri-containerd:<id>
//	CRI-O             crio-<id>.scope, crio-conmon-<id>.scope, /kubepods/.../crio-<id>
//	Docker            docker-<id>.scope, /docker/<id>
//	Podman            libpod-<id>.scope[/container], libpod-conmon-<id>.scope (systemd manager);
//	                  /libpod_parent/libpod-<id>, /libpod_parent/conmon (cgroupfs manager)
//	libvirt           /machine.slice/machine-qemu\x2d<id>\x2d<name>.scope[/libvirt/vcpu0], /machine/<name>.libvirt-qemu
//	Firecracker       <base>/<exec file name>/<id> (jailer --parent-cgroup defaults to the exec file
//	                  name: firecracker, firecracker-v1.12.0-x86_64)
//	Kata Containers   /kata_<sandbox id>, /kata_overhead/<sandbox id>, runtime-rs
//	                  /kata-overhead.slice/runtime-rs-<sandbox id>.scope
//	Proxmox VE        /qemu.slice/<vmid>.scope
//	gVisor runsc do   /runsc-<6 digits>
//	LXC               /lxc/<name>, /lxc.payload.<name>, /lxc.monitor.<name>
//	systemd-nspawn    /machine.slice/systemd-nspawn@<name>.service, machine-<name>.scope
package cgroupid

import (
	"strings"
)

// Runtime names reported in Identity.Runtime.
const (
	RuntimeContainerd  = "containerd"
	RuntimeCRIO        = "cri-o"
	RuntimeDocker      = "docker"
	RuntimePodman      = "podman"
	RuntimeLibvirt     = "libvirt"
	RuntimeFirecracker = "firecracker"
	RuntimeKata        = "kata"
	RuntimeLXC         = "lxc"
	RuntimeNspawn      = "nspawn"
	RuntimeProxmox     = "proxmox"
	RuntimeGVisor      = "gvisor"
)

// Kubernetes QoS classes reported in Identity.QoS.
const (
	QoSGuaranteed = "guaranteed"
	QoSBurstable  = "burstable"
	QoSBestEffort = "besteffort"
)

// Cgroup drivers reported in Identity.Driver.
const (
	DriverSystemd  = "systemd"
	DriverCgroupfs = "cgroupfs"
)

// Identity is what a cgroup path tells about the workload in it. Empty fields are unknown.
type Identity struct {
	// Runtime is the container runtime or VM manager that created the cgroup.
	Runtime string
	// ContainerID is the container's id as the runtime names it (64 hex digits for
	// containerd, CRI-O, Docker and Podman; the container name for LXC and nspawn).
	ContainerID string
	// PodUID is the Kubernetes pod uid in its canonical dashed form.
	PodUID string
	// QoS is the pod's Kubernetes QoS class.
	QoS string
	// Driver is the cgroup driver the path was laid out by, when it can be told.
	Driver string
	// VMName and VMID identify a virtual machine: libvirt domain name and id, Firecracker
	// jailer id, Kata sandbox id.
	VMName string
	VMID   string
	// Machine is the libvirt driver of a libvirt machine ("qemu", "lxc", "libxl", "ch").
	Machine string
	// Monitor is true for the cgroup of a runtime's helper rather than of the workload itself
	// (conmon, LXC monitor, Kata overhead holding the VMM's own threads).
	Monitor bool
	// Scope is the prefix of the path that delimits the instance: sub-cgroups that runtimes
	// create below it (libvirt's vcpuN/emulator, Podman's container) belong to the same instance.
	Scope string
}

// IsZero reports whether nothing was recognised.
func (id Identity) IsZero() bool { return id == Identity{} }

// Parse returns the identity encoded in a cgroup path such as the third field of a line of
// /proc/<pid>/cgroup. Unknown layouts give a zero Identity; Parse never fails.
func Parse(path string) Identity {
	var id Identity
	if path == "" {
		return id
	}
	// Walk the elements outermost first; later (deeper) matches refine earlier ones, so the
	// innermost container wins over its pod and its VM slice.
	var kube bool // seen a kubepods element
	var parent string
	end := 0
	for end < len(path) {
		start := end
		for start < len(path) && path[start] == '/' {
			start++
		}
		if start >= len(path) {
			break
		}
		end = start
		for end < len(path) && path[end] != '/' {
			end++
		}
		elem := path[start:end]
		prefix := path[:end]
		if parseElem(&id, elem, parent, &kube) {
			id.Scope = prefix
		}
		parent = elem
	}
	return id
}

// parseElem applies one path element to id and reports whether it delimits an instance.
func parseElem(id *Identity, elem, parent string, kube *bool) bool {
	// systemd-escaped unit names: the id is what sits between a known prefix and ".scope".
	if unit, ok := strings.CutSuffix(elem, ".scope"); ok {
		switch {
		case parent == "qemu.slice" && isDigits(unit):
			// Proxmox VE enters every VM's starter into qemu.slice/<vmid>.scope before it
			// runs QEMU, virtiofsd and swtpm (proxmox/qemu-server src/PVE/QemuServer.pm,
			// enter_systemd_scope, commit e6352be6).
			*id = Identity{Runtime: RuntimeProxmox, VMID: unit, Driver: DriverSystemd}
			return true
		case parent == "kata-overhead.slice" && strings.HasPrefix(unit, "runtime-rs-"):
			// Kata runtime-rs's overhead cgroup with the systemd driver:
			// "kata-overhead.slice:runtime-rs:<sid>" (kata-containers src/runtime-rs
			// crates/resource/src/cgroups/utils.rs, commit 7c6ba40c).
			*id = Identity{Runtime: RuntimeKata, VMID: strings.TrimPrefix(unit, "runtime-rs-"), Monitor: true, Driver: DriverSystemd}
			return true
		}
		return scopeUnit(id, unit)
	}
	if parent == "" && strings.HasPrefix(elem, "runsc-") && len(elem) == len("runsc-000000") && isDigits(elem[len("runsc-"):]) {
		// runsc do names its container "runsc-%06d" and, with no cgroupsPath, puts sandbox
		// and gofer in "/"+id (google/gvisor runsc/cmd/do.go and runsc/container/container.go,
		// commit 3c5eee17; the same at release-20221219.0).
		*id = Identity{Runtime: RuntimeGVisor, ContainerID: elem}
		return true
	}
	if strings.Count(elem, ":") == 2 { // "kubepods-pod<uid>.slice:cri-containerd:<id>" (systemd driver, no systemd)
		parts := strings.SplitN(elem, ":", 3)
		kubeSlice(id, parts[0], kube)
		if scopeUnit(id, parts[1]+"-"+parts[2]) {
			id.Driver = DriverSystemd
			return true
		}
		return false
	}
	if strings.HasSuffix(elem, ".slice") {
		return kubeSlice(id, elem, kube)
	}
	if unit, ok := strings.CutSuffix(elem, ".service"); ok {
		if name, ok := strings.CutPrefix(unit, "systemd-nspawn@"); ok && name != "" {
			*id = Identity{Runtime: RuntimeNspawn, ContainerID: unescapeSystemd(name), PodUID: id.PodUID, QoS: id.QoS, Driver: id.Driver}
			return true
		}
		return false
	}
	switch {
	case elem == "kubepods":
		*kube = true
		id.Driver = DriverCgroupfs
		id.QoS = QoSGuaranteed // refined by a burstable/besteffort child
		return false
	case *kube && parent == "kubepods" && (elem == QoSBurstable || elem == QoSBestEffort):
		id.QoS = elem
		return false
	case *kube && strings.HasPrefix(elem, "pod") && id.PodUID == "":
		if uid := elem[3:]; looksLikeUID(uid) {
			id.PodUID = uid
			return true
		}
		return false
	case strings.HasPrefix(elem, "kata_overhead"):
		id.Runtime = RuntimeKata
		id.Monitor = true
		return false
	case parent == "kata_overhead":
		id.Runtime = RuntimeKata
		id.VMID = elem
		id.Monitor = true
		return true
	case elem == "kata_sandboxed_pod": // runtime-rs parent of sandboxed pods, not a sandbox
		id.Runtime = RuntimeKata
		return false
	case strings.HasPrefix(elem, "kata_") && len(elem) > len("kata_"):
		id.Runtime = RuntimeKata
		id.VMID = elem[len("kata_"):]
		return true
	case strings.HasSuffix(elem, ".libvirt-qemu") || strings.HasSuffix(elem, ".libvirt-lxc"):
		// libvirt without systemd: /machine/<name>.libvirt-qemu
		// without systemd: /machine/qemu-<id>-<name>.libvirt-qemu (older: /machine/<name>.libvirt-qemu)
		name := elem[:strings.LastIndexByte(elem, '.')]
		if !machineScope(id, name) || id.Runtime != RuntimeLibvirt {
			*id = Identity{Runtime: RuntimeLibvirt, VMName: name}
		}
		id.Machine = strings.TrimPrefix(elem[strings.LastIndexByte(elem, '.')+1:], "libvirt-")
		id.Driver = DriverCgroupfs
		return true
	case strings.HasPrefix(parent, "firecracker") && elem != "":
		// jailer: <cgroup base>/<parent cgroup, default the exec file name>/<id>; the exec file
		// is the binary's resolved name, e.g. a release's "firecracker-v1.12.0-x86_64"
		// (firecracker-microvm/firecracker src/jailer/src/env.rs, commit 81b38b9d: the
		// parent_cgroup default Path::new(&exec_file_name)). A renamed binary (allowed since
		// v1.13) gives no such hint; the receiver then finds the VMM by its own cgroup.
		id.Runtime, id.VMID = RuntimeFirecracker, elem
		return true
	case strings.HasPrefix(elem, "libpod-") && isHexID(elem[len("libpod-"):]):
		// Podman's cgroupfs manager: <cgroup parent, default /libpod_parent>/libpod-<id>.
		id.Runtime, id.ContainerID = RuntimePodman, elem[len("libpod-"):]
		return true
	case parent == "libpod_parent" && elem == "conmon":
		id.Runtime, id.Monitor = RuntimePodman, true
		return true
	case parent == "docker" && isHexID(elem):
		id.Runtime, id.ContainerID = RuntimeDocker, elem
		return true
	case parent == "lxc" && elem != "":
		id.Runtime, id.ContainerID = RuntimeLXC, elem
		return true
	case strings.HasPrefix(elem, "lxc.payload.") && len(elem) > len("lxc.payload."):
		id.Runtime, id.ContainerID = RuntimeLXC, elem[len("lxc.payload."):]
		return true
	case strings.HasPrefix(elem, "lxc.monitor.") && len(elem) > len("lxc.monitor."):
		id.Runtime, id.ContainerID, id.Monitor = RuntimeLXC, elem[len("lxc.monitor."):], true
		return true
	case strings.HasPrefix(elem, "crio-") && *kube:
		// CRI-O with the cgroupfs driver: /kubepods/<qos>/pod<uid>/crio-<id>
		if cid := strings.TrimPrefix(elem, "crio-"); isHexID(cid) {
			id.Runtime, id.ContainerID = RuntimeCRIO, cid
			return true
		}
		return false
	case isHexID(elem) && len(elem) == 64:
		// cgroupfs containers: /kubepods/<qos>/pod<uid>/<id> or a containerd namespace /<ns>/<id>.
		id.ContainerID = elem
		if !*kube && parent != "" && !strings.HasPrefix(parent, "kata_") {
			id.Runtime = RuntimeContainerd
		}
		return true
	}
	return false
}
