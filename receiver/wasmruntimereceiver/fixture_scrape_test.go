package wasmruntimereceiver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-virt/otelcol-virt/internal/registry"
)

func scrapeRoot(t *testing.T, name string, tweak func(*Config)) (pmetric.Metrics, *wasmRuntimeScraper) {
	t.Helper()
	root, err := filepath.Abs(rootDir(name))
	require.NoError(t, err)
	cfg := testConfig()
	cfg.RootPath = root
	for _, n := range []string{"container.network.io", "wasm_runtime.pressure.stall_time", "wasm_runtime.connection.count", "wasm_runtime.memory.peak", "wasm_runtime.disk.operations", "process.context_switches"} {
		cfg.Metrics[n] = metadataEnabled(true)
	}
	if tweak != nil {
		tweak(cfg)
	}
	s := newTestScraper(t, cfg)
	return scrapeOnce(t, s), s
}

func mustResource(t *testing.T, md pmetric.Metrics, pid string) pmetric.ResourceMetrics {
	t.Helper()
	rm, ok := findResource(md, "process.pid", pid)
	require.True(t, ok, "no instance with main pid %s", pid)
	return rm
}

func mustValue(t *testing.T, rm pmetric.ResourceMetrics, name string, attrs ...string) float64 {
	t.Helper()
	v, ok := value(rm, name, attrs...)
	require.True(t, ok, "%s %v missing in %s", name, attrs, dump(rm))
	return v
}

func TestFixtureRunwasiOnV2Systemd(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-kubepods-systemd-runwasi", nil)
	rm := mustResource(t, md, "901")
	assert.Equal(t, "wasmtime", resAttr(rm, "wasm_runtime.runtime"), "engine from the shim's name")
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, cid, resAttr(rm, "container.id"))
	assert.Equal(t, "containerd", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"))
	assert.Equal(t, "burstable", resAttr(rm, "wasm_runtime.k8s.pod.qos"))
	assert.Equal(t, "v2", resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.Equal(t, "true", resAttr(rm, "wasm_runtime.limits.configured"))

	assert.InDelta(t, 7.023456, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9)
	assert.InDelta(t, 1.1, mustValue(t, rm, "container.cpu.time", "cpu.mode", "system"), 1e-9)
	assert.Equal(t, 0.5, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 1843.0, mustValue(t, rm, "wasm_runtime.cpu.throttled_periods"))
	assert.InDelta(t, 91.234567, mustValue(t, rm, "wasm_runtime.cpu.throttled_time"), 1e-9)
	assert.Equal(t, 121634816.0, mustValue(t, rm, "container.memory.usage"))
	assert.Equal(t, float64(121634816-4194304), mustValue(t, rm, "container.memory.working_set"), "usage minus inactive_file")
	assert.Equal(t, 113246208.0, mustValue(t, rm, "container.memory.rss"))
	assert.InDelta(t, float64(121634816-4194304)/134217728, mustValue(t, rm, "wasm_runtime.memory.limit.utilization"), 1e-9)
	assert.Equal(t, 134103040.0, mustValue(t, rm, "wasm_runtime.memory.peak"))
	assert.Equal(t, 3.0, mustValue(t, rm, "wasm_runtime.memory.oom.events"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.memory.oom.kills"))
	assert.Equal(t, 12.0, mustValue(t, rm, "wasm_runtime.pids.current"))
	assert.Equal(t, 100.0, mustValue(t, rm, "wasm_runtime.pids.limit"))
	assert.Equal(t, 314773504.0, mustValue(t, rm, "container.disk.io", "disk.io.direction", "write"))
	assert.Equal(t, 353.0, mustValue(t, rm, "wasm_runtime.disk.operations", "disk.io.direction", "write"))
	assert.InDelta(t, 88.123456, mustValue(t, rm, "wasm_runtime.pressure.stall_time", "wasm_runtime.pressure.resource", "cpu", "wasm_runtime.pressure.scope", "some"), 1e-9)
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "wasm_runtime.connection.state", "listen"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "wasm_runtime.connection.state", "established"), "inode 6003 belongs to another process")
	assert.Equal(t, 4.0, mustValue(t, rm, "process.unix.file_descriptor.count"))
	assert.Equal(t, 18874368.0, mustValue(t, rm, "container.network.io", "network.io.direction", "receive"), "pod network namespace, loopback excluded")
	assert.Equal(t, 1048576.0, mustValue(t, rm, "container.network.io", "network.io.direction", "transmit"))
	assert.Equal(t, 1024.0, mustValue(t, rm, "wasm_runtime.file_descriptor.limit"))
	assert.Equal(t, 6.0, mustValue(t, rm, "process.thread.count"))
	_, ok := value(rm, "process.cpu.time")
	assert.False(t, ok, "cgroup-backed instances report container.cpu.time")

	// The shim's main process has no cgroup of its own: a separate process-tree instance.
	main := mustResource(t, md, "900")
	assert.Equal(t, "process", resAttr(main, "wasm_runtime.instance.grouping"))
	_, ok = value(main, "container.network.io")
	assert.False(t, ok, "the host's namespace says nothing about one instance")

	snap := registry.Shared().Snapshot()
	in, ok := snap.ByContainerID(cid)
	require.True(t, ok)
	assert.Equal(t, podUID, in.PodUID)
	assert.Equal(t, []int{901}, in.Pids)
}

func TestFixtureSpinOnV1Cgroupfs(t *testing.T) {
	md, _ := scrapeRoot(t, "v1-kubepods-cgroupfs-spin", nil)
	rm := mustResource(t, md, "1200")
	assert.Equal(t, "spin", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, cid, resAttr(rm, "container.id"))
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"))
	assert.Equal(t, "besteffort", resAttr(rm, "wasm_runtime.k8s.pod.qos"))
	assert.Equal(t, "v1", resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.Equal(t, "false", resAttr(rm, "wasm_runtime.limits.configured"))
	_, dup := findResource(md, "process.pid", "1201")
	assert.False(t, dup, "the trigger process is part of the same cgroup instance")
	assert.Equal(t, 13.0, mustValue(t, rm, "process.thread.count"), "threads of both processes")

	assert.Equal(t, 42.0, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), "cpuacct.stat ticks to seconds")
	assert.Equal(t, 8.0, mustValue(t, rm, "container.cpu.time", "cpu.mode", "system"))
	for _, res := range []string{"cpu", "memory", "pids"} {
		assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", res), res)
	}
	for _, n := range []string{"wasm_runtime.cpu.limit", "wasm_runtime.cpu.limit.utilization", "wasm_runtime.memory.limit", "wasm_runtime.memory.limit.utilization", "wasm_runtime.pids.limit", "wasm_runtime.cpu.throttled_periods"} {
		_, ok := value(rm, n)
		assert.False(t, ok, "%s must be absent when unlimited", n)
	}
	assert.Equal(t, 83058688.0, mustValue(t, rm, "container.memory.usage"))
	assert.Equal(t, float64(83058688-6643712), mustValue(t, rm, "container.memory.working_set"))
	assert.Equal(t, 2326528.0, mustValue(t, rm, "container.memory.rss"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.memory.oom.kills"))
	_, ok := value(rm, "wasm_runtime.memory.oom.events")
	assert.False(t, ok, "v1 has no OOM event count")
	assert.Equal(t, 90000000.0, mustValue(t, rm, "wasm_runtime.memory.peak"))
	assert.Equal(t, 1228800.0, mustValue(t, rm, "container.disk.io", "disk.io.direction", "write"))
	assert.Equal(t, 300.0, mustValue(t, rm, "wasm_runtime.disk.operations", "disk.io.direction", "write"))
	assert.Equal(t, 7.0, mustValue(t, rm, "wasm_runtime.pids.current"))
}

func TestFixtureLibvirtOnHybrid(t *testing.T) {
	md, _ := scrapeRoot(t, "hybrid-libvirt-qemu", nil)
	rm := mustResource(t, md, "3100")
	assert.Equal(t, "vm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, "libvirt", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, "web-01", resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, vmUUID, resAttr(rm, "wasm_runtime.vm.id"), "-uuid wins over the libvirt domain id")
	assert.Equal(t, "4", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, "2147483648", resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "hybrid", resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.Equal(t, `/machine.slice/machine-qemu\x2d3\x2dweb\x2d01.scope`, resAttr(rm, "wasm_runtime.instance.id"), "the scope, not the emulator sub-cgroup")
	assert.Equal(t, 4.0, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 120.0, mustValue(t, rm, "wasm_runtime.cpu.throttled_periods"))
	assert.InDelta(t, 9.0, mustValue(t, rm, "wasm_runtime.cpu.throttled_time"), 1e-9)
	assert.Equal(t, 2684354560.0, mustValue(t, rm, "wasm_runtime.memory.limit"))
	assert.InDelta(t, 0.042, mustValue(t, rm, "wasm_runtime.pressure.stall_time", "wasm_runtime.pressure.resource", "io", "wasm_runtime.pressure.scope", "some")*1000, 1e-9)
}

func TestFixtureFirecrackerJailer(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-firecracker-jailer", nil)
	rm := mustResource(t, md, "4100")
	assert.Equal(t, "microvm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "firecracker", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, jailerID, resAttr(rm, "wasm_runtime.vm.id"))
	assert.Equal(t, "firecracker", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, "/firecracker/"+jailerID, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.cpu.limit"))
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "memory"))
	assert.Equal(t, "false", resAttr(rm, "wasm_runtime.limits.configured"))
}

func TestFixtureKata(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-kata-qemu", nil)
	rm := mustResource(t, md, "5100")
	_, dup := findResource(md, "process.pid", "5101")
	assert.False(t, dup, "shim and VMM are one sandbox instance")
	assert.Equal(t, "microvm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "kata", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"), "completed from the VMM process")
	assert.Equal(t, "sandbox-"+sandboxID, resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, "2147483648", resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "1", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"))
	assert.Equal(t, "kata", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, 19.0, mustValue(t, rm, "process.thread.count"))
	_, ok := value(rm, "wasm_runtime.cpu.limit")
	assert.False(t, ok, "cpu.max max")
}

// TestFixtureBrokenFiles: a vanished pid, a truncated stat and a malformed memory.stat do not
// stop the scrape; the instance is reported with what could be read, the problems are counted
// by reason and logged once per reason per scrape (vanished only at debug level).
func TestFixtureBrokenFiles(t *testing.T) {
	root, err := filepath.Abs(rootDir("v2-broken"))
	require.NoError(t, err)
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(Type)
	set.Logger = zap.New(core)
	cfg := testConfig()
	cfg.RootPath = root
	s := newScraper(cfg, set)
	require.NoError(t, s.start(t.Context(), nil))
	t.Cleanup(func() { _ = s.shutdown(t.Context()) })
	for i := 0; i < 3; i++ {
		md := scrapeOnce(t, s)
		rm := mustResource(t, md, "6002")
		assert.Equal(t, "hello.wasm", resAttr(rm, "wasm_runtime.wasm.module"))
		assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"), "a systemd service is its own cgroup")
		assert.Equal(t, 4096000.0, mustValue(t, rm, "container.memory.usage"))
		_, ok := value(rm, "container.memory.working_set")
		assert.False(t, ok, "no working set from a malformed memory.stat")
		_, ok = value(rm, "wasm_runtime.pids.current")
		assert.False(t, ok, "no pids controller files")
		assert.InDelta(t, 0.1, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 1e-9)

		var selfRM pmetric.ResourceMetrics
		for j := 0; j < md.ResourceMetrics().Len(); j++ {
			if _, has := md.ResourceMetrics().At(j).Resource().Attributes().Get("wasm_runtime.instance.id"); !has {
				selfRM = md.ResourceMetrics().At(j)
			}
		}
		assert.Equal(t, float64(i+1), mustValue(t, selfRM, "wasm_runtime.scrape.errors", "wasm_runtime.error.reason", "vanished"))
		assert.GreaterOrEqual(t, mustValue(t, selfRM, "wasm_runtime.scrape.errors", "wasm_runtime.error.reason", "malformed"), float64(2*(i+1)))
		assert.Equal(t, float64(i+2), mustValue(t, selfRM, "wasm_runtime.scrape.errors", "wasm_runtime.error.reason", "missing"), "pids.max (cached after the first scrape) and pids.current absent from a live cgroup")
		assert.Equal(t, 1.0, mustValue(t, selfRM, "wasm_runtime.scrape.instances"))
	}
	warns := logs.FilterLevelExact(zap.WarnLevel).All()
	perScrape := map[string]int{}
	for _, w := range warns {
		perScrape[w.ContextMap()["reason"].(string)]++
	}
	assert.Equal(t, 1, perScrape["malformed"], "one warning per reason, repeats at debug level")
	assert.Equal(t, 1, perScrape["missing"])
	assert.Zero(t, perScrape["vanished"], "vanished processes are churn, not warnings")
	// each later scrape: one debug line per reason (vanished, malformed, missing)
	assert.Equal(t, 3+2*2, logs.FilterLevelExact(zap.DebugLevel).FilterMessage("reads failed during scrape").Len())
}

func TestFixtureEdgeCatalog(t *testing.T) {
	md, _ := scrapeRoot(t, "v2-edge-catalog", nil)
	type want struct {
		runtime, kind, vmm, grouping, module, vmName string
		vcpus, mem                                   string
	}
	for pid, w := range map[string]want{
		"7001": {runtime: "wasmedge", kind: "wasm", grouping: "process", module: "app_aot.cwasm"},
		"7002": {runtime: "wasmer", kind: "wasm", grouping: "process"},
		"7003": {runtime: "iwasm", kind: "wasm", grouping: "cgroup", module: "sensor.wasm"},
		"7004": {runtime: "cloud-hypervisor", kind: "microvm", vmm: "cloud_hypervisor", grouping: "cgroup", vmName: "edge-vm", vcpus: "2", mem: "536870912"},
		"7005": {runtime: "crosvm", kind: "microvm", vmm: "crosvm", grouping: "cgroup", vmName: "android", vcpus: "4", mem: "1073741824"},
		"7006": {runtime: "gvisor", kind: "sandbox", grouping: "process"},
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
	_, shell := findResource(md, "process.pid", "7000")
	assert.False(t, shell, "the shell is no instance")
	sensor := mustResource(t, md, "7003")
	assert.InDelta(t, 0.1, mustValue(t, sensor, "wasm_runtime.cpu.limit"), 1e-9)
	assert.Equal(t, 16.0, mustValue(t, sensor, "wasm_runtime.pids.limit"))
	assert.Equal(t, "true", resAttr(sensor, "wasm_runtime.limits.configured"))
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
	s := newScraper(cfg, set)
	require.NoError(t, s.start(t.Context(), nil))
	t.Cleanup(func() { _ = s.shutdown(t.Context()) })
	for i := 0; i < 3; i++ {
		rm := mustResource(t, scrapeOnce(t, s), "50")
		assert.Equal(t, 1.0, mustValue(t, rm, "process.cpu.time", "cpu.mode", "user"))
		assert.Equal(t, "", resAttr(rm, "wasm_runtime.cgroup.version"))
	}
	assert.Equal(t, 1, logs.FilterMessageSnippet("no cgroup hierarchy").Len())
}
