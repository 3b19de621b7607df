package cgroupid

import (
	"strings"
	"testing"
)

// Paths below are laid out as the named component creates them; the origin of each layout is
// given per case (source file or documentation of that component).
func TestParse(t *testing.T) {
	const cid = "4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	tests := []struct {
		name, origin, path string
		want               Identity
	}{
		{
			name:   "kubelet systemd burstable containerd",
			origin: "kubelet pkg/kubelet/cm/cgroup_manager_linux.go (systemd driver: '-' nesting, '_' for '-' in the uid); containerd cri 'cri-containerd' scope prefix",
			path:   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-" + cid + ".scope",
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSBurstable, Driver: DriverSystemd,
				Scope: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-" + cid + ".scope"},
		},
		{
			name:   "kubelet systemd guaranteed cri-o",
			origin: "kubelet (guaranteed pods sit directly under kubepods.slice); CRI-O internal/config/cgmgr systemd 'crio-<id>.scope'",
			path:   "/kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/crio-" + cid + ".scope",
			want: Identity{Runtime: RuntimeCRIO, ContainerID: cid, PodUID: "0a1b2c3d-4e5f-6789-abcd-ef0123456789", QoS: QoSGuaranteed, Driver: DriverSystemd,
				Scope: "/kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/crio-" + cid + ".scope"},
		},
		{
			name:   "kubelet systemd besteffort conmon",
			origin: "CRI-O conmon cgroup 'crio-conmon-<id>.scope' next to the container",
			path:   "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/crio-conmon-" + cid + ".scope",
			want: Identity{Runtime: RuntimeCRIO, ContainerID: cid, PodUID: "11111111-2222-3333-4444-555555555555", QoS: QoSBestEffort, Driver: DriverSystemd, Monitor: true,
				Scope: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/crio-conmon-" + cid + ".scope"},
		},
		{
			name:   "kubelet systemd pod slice only",
			origin: "kubelet pod cgroup before any container starts",
			path:   "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice",
			want: Identity{PodUID: "11111111-2222-3333-4444-555555555555", QoS: QoSBestEffort, Driver: DriverSystemd,
				Scope: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice"},
		},
		{
			name:   "kind node: kubelet cgroup-root kubelet.slice",
			origin: "kind node image (kubelet --cgroup-root=/kubelet)",
			path:   "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-" + cid + ".scope",
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSBurstable, Driver: DriverSystemd,
				Scope: "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-" + cid + ".scope"},
		},
		{
			name:   "systemd cgroupsPath handed through literally",
			origin: "runc libcontainer/cgroups/systemd 'slice:prefix:name' cgroupsPath form, seen when systemd does not run the node",
			path:   "/system.slice/containerd.service/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice:cri-containerd:" + cid,
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSBurstable, Driver: DriverSystemd,
				Scope: "/system.slice/containerd.service/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice:cri-containerd:" + cid},
		},
		{
			name:   "kubelet cgroupfs burstable",
			origin: "kubelet cgroupfs driver: /kubepods/<qos>/pod<uid>/<container id> (containerd and docker)",
			path:   "/kubepods/burstable/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/" + cid,
			want: Identity{ContainerID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSBurstable, Driver: DriverCgroupfs,
				Scope: "/kubepods/burstable/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/" + cid},
		},
		{
			name:   "kubelet cgroupfs guaranteed",
			origin: "kubelet cgroupfs driver, guaranteed pods directly under /kubepods",
			path:   "/kubepods/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/" + cid,
			want: Identity{ContainerID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSGuaranteed, Driver: DriverCgroupfs,
				Scope: "/kubepods/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/" + cid},
		},
		{
			name:   "kubelet cgroupfs cri-o",
			origin: "CRI-O cgroupfs manager: crio-<id> under the pod cgroup",
			path:   "/kubepods/besteffort/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/crio-" + cid,
			want: Identity{Runtime: RuntimeCRIO, ContainerID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSBestEffort, Driver: DriverCgroupfs,
				Scope: "/kubepods/besteffort/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/crio-" + cid},
		},
		{
			name:   "docker systemd",
			origin: "dockerd with native.cgroupdriver=systemd",
			path:   "/system.slice/docker-" + cid + ".scope",
			want:   Identity{Runtime: RuntimeDocker, ContainerID: cid, Driver: DriverSystemd, Scope: "/system.slice/docker-" + cid + ".scope"},
		},
		{
			name:   "docker cgroupfs",
			origin: "dockerd default cgroupfs driver: /docker/<id>",
			path:   "/docker/" + cid,
			want:   Identity{Runtime: RuntimeDocker, ContainerID: cid, Scope: "/docker/" + cid},
		},
		{
			name:   "containerd namespace cgroupfs (ctr, runwasi shims)",
			origin: "containerd default cgroupsPath /<namespace>/<id>, e.g. ctr run --runtime io.containerd.wasmtime.v1",
			path:   "/default/" + cid,
			want:   Identity{Runtime: RuntimeContainerd, ContainerID: cid, Scope: "/default/" + cid},
		},
		{
			name:   "podman rootless",
			origin: "podman with systemd cgroup manager, rootless; conmon moves the payload into 'container'",
			path:   "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + cid + ".scope/container",
			want:   Identity{Runtime: RuntimePodman, ContainerID: cid, Driver: DriverSystemd, Scope: "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + cid + ".scope"},
		},
		{
			name:   "libvirt systemd vcpu thread",
			origin: "libvirt docs/cgroups.rst: /machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/vcpu0",
			path:   `/machine.slice/machine-qemu\x2d1\x2dvm1.scope/libvirt/vcpu0`,
			want:   Identity{Runtime: RuntimeLibvirt, VMID: "1", VMName: "vm1", Driver: DriverSystemd, Machine: "qemu", Scope: `/machine.slice/machine-qemu\x2d1\x2dvm1.scope`},
		},
		{
			name:   "libvirt systemd name with dashes",
			origin: "systemd-machined escaping of a domain named web-01",
			path:   `/machine.slice/machine-qemu\x2d12\x2dweb\x2d01.scope`,
			want:   Identity{Runtime: RuntimeLibvirt, VMID: "12", VMName: "web-01", Driver: DriverSystemd, Machine: "qemu", Scope: `/machine.slice/machine-qemu\x2d12\x2dweb\x2d01.scope`},
		},
		{
			name:   "libvirt without systemd",
			origin: "libvirt docs/cgroups.rst non-systemd layout: /machine/qemu-1-vm1.libvirt-qemu/emulator",
			path:   "/machine/qemu-1-vm1.libvirt-qemu/emulator",
			want:   Identity{Runtime: RuntimeLibvirt, VMID: "1", VMName: "vm1", Driver: DriverCgroupfs, Machine: "qemu", Scope: "/machine/qemu-1-vm1.libvirt-qemu"},
		},
		{
			name:   "libvirt without systemd, old naming",
			origin: "libvirt < 1.3 non-systemd layout: /machine/<name>.libvirt-qemu",
			path:   "/machine/vm1.libvirt-qemu",
			want:   Identity{Runtime: RuntimeLibvirt, VMName: "vm1", Driver: DriverCgroupfs, Machine: "qemu", Scope: "/machine/vm1.libvirt-qemu"},
		},
		{
			name:   "firecracker jailer default parent",
			origin: "firecracker docs/jailer.md: <cgroup base>/<parent_cgroup = exec file name>/<id>, example id 551e7604-e35c-42b3-b825-416853441234",
			path:   "/firecracker/551e7604-e35c-42b3-b825-416853441234",
			want:   Identity{Runtime: RuntimeFirecracker, VMID: "551e7604-e35c-42b3-b825-416853441234", Scope: "/firecracker/551e7604-e35c-42b3-b825-416853441234"},
		},
		{
			name:   "firecracker jailer nested parent",
			origin: "firecracker docs/jailer.md --parent-cgroup with a nested parent",
			path:   "/fleet/firecracker/vm-7",
			want:   Identity{Runtime: RuntimeFirecracker, VMID: "vm-7", Scope: "/fleet/firecracker/vm-7"},
		},
		{
			name:   "kata sandbox cgroup",
			origin: "kata-containers docs/design/host-cgroups.md: sandbox cgroup kata_<sandbox id> under the pod cgroup",
			path:   "/kubepods/besteffort/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/kata_" + cid,
			want: Identity{Runtime: RuntimeKata, VMID: cid, PodUID: "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", QoS: QoSBestEffort, Driver: DriverCgroupfs,
				Scope: "/kubepods/besteffort/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/kata_" + cid},
		},
		{
			name:   "kata overhead",
			origin: "kata-containers docs/design/host-cgroups.md: SandboxCgroupOnly=false puts VMM threads in /kata_overhead/<sandbox id>",
			path:   "/kata_overhead/" + cid,
			want:   Identity{Runtime: RuntimeKata, VMID: cid, Monitor: true, Scope: "/kata_overhead/" + cid},
		},
		{
			name:   "lxc 4 payload",
			origin: "LXC >= 4.0 cgroup layout lxc.payload.<name> / lxc.monitor.<name>",
			path:   "/lxc.payload.web1",
			want:   Identity{Runtime: RuntimeLXC, ContainerID: "web1", Scope: "/lxc.payload.web1"},
		},
		{
			name:   "lxc legacy",
			origin: "LXC < 4 /lxc/<name>",
			path:   "/lxc/web1/init.scope",
			want:   Identity{Runtime: RuntimeLXC, ContainerID: "web1", Scope: "/lxc/web1"},
		},
		{
			name:   "systemd-nspawn service",
			origin: "systemd-nspawn@.service template unit registered with machined",
			path:   "/machine.slice/systemd-nspawn@debian.service/payload",
			want:   Identity{Runtime: RuntimeNspawn, ContainerID: "debian", Scope: "/machine.slice/systemd-nspawn@debian.service"},
		},
		{
			name:   "host process",
			origin: "ordinary systemd service",
			path:   "/system.slice/sshd.service",
			want:   Identity{},
		},
		{name: "root", origin: "cgroup v2 root", path: "/", want: Identity{}},
		{name: "this machine (sandbox memory cgroup)", origin: "/proc/self/cgroup on the development machine", path: "/process_api/f8a623d552d11180ce047c72e6fc4cba", want: Identity{}},
		{
			name:   "proxmox vm scope",
			origin: "proxmox/qemu-server src/PVE/QemuServer.pm (enter_systemd_scope with Slice qemu.slice, commit e6352be6)",
			path:   "/qemu.slice/104.scope",
			want:   Identity{Runtime: RuntimeProxmox, VMID: "104", Driver: DriverSystemd, Scope: "/qemu.slice/104.scope"},
		},
		{
			name:   "gvisor runsc do",
			origin: "google/gvisor runsc/cmd/do.go (id runsc-%06d) and runsc/container/container.go (cgroup \"/\"+id), commit 3c5eee17",
			path:   "/runsc-004217",
			want:   Identity{Runtime: RuntimeGVisor, ContainerID: "runsc-004217", Scope: "/runsc-004217"},
		},
		{
			name:   "kata runtime-rs overhead with the systemd driver",
			origin: "kata-containers src/runtime-rs crates/resource/src/cgroups/utils.rs (kata-overhead.slice:runtime-rs:<sid>), commit 7c6ba40c",
			path:   "/kata-overhead.slice/runtime-rs-" + cid + ".scope",
			want:   Identity{Runtime: RuntimeKata, VMID: cid, Monitor: true, Driver: DriverSystemd, Scope: "/kata-overhead.slice/runtime-rs-" + cid + ".scope"},
		},
		{
			name:   "firecracker jailer with a release binary",
			origin: "firecracker src/jailer/src/env.rs (parent cgroup defaults to the resolved exec file name), tools/release.sh names, commit 81b38b9d",
			path:   "/firecracker-v1.12.0-x86_64/551e7604-e35c-42b3-b825-416853441234",
			want:   Identity{Runtime: RuntimeFirecracker, VMID: "551e7604-e35c-42b3-b825-416853441234", Scope: "/firecracker-v1.12.0-x86_64/551e7604-e35c-42b3-b825-416853441234"},
		},
		{
			name:   "libvirt legacy scope without the domain id",
			origin: "libvirt src/util/virsystemd.c virSystemdMakeScopeName(legacy=true): machine-qemu\\x2d<name>.scope",
			path:   `/machine.slice/machine-qemu\x2dweb\x2d01.scope`,
			want:   Identity{Runtime: RuntimeLibvirt, VMName: "web-01", Machine: "qemu", Driver: DriverSystemd, Scope: `/machine.slice/machine-qemu\x2dweb\x2d01.scope`},
		},
		{
			name:   "podman cgroupfs manager",
			origin: "captured here: podman 4.3 --cgroup-manager=cgroupfs puts a container in /libpod_parent/libpod-<id> and conmon in /libpod_parent/conmon",
			path:   "/libpod_parent/libpod-" + cid,
			want:   Identity{Runtime: RuntimePodman, ContainerID: cid, Scope: "/libpod_parent/libpod-" + cid},
		},
		{
			name:   "podman conmon with the cgroupfs manager",
			origin: "captured here: /proc/<conmon>/cgroup under podman 4.3 --cgroup-manager=cgroupfs",
			path:   "/libpod_parent/conmon",
			want:   Identity{Runtime: RuntimePodman, Monitor: true, Scope: "/libpod_parent/conmon"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.path)
			if got != tt.want {
				t.Errorf("Parse(%q) (layout from %s)\n got  %+v\n want %+v", tt.path, tt.origin, got, tt.want)
			}
		})
	}
}

func TestUnescapeSystemd(t *testing.T) {
	for in, want := range map[string]string{
		`qemu\x2d1\x2dvm1`: "qemu-1-vm1",
		`a\x5fb`:           "a_b",
		`trailing\x2`:      `trailing\x2`,
		`bad\xzz`:          `bad\xzz`,
		`plain`:            "plain",
	} {
		if got := unescapeSystemd(in); got != want {
			t.Errorf("unescapeSystemd(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-0123456789abcdef.scope",
		"/kubepods/besteffort/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/kata_0123456789abcdef",
		`/machine.slice/machine-qemu\x2d1\x2dvm1.scope/libvirt/vcpu0`,
		"/firecracker/vm1", "/kata_overhead/x", "/x.slice:cri-containerd:0123456789abcdef", "//", `\x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		id := Parse(path)
		if strings.Contains(id.PodUID, "_") {
			t.Errorf("pod uid %q keeps systemd underscores", id.PodUID)
		}
		if id.Scope != "" && !strings.HasPrefix(path, id.Scope) {
			t.Errorf("scope %q is not a prefix of %q", id.Scope, path)
		}
		if id.Scope == "" && (id.ContainerID != "" || id.VMID != "" || id.VMName != "") {
			t.Errorf("identity %+v without a scope", id)
		}
	})
}
