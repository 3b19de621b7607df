package wasmruntimereceiver

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// TestEndToEnd runs the real otelcol-virt binary with the wasm_runtime receiver and an OTLP
// exporter, next to a Wasm guest in a limited cgroup, and checks the guest's metrics arrive at
// an OTLP sink with its identity and limits.
func TestEndToEnd(t *testing.T) {
	needIntegration(t)
	g := cgrouptest.New(t, cgrouptest.Limits{CPUQuotaUsec: 25000, CPUPeriodUsec: 100000, MemoryBytes: 128 << 20, Pids: 100})
	guest := startGuest(t, g, nil, "cpuloop")
	bin := e2e.CollectorBinary(t)
	sink := e2e.NewSink(t)
	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
receivers:
  wasm_runtime:
    collection_interval: 1s
    runtimes:
      - name: wazero
        kind: wasm
        comm: ^wazero$
        attributes:
          wasm_runtime.wasm.module: '([^ /]+)\.wasm'
    include:
      runtimes: [wazero]
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
`, sink.GRPCEndpoint))
	telemetry := e2e.FreeEndpoint(t)
	col := e2e.StartCollector(t, e2e.Options{Binary: bin, Configs: []string{cfg}, TelemetryEndpoint: telemetry})

	pid := strconv.Itoa(guest.Process.Pid)
	var rm pmetric.ResourceMetrics
	ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool {
		for _, r := range s.Requests() {
			if r.Signal != "metrics" {
				continue
			}
			if res, found := findResource(r.Metrics, "process.pid", pid); found {
				if _, has := value(res, "wasm_runtime.cpu.limit.utilization"); has {
					rm = res
					return true
				}
			}
		}
		return false
	})
	require.True(t, ok, "guest %s never reached the sink; collector output:\n%s", pid, col.Output())
	assert.Equal(t, "wazero", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	for _, res := range []string{"cpu", "memory", "pids"} {
		on, ok := value(rm, "wasm_runtime.limit.configured", "wasm_runtime.limit.resource", res)
		assert.True(t, ok && on == 1, "%s limit configured", res)
	}
	lim, _ := value(rm, "wasm_runtime.cpu.limit")
	assert.InDelta(t, 0.25, lim, 1e-9)
	mem, _ := value(rm, "wasm_runtime.memory.limit")
	assert.Equal(t, float64(128<<20), mem)
	u, _ := value(rm, "wasm_runtime.cpu.limit.utilization")
	assert.Greater(t, u, 0.5, "a spinning guest runs at its quota")
	// The receiver's own health goes to the collector's telemetry, not into the user's data.
	for _, r := range sink.Requests() {
		for i := 0; i < r.Metrics.ResourceMetrics().Len(); i++ {
			_, ok := value(r.Metrics.ResourceMetrics().At(i), "wasm_runtime.scrape.file_reads")
			assert.False(t, ok, "self-metrics in the pipeline")
		}
	}
	self := e2e.ScrapeTelemetry(t, telemetry)
	assert.Contains(t, self, "otelcol_wasm_runtime_scrape_file_reads", "the receiver's self-metrics in service::telemetry")
	assert.Contains(t, self, "otelcol_scraper_scraped_metric_points", "the Collector's own scraper metrics for the receiver")
	require.NoError(t, col.Stop())
}
