package virtualizationattributesprocessor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// TestEndToEnd sends spans with a real OTLP/gRPC client through the real otelcol-virt binary and
// checks that they come out with the host layers and, for a real process in a real
// container-shaped cgroup, the instance's isolation.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: runs the real collector binary (skipped with -short)")
	}
	bin := e2e.CollectorBinary(t)
	sink := e2e.NewSink(t)
	otlpEndpoint := e2e.FreeEndpoint(t)

	// A real process in a docker-shaped cgroup when we can make one; host layers are checked anyway.
	containerID, pid := "", 0
	if os.Geteuid() == 0 {
		for _, base := range []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct"} {
			if _, err := os.Stat(filepath.Join(base, "cgroup.procs")); err == nil {
				containerID = randomHex(t, 64)
				pid = startInCgroup(t, base, filepath.Join("docker", containerID))
				break
			}
		}
	}
	if pid == 0 {
		t.Log("no cgroup could be created (not root or no cgroup v1 hierarchy): checking host layers only")
	}

	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  virtualization_attributes:
    association:
      rescan_interval: 0s
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [virtualization_attributes]
      exporters: [otlp_grpc]
`, otlpEndpoint, sink.GRPCEndpoint))
	telemetry := e2e.FreeEndpoint(t)
	e2e.StartCollector(t, e2e.Options{Binary: bin, Configs: []string{cfg}, TelemetryEndpoint: telemetry})

	conn, err := grpc.NewClient(otlpEndpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)

	send := func() {
		td := ptrace.NewTraces()
		host := td.ResourceSpans().AppendEmpty()
		host.Resource().Attributes().PutStr("service.name", "e2e-host-only")
		host.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("plain")
		if pid != 0 {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", "e2e-in-container")
			rs.Resource().Attributes().PutStr("container.id", containerID)
			rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("contained")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		require.NoError(t, err)
	}

	// The lookup of a new container runs beside the pipeline, so the first batches may pass
	// without instance attributes; keep sending until they appear.
	var last pcommon.Map
	found := false
	deadline := time.Now().Add(30 * time.Second)
	for !found && time.Now().Before(deadline) {
		send()
		time.Sleep(200 * time.Millisecond)
		for _, r := range sink.Requests() {
			rss := r.Traces.ResourceSpans()
			for i := 0; i < rss.Len(); i++ {
				attrs := rss.At(i).Resource().Attributes()
				if name, _ := attrs.Get("service.name"); name.Str() == "e2e-host-only" {
					last = attrs
					if pid == 0 {
						found = true
					}
				}
				if _, ok := attrs.Get(attrIsolationLevel); ok && pid != 0 {
					assert.Equal(t, "container", strAttr(t, attrs, attrIsolationLevel))
					assert.Equal(t, "docker", strAttr(t, attrs, attrRuntimeName))
					found = true
				}
			}
		}
	}
	// assert, not require: the host layers below are checked even when the instance never is.
	assert.True(t, found, "spans with instance attributes never reached the sink")
	require.NotEqual(t, pcommon.Map{}, last, "no span of the host-only resource reached the sink")

	// The binary must report what the detector reports for this machine, layer for layer.
	want := virtdetect.Detect(virtdetect.NewFS("/"), virtdetect.HostCPUID{})
	assert.Equal(t, want.LayerNames(), sliceAttr(last, attrLayers))
	assert.Equal(t, want.HypervisorName, strAttr(t, last, attrHypervisorName))
	assert.Equal(t, want.VMMName, strAttr(t, last, attrVMMName))
	assert.Equal(t, want.IsolationLevel, strAttr(t, last, attrHostIsolationLevel))
	// And what the real systemd-detect-virt --vm says of this machine, independently of our code.
	if hv, ok := systemdHostHypervisor(t); ok {
		assert.Equal(t, hv, strAttr(t, last, attrHypervisorName), "the hypervisor systemd-detect-virt --vm names")
	}
	_, ok := last.Get(attrIsolationLevel)
	assert.False(t, ok, "a resource without identity gets no instance attributes")

	// The association self-metric, as the collector exports it.
	resp, err := http.Get("http://" + telemetry + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantResult := `result="none"`
	if pid != 0 {
		wantResult = `result="hit"`
	}
	found = false
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "otelcol_processor_virtualization_attributes_associations") && strings.Contains(line, wantResult) {
			found = true
		}
	}
	assert.True(t, found, "self-metric with %s missing from:\n%s", wantResult, body)

	// The stock load generator, as users run it: its spans carry the same layers, and with the
	// container's id (already resolved above) the instance's isolation.
	args := []string{"traces", "--otlp-insecure", "--otlp-endpoint", otlpEndpoint, "--traces", "2", "--service", "telemetrygen-e2e"}
	if pid != 0 {
		args = append(args, "--otlp-attributes", fmt.Sprintf("container.id=%q", containerID))
	}
	e2e.Telemetrygen(t, 30*time.Second, args...)
	require.True(t, sink.WaitFor(30*time.Second, func(s *e2e.Sink) bool {
		for _, r := range s.Requests() {
			rss := r.Traces.ResourceSpans()
			for i := 0; i < rss.Len(); i++ {
				attrs := rss.At(i).Resource().Attributes()
				if name, _ := attrs.Get("service.name"); name.Str() != "telemetrygen-e2e" {
					continue
				}
				if !assert.Equal(t, want.LayerNames(), sliceAttr(attrs, attrLayers)) {
					return true
				}
				if pid != 0 {
					assert.Equal(t, "container", strAttr(t, attrs, attrIsolationLevel))
					assert.Equal(t, "docker", strAttr(t, attrs, attrRuntimeName))
				}
				return true
			}
		}
		return false
	}), "telemetrygen's spans never reached the sink")
}
