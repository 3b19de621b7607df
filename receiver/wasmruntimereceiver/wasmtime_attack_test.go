package wasmruntimereceiver

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
)

// The four attack vectors of integration_test.go, on the real wasmtime engine instead of the
// wazero CLI: the test host runs the attacking guest beside quiet neighbours in one process,
// found by the built-in catalog (it is named wasmtime), and each attack is asserted through the
// receiver's metrics.

func wasmtimeConfig() *Config {
	cfg := testConfig()
	cfg.Include = Filter{Runtimes: []string{"wasmtime"}}
	cfg.LinearMemory.Every = 1
	return cfg
}

// Attack 1 on wasmtime: a spinning guest in a host held to half a CPU shows as usage at the
// quota and growing throttling.
func TestWasmtimeCPUExhaustion(t *testing.T) {
	g := cgrouptest.New(t, cgrouptest.Limits{CPUQuotaUsec: 50000, CPUPeriodUsec: 100000})
	h := startWasmtimeHost(t, g, nil, "cpuloop", "memgrow,8,0", "connspam")
	s := newTestScraper(t, wasmtimeConfig())
	scrapeOnce(t, s)
	time.Sleep(1500 * time.Millisecond)
	rm := scrapeUntil(t, s, h.pid, 60*time.Second, "CPU near its quota and throttled", func(rm pmetric.ResourceMetrics) bool {
		u, ok := value(rm, "wasm_runtime.cpu.limit.utilization")
		th, _ := value(rm, "wasm_runtime.cpu.throttled_periods")
		return ok && u > 0.5 && th > 0
	})
	t.Log(dump(rm))
	assert.Equal(t, "wasmtime", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, g.Layout.Mode, resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.InDelta(t, 0.5, mustValue(t, rm, "wasm_runtime.cpu.limit"), 1e-9)
	usage := mustValue(t, rm, "container.cpu.usage")
	assert.Greater(t, usage, 0.25)
	assert.LessOrEqual(t, usage, 0.5*1.2, "a spinning guest held to 0.5 CPU (cpuacct has 10 ms ticks)")
	assert.InDelta(t, usage/0.5, mustValue(t, rm, "wasm_runtime.cpu.limit.utilization"), 1e-9)
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "cpu"))
	assert.Greater(t, mustValue(t, rm, "container.cpu.time", "cpu.mode", "user"), 0.3)
	// The CPU attack is not a memory one: three memories, none growing.
	assert.Equal(t, 3.0, mustValue(t, rm, "wasm_runtime.linear_memory.count"))
	assert.Less(t, mustValue(t, rm, "wasm_runtime.linear_memory.largest.growth"), float64(1<<20))
}

// Attack 2 on wasmtime: unbounded allocation by one guest shows as the host's working set rising
// toward its memory limit, and as that guest's linear memory, the largest, named by its index.
func TestWasmtimeMemoryExhaustion(t *testing.T) {
	const limit = 512 << 20
	g := cgrouptest.New(t, cgrouptest.Limits{MemoryBytes: limit, Pids: 64})
	h := startWasmtimeHost(t, g, nil, "cpuloop", "memgrow,160,20", "filespam,/data,10")
	s := newTestScraper(t, wasmtimeConfig())
	var seen []float64
	rm := scrapeUntil(t, s, h.pid, 60*time.Second, "working set above 150 MiB", func(rm pmetric.ResourceMetrics) bool {
		ws, ok := value(rm, "container.memory.working_set")
		if ok {
			seen = append(seen, ws)
		}
		return ok && ws > 150<<20
	})
	require.GreaterOrEqual(t, len(seen), 2)
	assert.Greater(t, seen[len(seen)-1], seen[0], "working set rises")
	assert.Equal(t, float64(limit), mustValue(t, rm, "wasm_runtime.memory.limit"))
	u := mustValue(t, rm, "wasm_runtime.memory.limit.utilization")
	assert.Greater(t, u, 0.29)
	assert.Less(t, u, 1.0)
	assert.Greater(t, mustValue(t, rm, "container.memory.rss"), float64(140<<20))
	assert.Equal(t, 64.0, mustValue(t, rm, "wasm_runtime.pids.limit"))
	assert.GreaterOrEqual(t, mustValue(t, rm, "wasm_runtime.pids.current"), 4.0, "a thread per instance and the Go runtime's")
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.memory.oom.kills"))

	// Which module: the grower's memory is the largest, by the index it was given.
	lp := points(rm, "wasm_runtime.linear_memory.largest.resident")
	require.Len(t, lp, 1, dump(rm))
	assert.Equal(t, strconv.Itoa(h.memoryIndex()[1]), lp[0].attrs["wasm_runtime.linear_memory.index"])
	assert.Equal(t, strconv.Itoa(h.pid), lp[0].attrs["wasm_runtime.linear_memory.pid"])
	truth := h.report(t)
	t.Logf("working set %s of %s; largest linear memory index %s resident %s (grower touched %s by the report)",
		mibOf(mustValue(t, rm, "container.memory.working_set")), mibOf(limit), lp[0].attrs["wasm_runtime.linear_memory.index"],
		mibOf(lp[0].value), mibOf(float64(truth.Instances[1].Touched)))
	assert.GreaterOrEqual(t, lp[0].value, float64(truth.Instances[1].Touched)*0.9, "resident of the grower, read before the report")
	assert.LessOrEqual(t, lp[0].value, mustValue(t, rm, "container.memory.rss"), "a memory within the cgroup's anonymous memory")
	assert.Equal(t, 3.0, mustValue(t, rm, "wasm_runtime.linear_memory.count"))
}

// Attack 3 on wasmtime: a guest spamming files in its pre-opened directory shows as open
// descriptors of the host process.
func TestWasmtimeFileSpam(t *testing.T) {
	g := cgrouptest.New(t, cgrouptest.Limits{})
	h := startWasmtimeHost(t, g, nil, "filespam,/data,300", "cpuloop")
	s := newTestScraper(t, wasmtimeConfig())
	// The count includes the host's own descriptors, so it reaches 300 a few files early: the
	// spam is complete when its directory holds all 300 as well.
	rm := scrapeUntil(t, s, h.pid, 60*time.Second, "300 spam files open", func(rm pmetric.ResourceMetrics) bool {
		n, ok := value(rm, "wasm_runtime.file_descriptor.count")
		ents, err := os.ReadDir(h.started[0].Dir)
		return ok && n >= 300 && err == nil && len(ents) == 300
	})
	entries, err := os.ReadDir(h.started[0].Dir)
	require.NoError(t, err)
	assert.Len(t, entries, 300)
	assertDiskIOMatchesKernel(t, g, s, h.pid)
	lim := mustValue(t, rm, "wasm_runtime.file_descriptor.limit")
	assert.Equal(t, float64(softNoFile(t, h.pid)), lim)
	fds := mustValue(t, rm, "wasm_runtime.file_descriptor.count")
	assert.Less(t, fds, 300.0+64, "the spam and the host's own few descriptors, nothing else")
	assert.InDelta(t, fds/lim, mustValue(t, rm, "wasm_runtime.file_descriptor.limit.utilization"), 1e-9)
}

// Attack 4 on wasmtime: connections the guest accepts (the host serves its sock_accept) and
// holds show by state on the host process.
func TestWasmtimeConnectionSpam(t *testing.T) {
	h := startWasmtimeHost(t, nil, nil, "connspam", "cpuloop")
	addr := h.started[0].Addr
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for len(conns) < 150 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	cfg := wasmtimeConfig()
	cfg.Metrics.SetEnabled("wasm_runtime.connection.count", true)
	s := newTestScraper(t, cfg)
	rm := scrapeUntil(t, s, h.pid, 30*time.Second, "150 established connections", func(rm pmetric.ResourceMetrics) bool {
		n, ok := value(rm, "wasm_runtime.connection.count", "network.connection.state", "established")
		return ok && n >= 150
	})
	n, _ := value(rm, "wasm_runtime.connection.count", "network.connection.state", "established")
	assert.Equal(t, 150.0, n, "only the guest's sockets, not the client ends this test holds")
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.connection.count", "network.connection.state", "listen"))
	assert.Equal(t, "process", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.GreaterOrEqual(t, mustValue(t, rm, "wasm_runtime.file_descriptor.count"), 151.0)
}
