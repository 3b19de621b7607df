package wasmruntimereceiver

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
)

// TestLinearMemoryEndToEnd runs the real otelcol-virt binary (CGO_ENABLED=0) with the
// wasm_runtime receiver in a metrics and a logs pipeline, next to one wasmtime host process
// running four instances: the sink gets one linear memory per instance, the memgrow guests'
// resident bytes within 5 % of what they touched, and one memory_exhaustion event naming the
// growing guest's memory, none for the others.
func TestLinearMemoryEndToEnd(t *testing.T) {
	h := startWasmtimeHost(t, nil, nil, "memgrow,96,0", "memgrow,160,0", "cpuloop", "memgrow,400,150")
	static := map[int]uint64{0: 96 << 20, 1: 160 << 20}
	for i, want := range static {
		h.waitTouched(t, i, want)
	}
	index := h.memoryIndex()
	grower := index[3]

	sink := e2e.NewSink(t)
	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
receivers:
  wasm_runtime:
    collection_interval: 1s
    include:
      runtimes: [wasmtime]
    linear_memory:
      every: 1
    metrics:
      wasm_runtime.linear_memory.resident: {enabled: true}
      wasm_runtime.linear_memory.committed: {enabled: true}
    threats:
      linear_memory: {limit_mib: 256}
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
    compression: none
service:
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      exporters: [otlp_grpc]
    logs:
      receivers: [wasm_runtime]
      exporters: [otlp_grpc]
`, sink.GRPCEndpoint))
	col := e2e.StartCollector(t, e2e.Options{Binary: e2e.CollectorBinary(t), Configs: []string{cfg}})
	pid := strconv.Itoa(h.pid)

	// Metrics: four memories, the static guests' resident as they touched.
	var rm pmetric.ResourceMetrics
	ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool {
		for _, r := range s.Requests() {
			if r.Signal != "metrics" {
				continue
			}
			if res, found := findResource(r.Metrics, "process.pid", pid); found {
				if n, has := value(res, "wasm_runtime.linear_memory.count"); has && n == 4 {
					rm = res
					return true
				}
			}
		}
		return false
	})
	require.True(t, ok, "no linear memories of the wasmtime host (pid %s) at the sink; collector output:\n%s", pid, col.Output())
	resident := lmPoints(rm, "wasm_runtime.linear_memory.resident", h.pid)
	committed := lmPoints(rm, "wasm_runtime.linear_memory.committed", h.pid)
	require.Len(t, resident, 4, dump(rm))
	for i, want := range static {
		res := resident[index[i]]
		t.Logf("instance %d (index %d): resident %s, committed %s, touched %s", i, index[i], mibOf(res), mibOf(committed[index[i]]), mibOf(float64(want)))
		assert.GreaterOrEqual(t, res, float64(want))
		assert.LessOrEqual(t, res, 1.05*float64(want), "instance %d within 5 %% of what it touched", i)
	}
	_, has := value(rm, "wasm_runtime.linear_memory.capacity")
	assert.False(t, has, "a metric only the threat rule asked for stays out of the pipeline")

	// Events: the grower's memory fires, by its index; no other memory does.
	var fired []memoryEvent
	ok = sink.WaitFor(90*time.Second, func(s *e2e.Sink) bool {
		fired = memoryEvents(sinkLogs(s), pid, threat.StateFiring)
		return len(fired) > 0
	})
	require.True(t, ok, "no memory_exhaustion event for the growing guest; collector output:\n%s", col.Output())
	t.Logf("fired: %s", fired[0].body)
	assert.Equal(t, int64(grower), fired[0].index, "the event names the growing guest's memory")
	assert.Equal(t, int64(256<<20), fired[0].limit)

	time.Sleep(3 * time.Second)
	fired = memoryEvents(sinkLogs(sink), pid, threat.StateFiring)
	require.Len(t, fired, 1, "one event, for one memory, not repeated")

	h.stop()
	ok = sink.WaitFor(30*time.Second, func(s *e2e.Sink) bool {
		return len(memoryEvents(sinkLogs(s), pid, threat.StateCleared)) > 0
	})
	require.True(t, ok, "the event never cleared after the host stopped")
	cleared := memoryEvents(sinkLogs(sink), pid, threat.StateCleared)
	require.Len(t, cleared, 1)
	assert.Equal(t, int64(grower), cleared[0].index)
	require.NoError(t, col.Stop())
}

func sinkLogs(s *e2e.Sink) []plog.Logs {
	var out []plog.Logs
	for _, r := range s.Requests() {
		if r.Signal == "logs" {
			out = append(out, r.Logs)
		}
	}
	return out
}
