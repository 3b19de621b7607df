package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One receiver id in a metrics and a logs pipeline, with the virtualization_attributes processor
// in both and in a traces pipeline, walks /proc once per collection interval: every consumer
// reads the instance_inventory extension's snapshot. Counted by the extension's own telemetry.
func TestOneWalkPerInterval(t *testing.T) {
	skipShort(t)
	sink := NewSink(t)
	otlp := FreeEndpoint(t)
	telemetry := FreeEndpoint(t)
	cfg := WriteConfig(t, fmt.Sprintf(`
extensions:
  instance_inventory:
    refresh_interval: 1s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
  wasm_runtime:
    collection_interval: 1s
    inventory: instance_inventory
    threats:
      enabled: true
processors:
  virtualization_attributes:
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
service:
  extensions: [instance_inventory]
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
    logs:
      receivers: [wasm_runtime]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
    traces:
      receivers: [otlp]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
`, otlp, sink.GRPCEndpoint))
	col := StartCollector(t, Options{Configs: []string{cfg}, TelemetryEndpoint: telemetry})
	walks := func() float64 {
		m := regexp.MustCompile(`(?m)^otelcol_instance_inventory_walks(?:_total)?(?:\{[^}]*\})? ([0-9.e+]+)$`).FindStringSubmatch(ScrapeTelemetry(t, telemetry))
		require.NotNil(t, m, "no otelcol_instance_inventory_walks in the collector's telemetry")
		v, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		return v
	}
	time.Sleep(3 * time.Second) // past start-up
	w0, t0 := walks(), time.Now()
	// Traces go through the processor meanwhile: it reads the snapshot, it does not walk.
	Telemetrygen(t, time.Minute, "traces", "--otlp-endpoint", otlp, "--otlp-insecure", "--rate", "200", "--duration", "6s")
	time.Sleep(time.Until(t0.Add(8 * time.Second)))
	w1, t1 := walks(), time.Now()
	elapsed := t1.Sub(t0).Seconds()
	got := w1 - w0
	t.Logf("%.0f walks in %.1fs", got, elapsed)
	assert.GreaterOrEqual(t, got, elapsed-2, "the receiver's scrapes walk once per interval")
	assert.LessOrEqual(t, got, elapsed+1, "one walk per interval, not one per pipeline or consumer")
	require.NoError(t, col.Stop())
}
