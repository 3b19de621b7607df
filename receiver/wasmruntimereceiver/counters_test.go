package wasmruntimereceiver

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
)

// A process in a child cgroup whose parent holds the limits (as a pod cgroup does) reports the
// parent's limits as its own, with the parent as the cgroup that set them, and raises no
// missing-limits event: through the whole receiver (metrics and threat rules from one scrape).
func TestLimitsOfTheParentCgroup(t *testing.T) {
	needIntegration(t)
	parent := cgrouptest.New(t, cgrouptest.Limits{CPUQuotaUsec: 30000, CPUPeriodUsec: 100000, MemoryBytes: 96 << 20, Pids: 50})
	child := parent.Child(t, "app", cgrouptest.Limits{})
	guest := startGuest(t, child, nil, "cpuloop")

	cfg := testConfig()
	cfg.CollectionInterval = 300 * time.Millisecond
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	cfg.Include = Filter{Runtimes: []string{"wazero"}}
	cfg.Threats.Enabled = true
	metrics, logs := new(consumertest.MetricsSink), new(consumertest.LogsSink)
	f := NewFactory()
	set := receivertest.NewNopSettings(Type)
	mr, err := f.CreateMetrics(context.Background(), set, cfg, metrics)
	require.NoError(t, err)
	lr, err := f.CreateLogs(context.Background(), set, cfg, logs)
	require.NoError(t, err)
	require.NoError(t, mr.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, lr.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = mr.Shutdown(context.Background()); _ = lr.Shutdown(context.Background()) })

	pid := strconv.Itoa(guest.Process.Pid)
	var rm pmetric.ResourceMetrics
	require.Eventually(t, func() bool {
		for _, md := range metrics.AllMetrics() {
			if r, ok := findResource(md, "process.pid", pid); ok {
				if _, has := value(r, "wasm_runtime.cpu.limit.utilization"); has {
					rm = r
					return true
				}
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the guest never showed its CPU utilisation of a limit")

	parentPath := parent.Paths["cpu"]
	if parent.Layout.Mode == "v2" {
		parentPath = parent.Paths[""]
	}
	assert.InDelta(t, 0.3, mustValue(t, rm, "wasm_runtime.cpu.limit"), 1e-9)
	assert.Equal(t, parentPath, limitOf(rm, "wasm_runtime.cpu.limit"), "set by the parent")
	assert.Equal(t, float64(96<<20), mustValue(t, rm, "wasm_runtime.memory.limit"))
	assert.Equal(t, float64(50), mustValue(t, rm, "wasm_runtime.pids.limit"))
	for _, res := range []string{"cpu", "memory", "pids"} {
		assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", res), res)
	}
	u := mustValue(t, rm, "wasm_runtime.cpu.limit.utilization")
	assert.Greater(t, u, 0.5, "a spinning guest uses most of the parent's quota")
	assert.LessOrEqual(t, u, 1.2, "and never much more")

	// A resize of the parent is seen within a few scrapes, not at the next minute's refresh
	// (v1 reports the memory limit from memory.stat at every scrape; CPU and pids come only
	// from their limit files).
	metrics.Reset()
	parent.SetLimits(t, cgrouptest.Limits{CPUQuotaUsec: 40000, CPUPeriodUsec: 100000, MemoryBytes: 80 << 20, Pids: 60})
	resized := time.Now()
	require.Eventually(t, func() bool {
		for _, md := range metrics.AllMetrics() {
			if r, ok := findResource(md, "process.pid", pid); ok {
				cpu, _ := value(r, "wasm_runtime.cpu.limit")
				mem, _ := value(r, "wasm_runtime.memory.limit")
				pids, _ := value(r, "wasm_runtime.pids.limit")
				if math.Abs(cpu-0.4) < 1e-9 && mem == float64(80<<20) && pids == 60 {
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "the parent's new limits were not reported")
	t.Logf("new limit reported %v after the write", time.Since(resized).Round(time.Millisecond))
	time.Sleep(time.Second) // a few more evaluations of the rules
	for _, ld := range logs.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			if v, _ := rl.Resource().Attributes().Get("process.pid"); v.AsString() != pid {
				continue
			}
			lrs := rl.ScopeLogs().At(0).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				rule, _ := lrs.At(k).Attributes().Get("wasm_runtime.threat.rule")
				assert.NotEqual(t, "missing_limits", rule.AsString(), "a confined workload is no missing-limits posture")
			}
		}
	}
}

// forkLoop starts a shell that forks a CPU-burning child every 100 ms and waits for it, the way
// a fork-per-request server runs.
func forkLoop(t *testing.T, g *cgrouptest.Group, marker string) *exec.Cmd {
	t.Helper()
	script := `while :; do sh -c 'i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done'; sleep 0.1; done # ` + marker
	var cmd *exec.Cmd
	if g != nil {
		cmd = g.Command("/bin/sh", "-c", script)
	} else {
		cmd = exec.Command("/bin/sh", "-c", script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd
}

// treeCPU reads a process's CPU time with its reaped children's, and its live children's, in
// seconds, from /proc (as a reference independent of the receiver).
func treeCPU(t *testing.T, pid int) float64 {
	t.Helper()
	read := func(p string) []string {
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			return nil
		}
		return strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	}
	f := read(strconv.Itoa(pid))
	require.NotNil(t, f)
	ticks := 0
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime (fields 14-17)
		n, _ := strconv.Atoi(f[i])
		ticks += n
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if c := read(e.Name()); c != nil && c[1] == strconv.Itoa(pid) {
			for _, i := range []int{11, 12, 13, 14} {
				n, _ := strconv.Atoi(c[i])
				ticks += n
			}
		}
	}
	return float64(ticks) / clockTicks
}

// A process tree whose workers exit all the time: its exported CPU time keeps the reaped
// workers' time (cutime, cstime), never decreases over 30 scrapes, and matches /proc.
func TestForkPerRequestCPUIsCumulative(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a fork-per-request process tree; skipped with -short")
	}
	const marker = "fork-per-request-marker"
	cmd := forkLoop(t, nil, marker)
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{{Name: "forker", Kind: catalog.KindWasm, Comm: "^sh$", Cmdline: marker}}
	cfg.Include = Filter{Runtimes: []string{"forker"}}
	s := newTestScraper(t, cfg)
	pid := strconv.Itoa(cmd.Process.Pid)
	prev := -1.0
	var start uint64
	for i := 0; i < 30; i++ {
		ref0 := treeCPU(t, cmd.Process.Pid)
		md := scrapeOnce(t, s)
		ref1 := treeCPU(t, cmd.Process.Pid)
		rm, ok := findResource(md, "process.pid", pid)
		require.True(t, ok, "scrape %d: the loop is not an instance", i)
		assert.Equal(t, "process", resAttr(rm, "wasm_runtime.instance.grouping"))
		total := mustValue(t, rm, "wasm_runtime.cpu.time", "cpu.mode", "user") + mustValue(t, rm, "wasm_runtime.cpu.time", "cpu.mode", "system")
		assert.GreaterOrEqual(t, total, prev, "scrape %d: CPU time went backwards", i)
		assert.GreaterOrEqual(t, total, ref0*0.95-0.02, "scrape %d: below /proc with reaped children", i)
		assert.LessOrEqual(t, total, ref1*1.05+0.02, "scrape %d: above /proc with reaped children", i)
		dp := rm.ScopeMetrics().At(0).Metrics()
		for j := 0; j < dp.Len(); j++ {
			if dp.At(j).Name() == "wasm_runtime.cpu.time" {
				st := uint64(dp.At(j).Sum().DataPoints().At(0).StartTimestamp())
				if start == 0 {
					start = st
				}
				assert.Equal(t, start, st, "scrape %d: a series that keeps counting keeps its start time", i)
			}
		}
		prev = total
		time.Sleep(100 * time.Millisecond)
	}
	assert.Greater(t, prev, 0.1, "the workers burnt CPU")
}
