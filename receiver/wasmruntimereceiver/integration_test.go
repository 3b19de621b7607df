package wasmruntimereceiver

import (
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/testwasm"
)

// These tests run real Wasm guests (internal/testwasm) under the pinned wazero CLI inside real
// cgroups the test creates, one per attack vector on Wasm hosts, and check that the metric
// exposing each attack moves. wazero is a library-first runtime, so it is not in the built-in
// catalog: it is found through a user-defined runtime, as an embedder would configure it.

func wazeroRuntime() catalog.Matcher {
	return catalog.Matcher{Name: "wazero", Kind: catalog.KindWasm, Comm: "^wazero$",
		Attributes: map[string]string{"wasm_runtime.wasm.module": `([^ /]+)\.wasm`}}
}

func needIntegration(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with real processes; skipped with -short")
	}
	w := e2e.Tool(t, "wazero")
	return w
}

// startGuest runs a Wasm guest under wazero, inside g when g is not nil.
func startGuest(t *testing.T, g *cgrouptest.Group, flags []string, guest string, args ...string) *exec.Cmd {
	t.Helper()
	w := needIntegration(t)
	wasm := testwasm.Build(t, guest)
	argv := append([]string{"run", "-cachedir", filepath.Join(testwasm.Dir(), "cache")}, flags...)
	argv = append(argv, wasm)
	argv = append(argv, args...)
	var cmd *exec.Cmd
	if g != nil {
		cmd = g.Command(w, argv...)
	} else {
		cmd = exec.Command(w, argv...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	waitComm(t, cmd.Process.Pid, "wazero")
	return cmd
}

func waitComm(t *testing.T, pid int, comm string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		require.NoError(t, err, "process %d exited", pid)
		if strings.TrimSpace(string(b)) == comm {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never became %s", pid, comm)
}

// scrapeUntil scrapes every 250 ms until cond holds for the instance of pid, and returns
// that instance's resource metrics.
func scrapeUntil(t *testing.T, s *scraperImpl, pid int, timeout time.Duration, what string, cond func(rm pmetric.ResourceMetrics) bool) pmetric.ResourceMetrics {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last pmetric.ResourceMetrics
	found := false
	for {
		md := scrapeOnce(t, s)
		if rm, ok := findResource(md, "process.pid", strconv.Itoa(pid)); ok {
			last, found = rm, true
			if cond(rm) {
				return rm
			}
		}
		if time.Now().After(deadline) {
			if !found {
				t.Fatalf("pid %d never discovered", pid)
			}
			t.Fatalf("%s: not reached within %s; last resource: %v", what, timeout, dump(last))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func dump(rm pmetric.ResourceMetrics) string {
	var b strings.Builder
	b.WriteString(fmtMap(rm.Resource().Attributes().AsRaw()))
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			for _, p := range points(rm, ms.At(j).Name()) {
				b.WriteString("\n  " + ms.At(j).Name() + " " + strconv.FormatFloat(p.value, 'g', 6, 64) + " " + fmtMap(toAny(p.attrs)))
			}
		}
	}
	return b.String()
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func fmtMap(m map[string]any) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", " "), "  ", " ")))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	}
	return "?"
}

// Attack 1: an infinite loop in a cgroup limited to half a CPU shows as usage at the quota and
// growing throttling.
func TestWasmCPUExhaustion(t *testing.T) {
	needIntegration(t)
	g := cgrouptest.New(t, cgrouptest.Limits{CPUQuotaUsec: 50000, CPUPeriodUsec: 100000})
	cmd := startGuest(t, g, nil, "cpuloop")
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	cfg.Metrics.SetEnabled("wasm_runtime.pressure.stall_time", true)
	s := newTestScraper(t, cfg)
	scrapeOnce(t, s)
	time.Sleep(1500 * time.Millisecond)

	// On a busy machine the guest may get less than its quota; what matters is that it is
	// held to the quota (never above) and throttled, and that usage and utilisation agree.
	rm := scrapeUntil(t, s, cmd.Process.Pid, 60*time.Second, "CPU near its quota and throttled", func(rm pmetric.ResourceMetrics) bool {
		u, ok := value(rm, "wasm_runtime.cpu.limit.utilization")
		th, _ := value(rm, "wasm_runtime.cpu.throttled_periods")
		return ok && u > 0.5 && th > 0
	})
	t.Log(dump(rm))
	assert.Equal(t, "wazero", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.True(t, strings.HasPrefix(resAttr(rm, "wasm_runtime.wasm.module"), "cpuloop"), resAttr(rm, "wasm_runtime.wasm.module"))
	assert.Equal(t, g.Layout.Mode, resAttr(rm, "wasm_runtime.cgroup.version"))
	assert.Contains(t, resAttr(rm, "wasm_runtime.cgroup.path"), "otelcol-virt-test-")

	lim, ok := value(rm, "wasm_runtime.cpu.limit")
	require.True(t, ok)
	assert.InDelta(t, 0.5, lim, 1e-9)
	usage, ok := value(rm, "container.cpu.usage")
	require.True(t, ok)
	assert.Greater(t, usage, 0.25)
	assert.LessOrEqual(t, usage, 0.5*1.2, "a spinning guest held to 0.5 CPU (cpuacct has 10 ms ticks)")
	util, _ := value(rm, "wasm_runtime.cpu.limit.utilization")
	assert.InDelta(t, usage/0.5, util, 1e-9)
	cpuOn, _ := value(rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "cpu")
	memOn, memOK := value(rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "memory")
	assert.Equal(t, 1.0, cpuOn)
	assert.True(t, memOK)
	assert.Equal(t, 0.0, memOn, "unlimited memory is a state")
	_, ok = value(rm, "wasm_runtime.memory.limit")
	assert.False(t, ok, "no memory limit value when unlimited")
	user, _ := value(rm, "container.cpu.time", "cpu.mode", "user")
	assert.Greater(t, user, 0.3)
	if g.Layout.Unified != "" {
		for _, res := range []string{"cpu", "memory", "io"} {
			_, ok := value(rm, "wasm_runtime.pressure.stall_time", "wasm_runtime.pressure.resource", res, "wasm_runtime.pressure.scope", "some")
			assert.True(t, ok, "PSI %s from the unified hierarchy", res)
		}
	}
}

// Attack 2: unbounded allocation shows as working set rising toward the memory limit.
func TestWasmMemoryExhaustion(t *testing.T) {
	needIntegration(t)
	const limit = 256 << 20
	g := cgrouptest.New(t, cgrouptest.Limits{MemoryBytes: limit, Pids: 64})
	cmd := startGuest(t, g, nil, "memgrow", "160")
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	s := newTestScraper(t, cfg)

	var seen []float64
	rm := scrapeUntil(t, s, cmd.Process.Pid, 30*time.Second, "working set above 120 MiB", func(rm pmetric.ResourceMetrics) bool {
		ws, ok := value(rm, "container.memory.working_set")
		if ok {
			seen = append(seen, ws)
		}
		return ok && ws > 120<<20
	})
	require.GreaterOrEqual(t, len(seen), 2)
	assert.Greater(t, seen[len(seen)-1], seen[0], "working set rises")
	l, ok := value(rm, "wasm_runtime.memory.limit")
	require.True(t, ok)
	assert.Equal(t, float64(limit), l)
	u, ok := value(rm, "wasm_runtime.memory.limit.utilization")
	require.True(t, ok)
	assert.Greater(t, u, 0.45)
	assert.Less(t, u, 1.0)
	rss, _ := value(rm, "container.memory.rss")
	assert.Greater(t, rss, float64(100<<20))
	pl, ok := value(rm, "wasm_runtime.pids.limit")
	assert.True(t, ok)
	assert.Equal(t, 64.0, pl)
	pc, ok := value(rm, "wasm_runtime.pids.current")
	assert.True(t, ok)
	assert.GreaterOrEqual(t, pc, 2.0, "wazero runs several threads")
	kills, ok := value(rm, "wasm_runtime.memory.oom.kills")
	assert.True(t, ok)
	assert.Equal(t, 0.0, kills)
}

// Attack 3: a guest spamming files in its mounted directory shows as open descriptors.
func TestWasmFileSpam(t *testing.T) {
	needIntegration(t)
	dir := t.TempDir()
	g := cgrouptest.New(t, cgrouptest.Limits{})
	cmd := startGuest(t, g, []string{"-mount", dir + ":/data"}, "filespam", "/data", "300")
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	s := newTestScraper(t, cfg)

	rm := scrapeUntil(t, s, cmd.Process.Pid, 30*time.Second, "300 spam files open", func(rm pmetric.ResourceMetrics) bool {
		n, ok := value(rm, "wasm_runtime.file_descriptor.count")
		return ok && n >= 300
	})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 300)
	// Writes may sit in the page cache (on v1 they are charged to the flusher, not the
	// cgroup): the metric must agree, device by device, with what the cgroup's own file says.
	assertDiskIOMatchesKernel(t, g, s, cmd.Process.Pid)
	lim, ok := value(rm, "wasm_runtime.file_descriptor.limit")
	require.True(t, ok)
	assert.Equal(t, float64(softNoFile(t, cmd.Process.Pid)), lim)
	u, ok := value(rm, "wasm_runtime.file_descriptor.limit.utilization")
	require.True(t, ok)
	fds, _ := value(rm, "wasm_runtime.file_descriptor.count")
	assert.InDelta(t, fds/lim, u, 1e-9)
}

// Attack 4: connections a guest accepts and holds show by state in the runtime process.
func TestWasmConnectionSpam(t *testing.T) {
	needIntegration(t)
	port := e2e.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := startGuest(t, nil, []string{"-listen", addr}, "connspam")
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for len(conns) < 150 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			require.True(t, time.Now().Before(deadline), "cannot connect to the guest: %v", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		conns = append(conns, c)
	}
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	cfg.Metrics.SetEnabled("wasm_runtime.connection.count", true)
	s := newTestScraper(t, cfg)
	rm := scrapeUntil(t, s, cmd.Process.Pid, 20*time.Second, "150 established connections", func(rm pmetric.ResourceMetrics) bool {
		n, ok := value(rm, "wasm_runtime.connection.count", "network.connection.state", "established")
		return ok && n >= 150
	})
	n, _ := value(rm, "wasm_runtime.connection.count", "network.connection.state", "established")
	assert.Equal(t, 150.0, n, "only the guest's sockets, not the client ends this test holds")
	l, _ := value(rm, "wasm_runtime.connection.count", "network.connection.state", "listen")
	assert.Equal(t, 1.0, l)
	assert.Equal(t, "process", resAttr(rm, "wasm_runtime.instance.grouping"))
	fds, _ := value(rm, "wasm_runtime.file_descriptor.count")
	assert.GreaterOrEqual(t, fds, 151.0)
}

func softNoFile(t *testing.T, pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(strings.TrimPrefix(line, "Max open files"))
			n, err := strconv.ParseUint(f[0], 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no Max open files line")
	return 0
}

// Attack 2, carried through: a guest growing past its cgroup's memory limit is OOM-killed, and
// the kill is counted on the instance. The guest runs under a small supervising shell (matched
// as the instance, as a runtime's shim would be) so the instance outlives the killed guest.
func TestWasmMemoryOOMKill(t *testing.T) {
	w := needIntegration(t)
	wasm := testwasm.Build(t, "memgrow")
	g := cgrouptest.New(t, cgrouptest.Limits{MemoryBytes: 96 << 20})
	script := `"$0" run -cachedir "$1" "$2" 400; echo guest-exited; exec sleep 120`
	cmd := g.Command("/bin/sh", "-c", script, w, filepath.Join(testwasm.Dir(), "cache"), wasm)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })

	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{{Name: "oom-supervisor", Kind: catalog.KindWasm, Comm: "^(sh|sleep)$", Cmdline: `memgrow|^sleep 120$`}}
	s := newTestScraper(t, cfg)
	rm := scrapeUntil(t, s, cmd.Process.Pid, 60*time.Second, "an OOM kill counted", func(rm pmetric.ResourceMetrics) bool {
		k, ok := value(rm, "wasm_runtime.memory.oom.kills")
		return ok && k >= 1
	})
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, float64(96<<20), mustValue(t, rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", "memory"))
}

// assertDiskIOMatchesKernel checks that the instance reports one container.disk.io series per
// device of its cgroup's own blkio/io file. A device appears there at its first I/O (the
// page cache may flush the guest's writes at any moment), so the file is read before and
// after a scrape and compared only when both reads agree.
func assertDiskIOMatchesKernel(t *testing.T, g *cgrouptest.Group, s *scraperImpl, pid int) {
	t.Helper()
	var file string
	if g.Layout.V1["blkio"] != "" {
		file = filepath.Join(g.Layout.V1["blkio"], g.Paths["blkio"], "blkio.throttle.io_service_bytes_recursive")
	} else {
		file = filepath.Join(g.Layout.Unified, g.Paths[""], "io.stat")
	}
	devicesOf := func() (map[string]bool, string) {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		devices := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.Contains(f[0], ":") {
				devices[f[0]] = true
			}
		}
		return devices, string(data)
	}
	for range 10 {
		before, data := devicesOf()
		rm, ok := findResource(scrapeOnce(t, s), "process.pid", strconv.Itoa(pid))
		require.True(t, ok)
		if after, _ := devicesOf(); !maps.Equal(before, after) {
			continue // a device's first I/O landed during the scrape
		}
		got := map[string]bool{}
		for _, p := range points(rm, "container.disk.io") {
			got[p.attrs["system.device"]] = true
		}
		assert.Equal(t, before, got, "one series per device of %s (%q)", file, data)
		return
	}
	t.Fatalf("the devices of %s changed during each of 10 scrapes", file)
}
