package virtdetect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCmdline(t *testing.T) {
	c := ParseCmdline(`console=ttyS0 quiet agent.log="debug all" virtio_mmio.device=4K@0xd0000000:5 -- --init --addr 0.0.0.0:1`)
	assert.True(t, c.Has("quiet"))
	assert.True(t, c.HasPrefix("agent."))
	v, ok := c.Value("agent.log")
	assert.True(t, ok)
	assert.Equal(t, "debug all", v, "quoted values keep their spaces")
	assert.Equal(t, []string{"--init", "--addr", "0.0.0.0:1"}, c.Init, "what follows -- belongs to init")
	assert.False(t, c.Has("--addr"))
}

func TestParseCPUInfo(t *testing.T) {
	ci := ParseCPUInfo([]byte("processor\t: 0\nmodel name\t: QEMU Virtual CPU version 2.5+\nflags\t\t: fpu vmx hypervisor\n\nprocessor\t: 1\nflags\t\t: fpu\n"))
	assert.Equal(t, CPUInfo{HypervisorFlag: true, VirtFlags: true, ModelName: "QEMU Virtual CPU version 2.5+", Present: true}, ci)
	arm := ParseCPUInfo([]byte("processor\t: 0\nFeatures\t: fp asimd cpuid\n"))
	assert.True(t, arm.Present)
	assert.False(t, arm.HypervisorFlag)
	assert.False(t, ParseCPUInfo(nil).Present)
}

func TestParseACPIHeaderOfCapturedTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "hosts", "live-firecracker-host", "root", "sys", "firmware", "acpi", "tables", "DSDT"))
	require.NoError(t, err)
	h, ok := ParseACPIHeader(b)
	require.True(t, ok)
	// 3923 bytes: the size of /sys/firmware/acpi/tables/DSDT on the machine it was captured
	// from (the capture keeps only the header, whose length field must say so).
	assert.Equal(t, ACPIHeader{Signature: "DSDT", OEMID: "FIRECK", OEMTableID: "FCVMDSDT", CreatorID: "FCAT", TableLength: 3923}, h)
	_, ok = ParseACPIHeader(b[:35])
	assert.False(t, ok, "a truncated header is rejected")
}

func TestParseXenFeatures(t *testing.T) {
	assert.False(t, ParseXenFeatures("00000705"), "domU: bit 11 clear")
	assert.True(t, ParseXenFeatures("00000f05"), "dom0: bit 11 set")
	assert.True(t, ParseXenFeatures("0x800"))
	assert.False(t, ParseXenFeatures("not hex"))
}

func TestParseProcCgroupAndPreferredPath(t *testing.T) {
	lines := ParseProcCgroup([]byte("12:pids:/docker/abc\n4:memory:/docker/abc\n0::/\nbroken line\n3:cpu:relative\n"))
	require.Len(t, lines, 3, "malformed and relative lines are skipped")
	assert.Equal(t, []string{"pids"}, lines[0].Controllers)
	assert.Equal(t, "/docker/abc", PreferredCgroupPath(lines), "a root v2 entry gives way to v1 paths")
	v2 := ParseProcCgroup([]byte("0::/system.slice/docker-abc.scope\n"))
	assert.Equal(t, "/system.slice/docker-abc.scope", PreferredCgroupPath(v2))
	assert.Equal(t, "", PreferredCgroupPath(ParseProcCgroup([]byte("0::/\n"))))
}

func TestCgroupEngine(t *testing.T) {
	for path, want := range map[string]string{
		"/docker/abc": ContainerDocker, "/system.slice/docker-abc.scope": ContainerDocker,
		"/machine.slice/libpod-abc.scope/container":                    ContainerPodman,
		"/kubepods.slice/kubepods-pod1.slice/crio-abc.scope":           ContainerCRIO,
		"/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope": ContainerContainerd,
		"/kubepods/burstable/pod1/abc":                                 ContainerContainerd,
		"/lxc.payload.c1":                                              ContainerLXC,
		"/machine.slice/machine-c1.scope":                              ContainerNspawn,
		"/user.slice/user-1000.slice/session-2.scope":                  "",
	} {
		assert.Equal(t, want, CgroupEngine(path), path)
	}
}

func TestParseEnvironAndMounts(t *testing.T) {
	env := ParseEnviron([]byte("PATH=/bin\x00container=podman\x00=empty\x00noequals\x00A=1=2\x00"))
	assert.Equal(t, map[string]string{"PATH": "/bin", "container": "podman", "A": "1=2"}, env)
	m := ParseMounts([]byte("kataShared /run/kata-containers/shared/containers virtiofs rw 0 0\nshort line\n"))
	assert.Equal(t, []Mount{{Source: "kataShared", Target: "/run/kata-containers/shared/containers", FSType: "virtiofs", Options: "rw"}}, m)
}

func TestVirtioTransport(t *testing.T) {
	assert.Equal(t, "pci", VirtioTransport("../../../devices/pci0000:00/0000:00:01.0/virtio0"))
	assert.Equal(t, "mmio", VirtioTransport("../../../devices/platform/virtio-mmio.0/virtio0"))
	assert.Equal(t, "mmio", VirtioTransport("../../../devices/virtio-mmio-cmdline/virtio-mmio.1/virtio1"))
	assert.Equal(t, "ccw", VirtioTransport("../../../devices/css0/0.0.0000/0.0.0000/virtio0"))
	v := ReadVirtio(NewFS(filepath.Join("testdata", "hosts", "live-firecracker-host", "root")))
	assert.Equal(t, Virtio{Devices: 5, PCI: 5, PCIHostBridge: "8086:0d57", PCIDevices: 6, PCIBus: true}, v,
		"captured: 5 virtio-pci devices behind Firecracker's bridge, 6 PCI functions with the bridge")
	micro := ReadVirtio(NewFS(filepath.Join("testdata", "hosts", "live-qemu-microvm-tcg", "root")))
	assert.Equal(t, Virtio{PCIBus: true}, micro, "QEMU microvm: the kernel's PCI bus, no device on it")
	assert.Equal(t, Virtio{}, ReadVirtio(NewFS(t.TempDir())), "no sysfs: no PCI bus either")
}

func TestParseCPUIDVendor(t *testing.T) {
	for vendor, want := range map[string]string{
		"KVMKVMKVM\x00\x00\x00": HypervisorKVM, "Microsoft Hv": HypervisorHyperV, " lrpepyh  vr": HypervisorParallels,
		"bhyve bhyve ": HypervisorBhyve, "TCGTCGTCGTCG": HypervisorQEMUTCG,
	} {
		got, ok := ParseCPUIDVendor(vendor)
		assert.True(t, ok, "%q", vendor)
		assert.Equal(t, want, got, "%q", vendor)
	}
	_, ok := ParseCPUIDVendor("GenuineIntel")
	assert.False(t, ok)
}

func TestDeviceTree(t *testing.T) {
	fc := ReadDeviceTree(NewFS(filepath.Join("testdata", "hosts", "firecracker-arm64", "root")))
	assert.True(t, fc.Present)
	assert.True(t, fc.HasCompatible("linux,dummy-virt"))
	assert.False(t, fc.FWCfg)
	q := ReadDeviceTree(NewFS(filepath.Join("testdata", "hosts", "qemu-arm64-virt", "root")))
	assert.True(t, q.FWCfg)
	assert.Equal(t, []string{"a", "b"}, ParseCompatible([]byte("a\x00b\x00\x00")))
}
