package wasmruntimereceiver

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
)

// perMemory enables the per-memory metrics, which are off by default.
func perMemory(cfg *Config) {
	for _, name := range linearMemoryMetrics {
		cfg.Metrics.SetEnabled(name, true)
	}
}

// lmPoint is one per-memory point of the host's resource, by index.
func lmPoints(rm pmetric.ResourceMetrics, name string, pid int) map[int]float64 {
	out := map[int]float64{}
	for _, p := range points(rm, name) {
		if p.attrs["wasm_runtime.linear_memory.pid"] != strconv.Itoa(pid) {
			continue
		}
		idx, err := strconv.Atoi(p.attrs["wasm_runtime.linear_memory.index"])
		if err == nil {
			out[idx] = p.value
		}
	}
	return out
}

func mibOf(v float64) string { return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB" }

// Several instances in one wasmtime process, found by the built-in catalog: the receiver reports
// one linear memory per instance, each named by its index, with resident bytes within 5 % of
// what each memgrow guest touched; the largest memory is the largest guest's.
func TestWasmtimeLinearMemoryPerInstance(t *testing.T) {
	guests := []string{"memgrow,96,0", "memgrow,160,0", "memgrow,224,0", "cpuloop", "filespam,/data,50", "connspam"}
	h := startWasmtimeHost(t, nil, nil, guests...)
	touched := map[int]uint64{0: 96 << 20, 1: 160 << 20, 2: 224 << 20}
	for i, want := range touched {
		h.waitTouched(t, i, want)
	}
	cfg := testConfig()
	cfg.LinearMemory.Every = 1
	perMemory(cfg)
	s := newTestScraper(t, cfg)
	rm := scrapeUntil(t, s, h.pid, 30*time.Second, "six linear memories", func(rm pmetric.ResourceMetrics) bool {
		n, ok := value(rm, "wasm_runtime.linear_memory.count")
		return ok && n == float64(len(guests))
	})
	truth := h.report(t)
	assert.Equal(t, "wasmtime", resAttr(rm, "wasm_runtime.runtime"), "the catalog's wasmtime entry")
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.linear_memory.truncated"))

	committed := lmPoints(rm, "wasm_runtime.linear_memory.committed", h.pid)
	resident := lmPoints(rm, "wasm_runtime.linear_memory.resident", h.pid)
	capacity := lmPoints(rm, "wasm_runtime.linear_memory.capacity", h.pid)
	reserved := lmPoints(rm, "wasm_runtime.linear_memory.reserved", h.pid)
	require.Len(t, resident, len(guests), "one memory per instance: %s", dump(rm))
	index := h.memoryIndex()
	var sum float64
	for i, st := range h.started {
		idx := index[i]
		res, ok := resident[idx]
		require.True(t, ok, "instance %d (%s) at %#x: no memory with index %d", i, st.Guest, st.Base, idx)
		present := float64(truth.Instances[i].Present)
		t.Logf("instance %d %-8s index %d: committed %s resident %s (host page table %s, guest touched %s)",
			i, st.Guest, idx, mibOf(committed[idx]), mibOf(res), mibOf(present), mibOf(float64(truth.Instances[i].Touched)))
		assert.InDelta(t, present, res, 0.05*present+float64(64<<10), "instance %d: the host's own page-table count", i)
		assert.LessOrEqual(t, res, committed[idx], "resident within committed")
		assert.Equal(t, float64(4<<30), capacity[idx], "wasmtime's 4 GiB reservation")
		assert.Equal(t, float64(4<<30+64<<20), reserved[idx], "reservation and its two 32 MiB guards")
		if want, ok := touched[i]; ok {
			assert.GreaterOrEqual(t, res, float64(want), "instance %d holds what it touched", i)
			assert.LessOrEqual(t, res, 1.05*float64(want), "instance %d within 5 %% of what it touched", i)
		}
		sum += res
	}
	largest, ok := value(rm, "wasm_runtime.linear_memory.largest.resident")
	require.True(t, ok)
	assert.Equal(t, resident[index[2]], largest)
	lp := points(rm, "wasm_runtime.linear_memory.largest.resident")
	require.Len(t, lp, 1)
	assert.Equal(t, strconv.Itoa(index[2]), lp[0].attrs["wasm_runtime.linear_memory.index"], "memgrow 224 MiB is the largest")
	// The kernel's invariant: the memories are part of the process's resident set.
	rss := mustValue(t, rm, "wasm_runtime.memory.rss")
	assert.LessOrEqual(t, sum, rss, "linear memories within the process RSS")
}

// The mappings are read at every linear_memory.every-th collection only, for the processes the
// catalog classified as a Wasm runtime with a known layout: never for a wazero host (its
// memories are in the Go heap) or any other process.
func TestLinearMemoryCadenceAndScope(t *testing.T) {
	h := startWasmtimeHost(t, nil, nil, "memgrow,8,0", "cpuloop")
	h.waitTouched(t, 0, 8<<20)
	wz := startGuest(t, nil, nil, "cpuloop")
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	cfg.LinearMemory.Every = 3
	s := newTestScraper(t, cfg)
	var read []bool
	for i := 0; i < 7; i++ {
		var ops []linuxfs.TraceOp
		s.r.Trace = &ops
		md := scrapeOnce(t, s)
		s.r.Trace = nil
		var smaps []string
		for _, op := range ops {
			if strings.HasSuffix(op.Path, "/smaps") || strings.HasSuffix(op.Path, "/smaps_rollup") {
				smaps = append(smaps, op.Path)
			}
		}
		rm := mustResource(t, md, strconv.Itoa(h.pid))
		n, ok := value(rm, "wasm_runtime.linear_memory.count")
		read = append(read, ok)
		if ok {
			assert.Equal(t, 2.0, n)
			assert.Equal(t, []string{filepath.Join("/proc", strconv.Itoa(h.pid), "smaps")}, smaps, "only the wasmtime host's mappings are read")
		} else {
			assert.Empty(t, smaps)
		}
		wrm := mustResource(t, md, strconv.Itoa(wz.Process.Pid))
		assert.Equal(t, "wazero", resAttr(wrm, "wasm_runtime.runtime"))
		_, has := value(wrm, "wasm_runtime.linear_memory.count")
		assert.False(t, has, "wazero hosts get process-level figures only")
		_, has = value(wrm, "wasm_runtime.memory.rss")
		assert.True(t, has)
	}
	assert.Equal(t, []bool{true, false, false, true, false, false, true}, read, "every third collection, the first included")

	off := testConfig()
	off.LinearMemory.Enabled = false
	so := newTestScraper(t, off)
	var ops []linuxfs.TraceOp
	so.r.Trace = &ops
	rm := mustResource(t, scrapeOnce(t, so), strconv.Itoa(h.pid))
	for _, op := range ops {
		assert.NotContains(t, op.Path, "smaps")
	}
	_, has := value(rm, "wasm_runtime.linear_memory.count")
	assert.False(t, has, "linear_memory.enabled: false")
}

// Memories of a custom guard size are found only with a layout that says so
// (linear_memory.runtimes), not with wasmtime's defaults.
func TestLinearMemoryConfiguredLayout(t *testing.T) {
	h := startWasmtimeHost(t, nil, []string{"-memory-guard-size", "65536"}, "memgrow,8,0", "cpuloop")
	h.waitTouched(t, 0, 8<<20)
	def := testConfig()
	rm := mustResource(t, scrapeOnce(t, newTestScraper(t, def)), strconv.Itoa(h.pid))
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.linear_memory.count"), "32 MiB guards expected: none found")

	guard := uint64(64 << 10)
	cfg := testConfig()
	cfg.LinearMemory.Runtimes = map[string]EngineLayout{"wasmtime": {Engine: "wasmtime", GuardBefore: &guard, GuardAfter: &guard}}
	perMemory(cfg)
	rm = mustResource(t, scrapeOnce(t, newTestScraper(t, cfg)), strconv.Itoa(h.pid))
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.linear_memory.count"))
	res := lmPoints(rm, "wasm_runtime.linear_memory.resident", h.pid)
	assert.GreaterOrEqual(t, res[h.memoryIndex()[0]], float64(8<<20))
	assert.Equal(t, float64(4<<30+128<<10), lmPoints(rm, "wasm_runtime.linear_memory.reserved", h.pid)[0])
}

// The memory-growth guest raises memory_exhaustion naming its memory's index, through the
// receiver as the Collector runs it (factory, scrape controller, logs pipeline); the other
// memories of the same process stay quiet; the event clears when the process is gone.
func TestWasmtimeLinearMemoryThreat(t *testing.T) {
	h := startWasmtimeHost(t, nil, nil, "memgrow,64,0", "memgrow,400,100", "cpuloop", "filespam,/data,20", "connspam")
	h.waitTouched(t, 0, 64<<20)
	cfg := testConfig()
	cfg.CollectionInterval = 500 * time.Millisecond
	cfg.LinearMemory.Every = 2
	cfg.Include = Filter{Runtimes: []string{"wasmtime"}}
	cfg.Threats.LinearMemory.LimitMiB = 256
	require.NoError(t, cfg.Validate())
	require.NoError(t, cfg.Threats.Validate())
	logs := new(consumertest.LogsSink)
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(Type), cfg, logs)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = rcv.Shutdown(context.Background())
		}
	})

	grower := h.memoryIndex()[1]
	pid := strconv.Itoa(h.pid)
	var fired []memoryEvent
	deadline := time.Now().Add(90 * time.Second)
	for len(fired) == 0 {
		require.True(t, time.Now().Before(deadline), "no memory_exhaustion event; grower touched %d bytes", h.report(t).Instances[1].Touched)
		time.Sleep(200 * time.Millisecond)
		fired = memoryEvents(logs.AllLogs(), pid, threat.StateFiring)
	}
	touched := h.report(t).Instances[1].Touched
	require.Len(t, fired, 1, "one event, for one memory")
	ev := fired[0]
	t.Logf("fired: %s", ev.body)
	assert.Equal(t, int64(grower), ev.index, "the event names the growing memory")
	assert.Equal(t, int64(h.pid), ev.pid)
	assert.GreaterOrEqual(t, float64(ev.committed), 0.9*256*(1<<20))
	assert.LessOrEqual(t, ev.resident, ev.committed)
	assert.LessOrEqual(t, ev.resident, int64(1.05*float64(touched))+(1<<20), "resident at the event within what the guest touched by now")
	assert.Equal(t, int64(256<<20), ev.limit)
	assert.Equal(t, threat.LimitFromConfigured, ev.limitFrom)
	assert.GreaterOrEqual(t, ev.value, 0.9)

	// Keep scraping a while: the grower keeps firing without repeating, the others never fire.
	time.Sleep(3 * time.Second)
	assert.Len(t, memoryEvents(logs.AllLogs(), pid, threat.StateFiring), 1)

	h.stop()
	deadline = time.Now().Add(30 * time.Second)
	var cleared []memoryEvent
	for len(cleared) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		cleared = memoryEvents(logs.AllLogs(), pid, threat.StateCleared)
	}
	require.Len(t, cleared, 1)
	assert.Equal(t, int64(grower), cleared[0].index)
	// An exiting process shows empty mappings before it leaves the process table: either way the
	// memory is gone.
	assert.Contains(t, []string{threat.ClearMemoryGone, threat.ClearInstanceGone}, cleared[0].reason)
	stopped = true
	require.NoError(t, rcv.Shutdown(context.Background()))
}

// memoryEvent is a memory_exhaustion record of a linear memory.
type memoryEvent struct {
	pid, index, committed, resident, limit int64
	value                                  float64
	limitFrom, reason, body                string
}

func memoryEvents(all []plog.Logs, pid, state string) []memoryEvent {
	var out []memoryEvent
	for _, ld := range all {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			if v, ok := rl.Resource().Attributes().Get("process.pid"); !ok || v.AsString() != pid {
				continue
			}
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					a := lr.Attributes()
					st, _ := a.Get(threat.AttrState)
					idx, isMem := a.Get(threat.AttrLinearMemoryIndex)
					if lr.EventName() != threat.EventNamePrefix+threat.RuleMemoryExhaustion || !isMem || st.Str() != state {
						continue
					}
					get := func(k string) int64 { v, _ := a.Get(k); return v.Int() }
					val, _ := a.Get(threat.AttrValue)
					from, _ := a.Get(threat.AttrLinearMemoryLimitFrom)
					reason, _ := a.Get(threat.AttrClearReason)
					out = append(out, memoryEvent{pid: get(threat.AttrLinearMemoryPID), index: idx.Int(),
						committed: get(threat.AttrLinearMemoryCommitted), resident: get(threat.AttrLinearMemoryResident),
						limit: get(threat.AttrLinearMemoryLimit), value: val.Double(), limitFrom: from.Str(),
						reason: reason.Str(), body: lr.Body().Str()})
				}
			}
		}
	}
	return out
}
