package wasmruntimereceiver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// optIn are the metrics off by default that the fixture tests read too.
var optIn = []string{"container.network.io", "wasm_runtime.pressure.stall_time", "wasm_runtime.connection.count", "wasm_runtime.memory.peak",
	"wasm_runtime.disk.operations", "wasm_runtime.context_switches", "wasm_runtime.memory.swap_limit", "wasm_runtime.memory.virtual"}

func scrapeRoot(t *testing.T, name string, tweak func(*Config)) (pmetric.Metrics, *scraperImpl) {
	t.Helper()
	root, err := filepath.Abs(rootDir(name))
	require.NoError(t, err)
	return scrapeDirWith(t, root, nil, tweak)
}

func scrapeDirWith(t *testing.T, dir string, set *receiver.Settings, tweak func(*Config)) (pmetric.Metrics, *scraperImpl) {
	t.Helper()
	cfg := testConfig()
	cfg.RootPath = dir
	for _, n := range optIn {
		cfg.Metrics.SetEnabled(n, true)
	}
	if tweak != nil {
		tweak(cfg)
	}
	s := newTestScraperWith(t, cfg, set)
	md, err := scrapeFresh(s)
	if err != nil && !scrapererror.IsPartialScrapeError(err) {
		require.NoError(t, err)
	}
	return md, s
}

// noInstance requires that no instance has main pid pid.
func noInstance(t *testing.T, md pmetric.Metrics, pid, why string) {
	t.Helper()
	_, ok := findResource(md, "process.pid", pid)
	assert.False(t, ok, "pid %s: %s", pid, why)
}

// limitOf returns the limit.cgroup attribute of a metric's point.
func limitOf(rm pmetric.ResourceMetrics, name string) string {
	ps := points(rm, name)
	if len(ps) == 0 {
		return ""
	}
	return ps[0].attrs["wasm_runtime.limit.cgroup"]
}

func TestFixtureRunwasi(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-kubepods-systemd-runwasi", nil)
	rm := mustResource(t, md, "901")
	assert.Equal(t, "wasmtime", resAttr(rm, "wasm_runtime.runtime"), "engine from the shim's name")
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, runwasiScope, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, cid, resAttr(rm, "container.id"))
	assert.Equal(t, "containerd", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"))
	assert.Equal(t, "burstable", resAttr(rm, "wasm_runtime.k8s.pod.qos"))
	assert.Equal(t, "containerd-shim-wasmtime-v1", resAttr(rm, "process.executable.name"), "the base name of exe, not youki's comm")
	// The shim, its zygotes and the pause process are no instances: the pod has one.
	for _, pid := range []string{"900", "902", "903", "904"} {
		noInstance(t, md, pid, "a runwasi helper in containerd's cgroup, or the pod's pause")
	}
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.process.count"))

	// Limits set on the pod slice bound the container: effective, with the cgroup that set them.
	assert.Equal(t, 0.5, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, podSlice, limitOf(rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 134217728.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, podSlice, limitOf(rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, 100.0, mustValue(t, rm, "wasm_runtime.pids.limit"))
	for _, res := range []string{"cpu", "memory", "pids"} {
		assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", res), "%s bounded by an ancestor", res)
	}
	// Throttling is the pod's: its cpu.stat moves, the container's does not.
	assert.Equal(t, 1843.0, mustValue(t, rm, "wasm_runtime.cpu.throttled_periods"))
	assert.Equal(t, podSlice, limitOf(rm, "wasm_runtime.cpu.throttled_periods"))
	assert.InDelta(t, 4.1, mustValue(t, rm, "wasm_runtime.cpu.throttled_time"), 1e-9)

	assert.InDelta(t, 7.023456, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9)
	assert.InDelta(t, 1.1, mustValue(t, rm, "container.cpu.time", "cpu.mode", "system"), 1e-9)
	ws := float64(121634816 - 4194304)
	assert.Equal(t, 121634816.0, mustValue(t, rm, "container.memory.usage"))
	assert.Equal(t, ws, mustValue(t, rm, "container.memory.working_set"), "usage minus inactive_file")
	assert.Equal(t, 134217728-ws, mustValue(t, rm, "container.memory.available"), "effective limit minus working set")
	assert.Equal(t, 113246208.0, mustValue(t, rm, "container.memory.rss"))
	assert.InDelta(t, ws/134217728, mustValue(t, rm, "wasm_runtime.memory.limit.utilization"), 1e-9)
	assert.Equal(t, 3.0, mustValue(t, rm, "container.paging.faults", "system.paging.fault.type", "major"))
	assert.Equal(t, float64(60321-3), mustValue(t, rm, "container.paging.faults", "system.paging.fault.type", "minor"))
	assert.Equal(t, 134103040.0, mustValue(t, rm, "wasm_runtime.memory.peak"))
	assert.Equal(t, 3.0, mustValue(t, rm, "wasm_runtime.memory.oom.events"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.memory.oom.kills"))
	assert.Equal(t, 12.0, mustValue(t, rm, "wasm_runtime.pids.current"))
	assert.Equal(t, 314773504.0, mustValue(t, rm, "container.disk.io", "disk.io.direction", "write", "system.device", "8:16"), "no /sys/dev/block entry: the number names the device")
	assert.Equal(t, 353.0, mustValue(t, rm, "wasm_runtime.disk.operations", "disk.io.direction", "write"))
	assert.InDelta(t, 88.123456, mustValue(t, rm, "wasm_runtime.pressure.stall_time", "wasm_runtime.pressure.resource", "cpu", "wasm_runtime.pressure.scope", "some"), 1e-9)
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "network.connection.state", "listen"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "network.connection.state", "established"), "inode 6003 belongs to another process")
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.connection.count", "network.connection.state", "syn_received"))
	assert.Equal(t, 4.0, mustValue(t, rm, "wasm_runtime.file_descriptor.count"))
	assert.Equal(t, 18874368.0, mustValue(t, rm, "container.network.io", "network.io.direction", "receive", "network.interface.name", "eth0"), "pod network namespace")
	for _, p := range points(rm, "container.network.io") {
		assert.NotEqual(t, "lo", p.attrs["network.interface.name"], "loopback excluded")
	}
	assert.Equal(t, 1024.0, mustValue(t, rm, "wasm_runtime.file_descriptor.limit"))
	assert.Equal(t, 6.0, mustValue(t, rm, "wasm_runtime.thread.count"))
	_, ok := value(rm, "wasm_runtime.cpu.time")
	assert.False(t, ok, "cgroup instances report container.cpu.time")
}

func TestFixtureSpinKube(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-kubepods-cgroupfs-spinkube", nil)
	rm := mustResource(t, md, "951")
	assert.Equal(t, "spin", resAttr(rm, "wasm_runtime.runtime"), "the engine from the Spin shim's name")
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "/kubepods/besteffort/pod"+podUID+"/"+cid2, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, cid2, resAttr(rm, "container.id"))
	assert.Equal(t, "besteffort", resAttr(rm, "wasm_runtime.k8s.pod.qos"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.process.count"))
	noInstance(t, md, "950", "the shim in containerd's cgroup")
	for _, res := range []string{"cpu", "memory", "pids"} {
		assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", res), "a best-effort pod is unbounded: %s", res)
	}
}

func TestFixtureKataSandboxCgroupOnly(t *testing.T) {
	md, s := scrapeRoot(t, "v2-kata-sandbox-cgroup-only", nil)
	rm := mustResource(t, md, "5100")
	for _, pid := range []string{"5101", "5102"} {
		noInstance(t, md, pid, "the VMM and virtiofsd are the sandbox's")
	}
	assert.Equal(t, 3.0, mustValue(t, rm, "wasm_runtime.process.count"), "shim, QEMU and virtiofsd, all in the sandbox cgroup")
	assert.Equal(t, kataSandbox, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, "microvm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "kata", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"), "completed from the VMM process")
	assert.Equal(t, sandboxID, resAttr(rm, "wasm_runtime.vm.id"))
	assert.Equal(t, "sandbox-"+sandboxID, resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, "2147483648", resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "1", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"))
	assert.Equal(t, "kata", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, 22.0, mustValue(t, rm, "wasm_runtime.thread.count"))
	assert.InDelta(t, 39.7, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user")+mustValue(t, rm, "container.cpu.time", "cpu.mode", "system"), 1e-9)
	assert.Equal(t, 2684354560.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	_, ok := value(rm, "wasm_runtime.cpu.limit")
	assert.False(t, ok, "cpu.max max on the whole path")
	in, ok := s.inv.Current().ByPID(5102)
	require.True(t, ok, "virtiofsd is in the inventory, as the sandbox's")
	assert.Equal(t, kataSandbox, in.Key)
}

// cgroup v1, sandbox_cgroup_only=false: the instance is the sandbox cgroup (where the vCPU
// threads run) plus the overhead cgroup (shim, virtiofsd, the VMM's leader); its CPU and memory
// are both's, its limits the pod's.
func TestFixtureKataOverheadV1(t *testing.T) {
	md, s := scrapeRoot(t, "v1-kata-overhead", nil)
	var rm pmetric.ResourceMetrics
	n := 0
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		r := md.ResourceMetrics().At(i)
		if resAttr(r, "wasm_runtime.runtime") == "kata" {
			rm, n = r, n+1
		}
	}
	require.Equal(t, 1, n, "one instance for the sandbox, not one per cgroup")
	assert.Equal(t, kataSandbox, resAttr(rm, "wasm_runtime.instance.id"), "keyed on the sandbox cgroup")
	assert.Equal(t, 3.0, mustValue(t, rm, "wasm_runtime.process.count"))
	assert.Equal(t, sandboxID, resAttr(rm, "wasm_runtime.vm.id"))
	assert.Equal(t, "2", resAttr(rm, "wasm_runtime.vm.vcpus"))
	// cpuacct.usage_user and usage_sys of both cgroups, in nanoseconds.
	assert.InDelta(t, 58+9, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9)
	assert.InDelta(t, 3+5.5, mustValue(t, rm, "container.cpu.time", "cpu.mode", "system"), 1e-9)
	assert.Equal(t, float64(805306368+52428800), mustValue(t, rm, "container.memory.usage"))
	// The pod's limits: v1's hierarchical_memory_limit, and the pod's cfs quota.
	assert.Equal(t, 2684354560.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, kataPodCgfs, limitOf(rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, kataPodCgfs, limitOf(rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 23.0, mustValue(t, rm, "wasm_runtime.pids.current"), "tasks of both cgroups")
	in, ok := s.inv.Current().ByPID(5201)
	require.True(t, ok)
	require.Len(t, in.Extra, 1)
	assert.Equal(t, kataOverhead, in.Extra[0].V1[0], "the overhead cgroup is the instance's second cgroup")
}

func TestFixtureCrunWasm(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-podman-crun-wasm", nil)
	rm := mustResource(t, md, "8101")
	assert.Equal(t, "wasmedge", resAttr(rm, "wasm_runtime.runtime"), "the handler crun runs in-process")
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "hello.wasm", resAttr(rm, "wasm_runtime.wasm.module"))
	assert.Equal(t, libpodScope, resAttr(rm, "wasm_runtime.instance.id"), "Podman's scope, not its container/ sub-cgroup")
	assert.Equal(t, "podman", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, "crun", resAttr(rm, "process.executable.name"))
	assert.Equal(t, 268435456.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	noInstance(t, md, "8100", "conmon is Podman's monitor")
}

func TestFixtureFirecrackerJailer(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-firecracker-jailer", nil)
	rm := mustResource(t, md, "4100")
	assert.Equal(t, "microvm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "firecracker", resAttr(rm, "wasm_runtime.runtime"), "a release binary's 15-byte comm")
	assert.Equal(t, "firecracker", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, jailerID, resAttr(rm, "wasm_runtime.vm.id"))
	assert.Equal(t, "firecracker", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, "/"+fcRelease+"/"+jailerID, resAttr(rm, "wasm_runtime.instance.id"), "the jailer's cgroup named after the exec file")
	assert.Equal(t, fcRelease, resAttr(rm, "process.executable.name"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "memory"))
}

func TestFixtureProxmox(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-proxmox-qemu", nil)
	rm := mustResource(t, md, "9100")
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "vm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "104", resAttr(rm, "wasm_runtime.vm.id"), "Proxmox's vmid from -id, as the scope names it")
	assert.Equal(t, "web", resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, "4", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, "8589934592", resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "proxmox", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, proxmoxScope, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.process.count"), "QEMU and its swtpm, both in the scope")
	assert.Equal(t, 9663676416.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
}

func TestFixtureLibvirtSystemd(t *testing.T) {
	md, s := scrapeRoot(t, "hybrid-libvirt-qemu", nil)
	rm := mustResource(t, md, "3100")
	assert.Equal(t, "vm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, "libvirt", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, "web-01", resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, vmUUID, resAttr(rm, "wasm_runtime.vm.id"), "-uuid names the domain")
	assert.Equal(t, "2", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, "2147483648", resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "hybrid", resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.Equal(t, libvirtScope, resAttr(rm, "wasm_runtime.instance.id"), "the machine scope, not libvirt/emulator")
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.memory.oom.kills"), "the kills of libvirt/emulator: v1 counts per cgroup")
	assert.InDelta(t, 900, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9, "cpuacct.usage_user in ns")
	assert.Equal(t, 4.0, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 120.0, mustValue(t, rm, "wasm_runtime.cpu.throttled_periods"))
	assert.Equal(t, 2684354560.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	assert.InDelta(t, 0.042, mustValue(t, rm, "wasm_runtime.pressure.stall_time", "wasm_runtime.pressure.resource", "io", "wasm_runtime.pressure.scope", "some")*1000, 1e-9)
	in, _ := s.inv.Current().ByPID(3100)
	assert.Len(t, in.Procs, 1, "one process; its vCPU threads are in libvirt/vcpuN of the same scope")
}

func TestFixtureLibvirtCgroupfs(t *testing.T) {
	md, _ := scrapeRoot(t, "v1-libvirt-cgroupfs", nil)
	rm := mustResource(t, md, "3300")
	assert.Equal(t, "/machine/qemu-2-db.libvirt-qemu", resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, "db", resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, "libvirt", resAttr(rm, "container.runtime.name"))
	// No cpuacct.usage_user on this kernel: the nanosecond total split as cpuacct.stat's ticks.
	assert.InDelta(t, 5*4200.0/5000, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9)
	assert.InDelta(t, 5*800.0/5000, mustValue(t, rm, "container.cpu.time", "cpu.mode", "system"), 1e-9)
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "memory"))
}

// v1: the container reads unlimited, memory.stat's hierarchical_memory_limit and the pod's cfs
// quota say otherwise; no missing-limits posture for a confined workload.
func TestFixtureSpinV1HierarchicalLimits(t *testing.T) {
	md, _ := scrapeRoot(t, "v1-kubepods-cgroupfs-spin", nil)
	rm := mustResource(t, md, "1200")
	noInstance(t, md, "1201", "spin trigger is part of the same cgroup instance")
	assert.Equal(t, "spin", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "v1", resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.process.count"))
	assert.Equal(t, 13.0, mustValue(t, rm, "wasm_runtime.thread.count"))
	assert.Equal(t, 268435456.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	pod := "/kubepods/burstable/pod" + podUID
	assert.Equal(t, pod, limitOf(rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, pod, limitOf(rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "memory"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "cpu"))
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "pids"))
	assert.InDelta(t, 42, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9, "cpuacct.usage_user, not tick-sampled cpuacct.stat")
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.memory.oom.kills"))
	_, ok := value(rm, "wasm_runtime.memory.oom.events")
	assert.False(t, ok, "v1 has no OOM event count")
	assert.Equal(t, 1228800.0, mustValue(t, rm, "container.disk.io", "disk.io.direction", "write"))
	assert.Equal(t, 300.0, mustValue(t, rm, "wasm_runtime.disk.operations", "disk.io.direction", "write"))
}

func TestFixtureEdgeCatalog(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-edge-catalog", nil)
	type want struct {
		runtime, kind, vmm, grouping, module, vmName, vcpus, mem string
	}
	for pid, w := range map[string]want{
		"7001": {runtime: "wasmedge", kind: "wasm", grouping: "process", module: "app_aot.cwasm"},
		"7002": {runtime: "wasmer", kind: "wasm", grouping: "process"},
		"7003": {runtime: "wamr", kind: "wasm", grouping: "cgroup", module: "sensor.wasm"},
		"7004": {runtime: "cloud_hypervisor", kind: "microvm", vmm: "cloud_hypervisor", grouping: "cgroup", vcpus: "2", mem: "536870912"},
		"7005": {runtime: "crosvm", kind: "microvm", vmm: "crosvm", grouping: "cgroup", vmName: "android", vcpus: "4", mem: "1073741824"},
		"7006": {runtime: "wasmcloud", kind: "wasm", grouping: "cgroup"},
	} {
		rm := mustResource(t, md, pid)
		got := want{
			runtime: resAttr(rm, "wasm_runtime.runtime"), kind: resAttr(rm, "wasm_runtime.instance.kind"),
			vmm: resAttr(rm, "wasm_runtime.vmm"), grouping: resAttr(rm, "wasm_runtime.instance.grouping"),
			module: resAttr(rm, "wasm_runtime.wasm.module"), vmName: resAttr(rm, "wasm_runtime.vm.name"),
			vcpus: resAttr(rm, "wasm_runtime.vm.vcpus"), mem: resAttr(rm, "wasm_runtime.vm.memory_size"),
		}
		assert.Equal(t, w, got, "pid %s", pid)
	}
	noInstance(t, md, "7000", "the shell is no instance")
	noInstance(t, md, "7008", "wasmtime compile is tooling")
	sensor := mustResource(t, md, "7003")
	assert.InDelta(t, 0.1, mustValue(t, sensor, "wasm_runtime.cpu.limit"), 1e-9)
	assert.Equal(t, 16.0, mustValue(t, sensor, "wasm_runtime.pids.limit"))
}

// I/O on an LVM volume is counted on dm-0 and again on the disk below; the disk is skipped.
func TestFixtureStackedDevices(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-dm-over-sd", nil)
	rm := mustResource(t, md, "7500")
	devices := map[string]float64{}
	for _, p := range points(rm, "container.disk.io") {
		if p.attrs["disk.io.direction"] == "write" {
			devices[p.attrs["system.device"]] = p.value
		}
	}
	assert.Equal(t, map[string]float64{"dm-0": 209715200, "sdb": 0}, devices, "sda holds dm-0: its I/O is dm-0's")
}

// Ten years of uptime: start times in clock ticks whose product with 1e9 overflows int64.
func TestFixtureLongUptime(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-ten-year-uptime", nil)
	rm := mustResource(t, md, "7600")
	want := pcommon.Timestamp(uint64(bootTime-3600) * 1e9)
	ps := rm.ScopeMetrics().At(0).Metrics()
	require.Positive(t, ps.Len())
	for i := 0; i < ps.Len(); i++ {
		m := ps.At(i)
		if m.Type() == pmetric.MetricTypeSum {
			assert.Equal(t, want, m.Sum().DataPoints().At(0).StartTimestamp(), m.Name())
		}
	}
}

// A vanished pid, a truncated stat and a malformed memory.stat do not stop the scrape: the
// instance is reported with what could be read, the problems are counted by reason in the
// receiver's telemetry, returned as a partial scrape error, and logged once per reason.
func TestFixtureBrokenFiles(t *testing.T) {
	root, err := filepath.Abs(rootDir("v2-broken"))
	require.NoError(t, err)
	core, logs := observer.New(zap.DebugLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := receivertest.NewNopSettings(Type)
	set.Logger = zap.New(core)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	cfg := testConfig()
	cfg.RootPath = root
	s := newTestScraperWith(t, cfg, &set)
	for i := 0; i < 3; i++ {
		md, err := scrapeFresh(s)
		require.Error(t, err, "the malformed memory.stat is a partial scrape error")
		assert.True(t, scrapererror.IsPartialScrapeError(err), "%v", err)
		rm := mustResource(t, md, "6002")
		assert.Equal(t, "hello.wasm", resAttr(rm, "wasm_runtime.wasm.module"))
		assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"), "a systemd service is its own cgroup")
		assert.Equal(t, 4096000.0, mustValue(t, rm, "container.memory.usage"))
		_, ok := value(rm, "container.memory.working_set")
		assert.False(t, ok, "no working set from a malformed memory.stat")
		_, ok = value(rm, "wasm_runtime.pids.current")
		assert.False(t, ok, "no pids controller files")
		assert.InDelta(t, 0.1, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9)
		assert.Equal(t, 1, md.ResourceMetrics().Len(), "no self-metrics resource in the pipeline")
	}
	errs := telemetrySum(t, tel, "otelcol_wasm_runtime_scrape_errors")
	assert.GreaterOrEqual(t, errs["malformed"], int64(3), "one malformed memory.stat per scrape")
	assert.Positive(t, errs["missing"], "pids.current absent from a live cgroup")
	// One warning per reason from each reader (the inventory's walk met the truncated stat, the
	// scrape the malformed memory.stat), repeats at debug level.
	warns := logs.FilterLevelExact(zap.WarnLevel).All()
	perReason := map[string]int{}
	for _, w := range warns {
		if r, ok := w.ContextMap()["reason"].(string); ok {
			perReason[w.Message[:20]+" "+r]++
		}
	}
	assert.Equal(t, map[string]int{"reads failed while d malformed": 1, "reads failed during  malformed": 1, "reads failed during  missing": 1}, perReason, "%v", warns)
}

// TestNoCgroupFilesystem: a root without sys/fs/cgroup (a container that mounted only /proc)
// still reports per-process figures, and says so once rather than at every scrape.
func TestNoCgroupFilesystem(t *testing.T) {
	dir := t.TempDir()
	fixtureRoot{mode: "v2", procs: []fixtureProc{
		{pid: 50, ppid: 1, comm: "wasmtime", args: []string{"wasmtime", "run", "a.wasm"}, cgroup: "0::/\n", startTicks: 10, utime: 100, rssPages: 10},
	}}.write(t, dir)
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "sys")))
	core, logs := observer.New(zap.WarnLevel)
	set := receivertest.NewNopSettings(Type)
	set.Logger = zap.New(core)
	cfg := testConfig()
	cfg.RootPath = dir
	s := newTestScraperWith(t, cfg, &set)
	for i := 0; i < 3; i++ {
		rm := mustResource(t, scrapeOnce(t, s), "50")
		assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.cpu.time", "cpu.mode", "user"))
		assert.Equal(t, "", resAttr(rm, "wasm_runtime.cgroup.version"))
	}
	assert.Equal(t, 1, logs.FilterMessageSnippet("no cgroup hierarchy").Len())
}

// The roots captured from live runtimes (make capture-fixtures) read as the live tests saw them.
func TestCapturedRoots(t *testing.T) {
	for _, tc := range []struct {
		root, runtime, kind, crt string
		procs                    float64
		tweak                    func(*Config)
	}{
		{"captured-gvisor-runsc-do", "gvisor", "sandbox", "gvisor", 2, nil},
		{"captured-gvisor-runsc-run", "gvisor", "sandbox", "", 3, nil},
		{"captured-podman-runc", "podman", "container", "podman", 1, func(c *Config) { c.Containers = true }},
		{"captured-libvirt-qemu-tcg", "qemu", "vm", "libvirt", 1, nil},
	} {
		t.Run(tc.root, func(t *testing.T) {
			md, _ := scrapeRoot(t, tc.root, tc.tweak)
			require.Equal(t, 1, md.ResourceMetrics().Len(), "one instance in the capture")
			rm := md.ResourceMetrics().At(0)
			assert.Equal(t, tc.runtime, resAttr(rm, "wasm_runtime.runtime"))
			assert.Equal(t, tc.kind, resAttr(rm, "wasm_runtime.instance.kind"))
			assert.Equal(t, tc.crt, resAttr(rm, "container.runtime.name"))
			assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
			assert.Equal(t, tc.procs, mustValue(t, rm, "wasm_runtime.process.count"))
			assert.Positive(t, mustValue(t, rm, "container.memory.usage"))
		})
	}
}
