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

// serveCounters answers GET /api/v1/vm.counters and /api/v1/vm.info on a unix socket with
// the fixture files the two pointers name.
func serveCounters(t *testing.T, sock string, body, info *atomic.Pointer[string]) {
	t.Helper()
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name *string
		switch r.URL.Path {
		case "/api/v1/vm.counters":
			name = body.Load()
		case "/api/v1/vm.info":
			name = info.Load()
		default:
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(chFixture + *name)
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
// Hypervisor VM configured through its API as Kata does (no size on its command line), with
// their metrics file and API socket configured, and a Xen dom0 whose xl prints the upstream
// table: each VMM's counters, state and size land on its own instance (the Firecracker one
// found by vm_id, the Cloud Hypervisor one by the socket on its command line), with every bad
// input refused and counted rather than reported.
func TestVMMSourcesThroughReceiver(t *testing.T) {
	root := t.TempDir()
	tmp := t.TempDir()
	chSock := filepath.Join(tmp, "ch.sock")
	fx := firecrackerScenario()
	fx.procs = append(fx.procs, fixtureProc{pid: 5100, ppid: 1, comm: "cloud-hyperviso", exe: "/usr/bin/cloud-hypervisor",
		args:   []string{"cloud-hypervisor", "--api-socket", "path=" + chSock},
		cgroup: "0::/system.slice/ch-vm.service\n", startTicks: 30000, threads: 3, rssPages: 25000,
		tasks: []fixtureTask{{tid: 5101, comm: "vcpu0"}, {tid: 5102, comm: "vcpu1"}}})
	fx.cgroups = merge(fx.cgroups, v2Files("/system.slice/ch-vm.service", "max 100000", "max", "max"))
	fx.write(t, root)

	fcMetrics := filepath.Join(tmp, "fc-metrics")
	data, err := os.ReadFile(fcFixture + "metrics.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fcMetrics, data, 0o644))
	var body, info atomic.Pointer[string]
	name, infoName := "vm.counters.json", "vm.info.json"
	body.Store(&name)
	info.Store(&infoName)
	serveCounters(t, chSock, &body, &info)
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
	// Its size and state come from vm.info alone (vm.resize'd to 2 vCPUs, 2 GiB + 512 MiB
	// virtio-mem, a 256 MiB balloon); the resource keeps what identifies it, not its state.
	assert.Empty(t, resAttr(ch, "wasm_runtime.vm.vcpus"), "no size on its command line")
	assert.Empty(t, resAttr(ch, "wasm_runtime.vm.state"), "a state is a metric")
	assert.Equal(t, 2.0, mustValue(t, ch, "wasm_runtime.vm.vcpu.count"))
	assert.Equal(t, float64(2<<30+512<<20), mustValue(t, ch, "wasm_runtime.vm.memory.size"))
	assert.Equal(t, float64(2<<30+256<<20), mustValue(t, ch, "wasm_runtime.vm.memory.balloon", "wasm_runtime.vm.balloon.state", "current"))
	chStates := map[string]float64{}
	for _, p := range points(ch, "wasm_runtime.vm.state") {
		chStates[p.attrs["wasm_runtime.vm.state"]] = p.value
	}
	assert.Equal(t, map[string]float64{"created": 0, "running": 1, "shutdown": 0, "paused": 0, "breakpoint": 0}, chStates)
	if v := resAttr(fc, "wasm_runtime.vm.vcpus"); v != "" {
		assert.Equal(t, v, strconv.Itoa(int(mustValue(t, fc, "wasm_runtime.vm.vcpu.count"))), "without an API answer, the size at boot")
	}
	_, fcState := value(fc, "wasm_runtime.vm.state")
	assert.False(t, fcState, "no Firecracker API asked here: no state")

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
	assert.Equal(t, 1.0, mustValue(t, web, "wasm_runtime.vm.state", "wasm_runtime.vm.state", "blocked"))
	assert.Equal(t, 0.0, mustValue(t, web, "wasm_runtime.vm.state", "wasm_runtime.vm.state", "running"))
	assert.Len(t, points(web, "wasm_runtime.vm.state"), 7, "every state xl can show")
	assert.Equal(t, 2.0, mustValue(t, web, "wasm_runtime.vm.vcpu.count"))
	assert.InDelta(t, 431.9, mustValue(t, web, "wasm_runtime.vm.cpu.time"), 1e-9)
	assert.Equal(t, float64(2048<<20), mustValue(t, web, "wasm_runtime.vm.memory.usage"))
	assert.Equal(t, 1.0, mustValue(t, xen["win 2022 build"], "wasm_runtime.vm.state", "wasm_runtime.vm.state", "paused"))
	assert.Equal(t, 1.0, mustValue(t, xen["krata-guest-c0ffee"], "wasm_runtime.vm.state", "wasm_runtime.vm.state", "shutdown"))
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
	// A truncated vm.info: the counters stay, the state and the size it alone gave are gone
	// (none is made up), and the error is reported.
	body.Store(&name)
	badInfo := "vm.info.truncated"
	info.Store(&badInfo)
	md, err = scrapeFresh(s)
	require.Error(t, err)
	ch = mustResource(t, md, "5100")
	_, ok = value(ch, "wasm_runtime.vm.block.io")
	assert.True(t, ok, "vm.counters still read")
	for _, metric := range []string{"wasm_runtime.vm.state", "wasm_runtime.vm.vcpu.count", "wasm_runtime.vm.memory.size"} {
		_, ok = value(ch, metric)
		assert.False(t, ok, "%s from a refused vm.info", metric)
	}

	// Created by vm.create, not booted: vm.counters would fail with VmNotRunning (here a 500
	// for a missing body) and is not asked; the state and size are reported, no error.
	created, gone := "vm.info.created.json", "no-such-body"
	info.Store(&created)
	body.Store(&gone)
	md, err = scrapeFresh(s)
	require.NoError(t, err)
	ch = mustResource(t, md, "5100")
	assert.Equal(t, 1.0, mustValue(t, ch, "wasm_runtime.vm.state", "wasm_runtime.vm.state", "created"))
	assert.Equal(t, 2.0, mustValue(t, ch, "wasm_runtime.vm.vcpu.count"))
	_, ok = value(ch, "wasm_runtime.vm.block.io")
	assert.False(t, ok, "no devices before boot")
}
