package wasmruntimereceiver

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The upstream-format fixtures of internal/vmstats (their ORIGIN files cite the VMM sources
// and commits): one source of truth for the parsers' tests and for these.
const (
	fcFixture  = "../../internal/vmstats/firecracker/testdata/"
	chFixture  = "../../internal/vmstats/cloudhypervisor/testdata/"
	xenFixture = "../../internal/vmstats/xen/testdata/xl-list-v.txt"
)

// serveCounters answers GET /api/v1/vm.counters on a unix socket with the file body names.
func serveCounters(t *testing.T, sock string, body *atomic.Pointer[string]) {
	t.Helper()
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/vm.counters" {
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(chFixture + *body.Load())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// TestVMMSourcesThroughReceiver scrapes a host with a jailed Firecracker VM and a Cloud
// Hypervisor VM, with their metrics file and API socket configured, and a Xen dom0 whose xl
// prints the upstream table: each VMM's counters land on its own instance's resource (the
// Firecracker one found by vm_id, the Cloud Hypervisor one by the socket on its command line),
// with every bad input refused and counted rather than reported.
func TestVMMSourcesThroughReceiver(t *testing.T) {
	root := t.TempDir()
	tmp := t.TempDir()
	chSock := filepath.Join(tmp, "ch.sock")
	fx := firecrackerScenario()
	fx.procs = append(fx.procs, fixtureProc{pid: 5100, ppid: 1, comm: "cloud-hyperviso", exe: "/usr/bin/cloud-hypervisor",
		args:   []string{"cloud-hypervisor", "--api-socket", "path=" + chSock, "--kernel", "vmlinux", "--cpus", "boot=2", "--memory", "size=512M"},
		cgroup: "0::/system.slice/ch-vm.service\n", startTicks: 30000, threads: 3, rssPages: 25000,
		tasks: []fixtureTask{{tid: 5101, comm: "vcpu0"}, {tid: 5102, comm: "vcpu1"}}})
	fx.cgroups = merge(fx.cgroups, v2Files("/system.slice/ch-vm.service", "max 100000", "max", "max"))
	fx.write(t, root)

	fcMetrics := filepath.Join(tmp, "fc-metrics")
	data, err := os.ReadFile(fcFixture + "metrics.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fcMetrics, data, 0o644))
	var body atomic.Pointer[string]
	name := "vm.counters.json"
	body.Store(&name)
	serveCounters(t, chSock, &body)
	xenList, err := filepath.Abs(xenFixture)
	require.NoError(t, err)
	xl := filepath.Join(tmp, "xl")
	require.NoError(t, os.WriteFile(xl, []byte("#!/bin/sh\n[ \"$1 $2\" = 'list -v' ] || exit 2\nexec cat "+xenList+"\n"), 0o755))

	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.Firecracker = []FirecrackerSource{{MetricsPath: fcMetrics, VMID: jailerID}}
	cfg.VM.CloudHypervisor = []CloudHypervisorSource{{APISocket: chSock, MaxBodyBytes: 64 << 10}}
	cfg.VM.Xen = XenConfig{Enabled: true, XLPath: xl}
	s := newTestScraper(t, cfg)
	md := scrapeOnce(t, s)

	// Firecracker: the sums expected.json holds (the deltas of the lines kept; the torn and the
	// oversized line are dropped and counted).
	var want struct {
		Counters  map[string]float64 `json:"counters"`
		Gauges    map[string]float64 `json:"gauges"`
		Oversized float64            `json:"oversized"`
		Malformed float64            `json:"malformed"`
	}
	raw, err := os.ReadFile(fcFixture + "expected.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	fc, ok := findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	assert.Equal(t, "firecracker", resAttr(fc, "wasm_runtime.vmm"))
	c := want.Counters
	for _, x := range []struct {
		metric string
		attrs  []string
		want   float64
	}{
		{"wasm_runtime.vm.network.io", []string{"network.interface.name", "eth0", "network.io.direction", "receive"}, c["net_eth0.rx_bytes_count"]},
		{"wasm_runtime.vm.network.io", []string{"network.interface.name", "eth0", "network.io.direction", "transmit"}, c["net_eth0.tx_bytes_count"]},
		{"wasm_runtime.vm.network.packet.count", []string{"network.interface.name", "eth0", "network.io.direction", "receive"}, c["net_eth0.rx_packets_count"]},
		{"wasm_runtime.vm.network.packet.count", []string{"network.interface.name", "eth0", "network.io.direction", "transmit"}, c["net_eth0.tx_packets_count"]},
		{"wasm_runtime.vm.block.io", []string{"wasm_runtime.vm.device", "rootfs", "disk.io.direction", "read"}, c["block_rootfs.read_bytes"]},
		{"wasm_runtime.vm.block.io", []string{"wasm_runtime.vm.device", "rootfs", "disk.io.direction", "write"}, c["block_rootfs.write_bytes"]},
		{"wasm_runtime.vm.block.operations", []string{"wasm_runtime.vm.device", "rootfs", "disk.io.direction", "read"}, c["block_rootfs.read_count"]},
		{"wasm_runtime.vm.vmm.exits", []string{"wasm_runtime.vm.exit.reason", "io_in"}, c["vcpu.exit_io_in"]},
		{"wasm_runtime.vm.vmm.exits", []string{"wasm_runtime.vm.exit.reason", "mmio_write"}, c["vcpu.exit_mmio_write"]},
		{"wasm_runtime.vm.seccomp.faults", nil, want.Gauges["seccomp.num_faults"]},
		{"wasm_runtime.vm.counter.dropped", []string{"wasm_runtime.vm.counter.drop.reason", "oversized"}, want.Oversized},
		{"wasm_runtime.vm.counter.dropped", []string{"wasm_runtime.vm.counter.drop.reason", "malformed"}, want.Malformed},
	} {
		require.NotZero(t, x.want, "%s %v: the fixture has a figure", x.metric, x.attrs)
		attrs := x.attrs
		if x.metric == "wasm_runtime.vm.network.io" || x.metric == "wasm_runtime.vm.network.packet.count" || x.metric == "wasm_runtime.vm.block.io" || x.metric == "wasm_runtime.vm.block.operations" {
			attrs = append(attrs, "wasm_runtime.vm.counter.source", "firecracker")
		}
		assert.Equal(t, x.want, mustValue(t, fc, x.metric, attrs...), "%s %v", x.metric, x.attrs)
	}

	// Cloud Hypervisor: found by the socket on its command line.
	ch := mustResource(t, md, "5100")
	assert.Equal(t, "cloud_hypervisor", resAttr(ch, "wasm_runtime.vmm"))
	assert.Equal(t, 4194304.0, mustValue(t, ch, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write", "wasm_runtime.vm.counter.source", "cloud_hypervisor"))
	assert.Equal(t, 32.0, mustValue(t, ch, "wasm_runtime.vm.block.operations", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write"))
	assert.Equal(t, 1048576.0, mustValue(t, ch, "wasm_runtime.vm.network.io", "network.interface.name", "_net0", "network.io.direction", "receive", "wasm_runtime.vm.counter.source", "cloud_hypervisor"))
	assert.Equal(t, 511.0, mustValue(t, ch, "wasm_runtime.vm.network.packet.count", "network.interface.name", "_net0", "network.io.direction", "transmit"))
	assert.InDelta(t, 41e-6, mustValue(t, ch, "wasm_runtime.vm.block.latency", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write", "wasm_runtime.vm.latency.stat", "min"), 1e-12)
	assert.InDelta(t, 187e-6, mustValue(t, ch, "wasm_runtime.vm.block.latency", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write", "wasm_runtime.vm.latency.stat", "avg"), 1e-12)
	for _, p := range points(ch, "wasm_runtime.vm.block.latency") {
		assert.False(t, p.attrs["disk.io.direction"] == "read" || p.attrs["wasm_runtime.vm.device"] == "_disk1", "a u64::MAX sentinel reported: %v", p)
	}
	assert.Len(t, points(ch, "wasm_runtime.vm.block.latency"), 3, "write min, max, avg of _disk0 only")
	_, onFC := value(fc, "wasm_runtime.vm.block.latency")
	assert.False(t, onFC, "Cloud Hypervisor's counters stay on their instance")

	// Xen: one instance per domain but dom0.
	xen := map[string]pmetric.ResourceMetrics{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		if resAttr(rm, "wasm_runtime.runtime") == "xen" {
			xen[resAttr(rm, "wasm_runtime.vm.name")] = rm
		}
	}
	require.Len(t, xen, 3, "edera-zone-web, win 2022 build, krata-guest-c0ffee; not Domain-0")
	web := xen["edera-zone-web"]
	assert.Equal(t, "xen:6f1c8a7e-2b3d-4e5f-9a0b-1c2d3e4f5a6b", resAttr(web, "wasm_runtime.instance.id"))
	assert.Equal(t, "vm", resAttr(web, "wasm_runtime.instance.kind"))
	assert.Equal(t, "2", resAttr(web, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, strconv.Itoa(2048<<20), resAttr(web, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "blocked", resAttr(web, "wasm_runtime.vm.state"))
	assert.InDelta(t, 431.9, mustValue(t, web, "wasm_runtime.vm.cpu.time"), 1e-9)
	assert.Equal(t, float64(2048<<20), mustValue(t, web, "wasm_runtime.vm.memory.usage"))
	assert.Equal(t, "paused", resAttr(xen["win 2022 build"], "wasm_runtime.vm.state"))
	assert.Equal(t, "shutdown", resAttr(xen["krata-guest-c0ffee"], "wasm_runtime.vm.state"))
	assert.Equal(t, len(s.lastKeys), md.ResourceMetrics().Len(), "one key per resource for the threat rules")

	// A second scrape: nothing new was written, the sums stay (cumulative, not deltas).
	md = scrapeOnce(t, s)
	fc, _ = findResource(md, "wasm_runtime.vm.id", jailerID)
	assert.Equal(t, c["net_eth0.rx_bytes_count"], mustValue(t, fc, "wasm_runtime.vm.network.io", "network.interface.name", "eth0", "network.io.direction", "receive"))

	// A truncated answer and one past max_body_bytes are refused whole: the scrape reports the
	// error and the instance keeps its other metrics.
	for _, bad := range []string{"vm.counters.truncated", "vm.counters.oversized"} {
		body.Store(&bad)
		md, err = scrapeFresh(s)
		require.Error(t, err, bad)
		ch = mustResource(t, md, "5100")
		_, ok = value(ch, "wasm_runtime.vm.block.io")
		assert.False(t, ok, "%s: no counters from a refused answer", bad)
		_, ok = value(ch, "wasm_runtime.process.count")
		assert.True(t, ok, bad)
	}
}
