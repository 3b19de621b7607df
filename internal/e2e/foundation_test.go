package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: runs the real collector binary (skipped with -short)")
	}
}

func TestComponentsListed(t *testing.T) {
	skipShort(t)
	for _, bin := range []string{CollectorBinary(t), EdgeCollectorBinary(t)} {
		out, err := exec.Command(bin, "components").CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, want := range []string{
			"name: wasm_runtime", "name: virtualization_attributes", "name: edge_profile",
			"name: otlp", "name: otlp_grpc", "name: otlp_http", "name: debug",
			"name: memory_limiter", "name: batch", "name: probabilistic_sampler",
			"name: health_check", "name: file_storage",
		} {
			assert.Contains(t, string(out), want, "%s components", filepath.Base(bin))
		}
	}
	// The main distribution carries the stock components users expect around ours; the
	// prometheus receiver and remote-write exporter are in otelcol-virt-full only (see
	// distributions_test.go), so a first build compiles a third fewer packages.
	out, err := exec.Command(CollectorBinary(t), "components").CombinedOutput()
	require.NoError(t, err)
	for _, want := range []string{
		"name: file_log", "name: prometheus", "name: resource",
		"name: zpages", "name: pprof", "name: bearertokenauth",
	} {
		assert.Contains(t, string(out), want)
	}
	for _, heavy := range []string{"name: prometheus_remote_write", "module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"} {
		assert.NotContains(t, string(out), heavy, "otelcol-virt must stay lean; heavy components go to otelcol-virt-full")
	}
}

// The examples run as they are on both distributions.
func TestExamplesValidate(t *testing.T) {
	skipShort(t)
	for _, bin := range []string{CollectorBinary(t), EdgeCollectorBinary(t)} {
		for _, name := range []string{"edge.yaml", "cloud.yaml", "hybrid.yaml"} {
			t.Run(filepath.Base(bin)+"/"+name, func(t *testing.T) {
				cfg := filepath.Join(RepoRoot(), "examples", name)
				out, err := exec.Command(bin, "validate", "--config", cfg).CombinedOutput()
				assert.NoError(t, err, "%s", out)
			})
		}
	}
}

// Invalid configs of every custom component, rejected through the real binary with an error
// naming the field and the fix: TestInvalidConfigTable in badinput_test.go.

// The edge example is what `make run` starts: it must come up and stay up with no backend.
func TestEdgeExampleStaysUp(t *testing.T) {
	skipShort(t)
	ports := NewExamplePorts(t)
	c := StartCollector(t, Options{
		Configs: []string{filepath.Join(RepoRoot(), "examples", "edge.yaml")},
		Set:     ports.Set(),
	})
	select {
	case <-c.Done():
		t.Fatalf("collector exited:\n%s", c.Output())
	case <-time.After(5 * time.Second):
	}
	require.NoError(t, c.Stop(), "clean shutdown")
}

// 1,000 spans sent with a real OTLP client through examples/cloud.yaml, pointed at the sink
// the documented way, all arrive.
func TestCloudExampleDeliversAllSpans(t *testing.T) {
	skipShort(t)
	sink := NewSink(t)
	ports := NewExamplePorts(t)
	StartCollector(t, Options{
		Configs: []string{filepath.Join(RepoRoot(), "examples", "cloud.yaml")},
		Set:     ports.Set(),
		// One variable points every edge_profile preset at the backend; http:// means plaintext.
		Env: map[string]string{"OTELCOL_VIRT_ENDPOINT": "http://" + sink.GRPCEndpoint},
	})
	Telemetrygen(t, time.Minute, "traces", "--otlp-endpoint", ports.OTLPGRPC, "--otlp-insecure",
		"--traces", "500", "--child-spans", "1", "--rate", "0", "--workers", "1") // 500 x (parent + child)

	// cloud flushes every 30 s or at 512 spans.
	ok := sink.WaitForCount("traces", 1000, 75*time.Second)
	assert.True(t, ok, "spans at the sink: %d of 1000", sink.SpanCount())
	time.Sleep(time.Second) // nothing more may arrive: every span exactly once
	assert.Equal(t, 1000, sink.SpanCount())
	for _, r := range sink.Requests() {
		assert.Equal(t, ProtocolGRPC, r.Protocol)
	}
}
