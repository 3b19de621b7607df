package edgeprofileextension_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// TestSharedTLSAndAuthReachEveryExporter configures TLS (custom CA and a client certificate)
// and a bearer token auth extension once, in edge_profile's exporter block, and checks it in
// print-config on all three exporters and against a mutual-TLS sink through each preset.
func TestSharedTLSAndAuthReachEveryExporter(t *testing.T) {
	skipShort(t)
	pki := e2e.NewTestPKI(t)
	sink := e2e.NewTLSSink(t, pki.Server)
	control, receiver := e2e.FreeEndpoint(t), e2e.FreeEndpoint(t)
	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
extensions:
  bearertokenauth:
    token: s3cret
  edge_profile:
    profile: edge
    endpoints:
      otlp_http: %s
      otlp_grpc: %s
    storage_directory: %s
    control:
      endpoint: %s
    exporter:
      tls:
        ca_file: %s
        cert_file: %s
        key_file: %s
      auth:
        authenticator: bearertokenauth
      headers:
        x-tenant: t1
    presets:
      edge:
        sampling_percentage: 100
        flush_interval: 1s
        exporter:
          headers: {x-preset: edge}
      cloud:
        flush_interval: 1s
        exporter:
          headers: {x-preset: cloud}
      hybrid:
        flush_interval: 1s
        exporter:
          headers: {x-preset: hybrid}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
service:
  extensions: [bearertokenauth, edge_profile]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [edge_profile]
`, sink.HTTPEndpoint, sink.GRPCEndpoint, t.TempDir(), control, pki.CAFile, pki.ClientCertFile, pki.ClientKeyFile, receiver))

	// print-config shows the expanded configuration: the block, written once, is on every exporter.
	out, err := exec.Command(e2e.CollectorBinary(t), "print-config", "--config", cfg).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var printed map[string]any
	require.NoError(t, yaml.Unmarshal(out, &printed), "%s", out)
	exps := confmap.NewFromStringMap(printed)
	for _, id := range []string{"otlp_http/edge_profile-edge", "otlp_grpc/edge_profile-cloud", "otlp_grpc/edge_profile-hybrid"} {
		pre := "exporters::" + id + "::"
		assert.Equal(t, pki.CAFile, exps.Get(pre+"tls::ca_file"), id)
		assert.Equal(t, pki.ClientCertFile, exps.Get(pre+"tls::cert_file"), id)
		assert.Equal(t, "bearertokenauth", exps.Get(pre+"auth::authenticator"), id)
	}

	e2e.StartCollector(t, e2e.Options{Configs: []string{cfg}})
	s := newSender(t, receiver)
	for _, preset := range []string{"edge", "cloud", "hybrid"} {
		if preset != "edge" {
			setProfile(t, control, preset)
		}
		before := sink.SpanCount()
		s.send(50)
		require.True(t, sink.WaitForCount("traces", before+50, 20*time.Second), "%s: %d spans at the TLS sink", preset, sink.SpanCount()-before)
	}
	seen := map[string]int{}
	for _, req := range traceRequests(sink) {
		h := func(k string) string {
			for name, v := range req.Headers {
				if len(v) > 0 && strings.EqualFold(name, k) {
					return v[0]
				}
			}
			return ""
		}
		assert.Equal(t, "Bearer s3cret", h("authorization"), "the auth extension on every request")
		assert.Equal(t, "t1", h("x-tenant"), "shared headers")
		preset := h("x-preset")
		want := map[string]e2e.Protocol{"edge": e2e.ProtocolHTTP, "cloud": e2e.ProtocolGRPC, "hybrid": e2e.ProtocolGRPC}[preset]
		assert.Equal(t, want, req.Protocol, "preset %q", preset)
		seen[preset] += req.Items()
	}
	t.Logf("through the mutual-TLS sink with the token: %v spans per preset", seen)
	assert.Equal(t, map[string]int{"edge": 50, "cloud": 50, "hybrid": 50}, seen)
}

// TestOutageSwitchAndKillLoseNothing: the backend goes down on cloud (retries shortened through
// the shared exporter block), the preset is switched to edge and back while spans keep coming,
// the collector is SIGKILLed in the middle and restarted; once the backend is back every
// accepted span arrives: all of cloud's, and edge's sampled ones. Duplicates are counted.
func TestOutageSwitchAndKillLoseNothing(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	sink.SetFailing(true)
	extra := `    exporter:
      retry_on_failure:
        initial_interval: 200ms
        max_interval: 1s
    presets:
      cloud:
        flush_interval: 1s`
	r := startPreset(t, sink, []string{minimalConfig(t, "cloud", extra)})
	phase := func(n int) []sentSpan {
		s := newSender(t, r.otlpGRPC)
		for range n / 100 {
			s.send(100)
			time.Sleep(50 * time.Millisecond)
		}
		acc, rej := s.snapshot()
		require.Zero(t, rej, "the collector refused spans during the outage")
		return acc
	}
	cloud1 := phase(2000)
	setProfile(t, r.control, "edge")
	edge := phase(2000)
	setProfile(t, r.control, "cloud")
	cloud2 := phase(1000)
	time.Sleep(2 * time.Second) // the last batches are retrying
	r.col.Kill()
	require.Zero(t, sink.SpanCount(), "nothing got through the outage")

	r.start(t)
	require.Equal(t, "cloud", status(t, r.control).Active, "restored after the SIGKILL")
	cloud3 := phase(1000)
	sink.SetFailing(false)

	want := map[pcommon.SpanID]bool{}
	for _, sp := range append(append(cloud1, cloud2...), cloud3...) {
		want[sp.id] = true
	}
	for _, sp := range edge {
		if sampledByEdge(sp.trace) {
			want[sp.id] = true
		}
	}
	ok := sink.WaitFor(90*time.Second, func(s *e2e.Sink) bool {
		got := arrivals(s)
		for id := range want {
			if len(got[id]) == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(6 * time.Second) // edge's last partial batch, and any redelivery
	got := arrivals(sink)
	lost, dups, unexpected := 0, 0, 0
	for id := range want {
		lost += boolInt(len(got[id]) == 0)
	}
	for id, reqs := range got {
		dups += len(reqs) - 1
		unexpected += boolInt(!want[id])
	}
	t.Logf("outage on cloud, switch to edge and back, SIGKILL: accepted %d (cloud %d, edge %d of which %d sampled), expected %d, arrived %d unique, lost %d, duplicates %d, unexpected %d",
		len(cloud1)+len(edge)+len(cloud2)+len(cloud3), len(cloud1)+len(cloud2)+len(cloud3), len(edge), len(want)-len(cloud1)-len(cloud2)-len(cloud3),
		len(want), len(got), lost, dups, unexpected)
	assert.True(t, ok)
	assert.Zero(t, lost, "spans lost across the outage, the switches and the SIGKILL")
	assert.Zero(t, unexpected, "only what a preset kept arrives")
}

// TestProtocolChangeKeepsTheQueue queues spans on disk on edge (OTLP/HTTP) during an outage,
// SIGKILLs the collector and restarts it with the edge preset on OTLP/gRPC: what the OTLP/HTTP
// exporter had queued is sent by the OTLP/gRPC one, since the preset's storage id does not
// depend on the protocol and its queue files are handed over at start.
func TestProtocolChangeKeepsTheQueue(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	sink.SetFailing(true)
	extra := `    exporter:
      retry_on_failure:
        initial_interval: 200ms
        max_interval: 1s
    presets:
      edge:
        sampling_percentage: 100`
	r := startPreset(t, sink, []string{minimalConfig(t, "edge", extra)})
	s := newSender(t, r.otlpGRPC)
	for range 10 {
		s.send(50)
	}
	accepted, rejected := s.snapshot()
	require.Zero(t, rejected)
	time.Sleep(2 * time.Second) // full batches are retrying, the partial one waits for its timer
	r.col.Kill()
	require.Zero(t, sink.SpanCount())

	r.sets = append(r.sets, "extensions::edge_profile::presets::edge::protocol=otlp_grpc")
	r.start(t)
	sink.SetFailing(false)
	ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool {
		got := arrivals(s)
		for _, sp := range accepted {
			if len(got[sp.id]) == 0 {
				return false
			}
		}
		return true
	})
	got := arrivals(sink)
	lost, dups := 0, 0
	for _, sp := range accepted {
		lost += boolInt(len(got[sp.id]) == 0)
		dups += max(0, len(got[sp.id])-1)
	}
	t.Logf("protocol change with a queue on disk: %d accepted over OTLP/HTTP's queue, %d arrived, lost %d, duplicates %d", len(accepted), len(got), lost, dups)
	assert.True(t, ok)
	assert.Zero(t, lost, "the queue the OTLP/HTTP exporter left is sent by the OTLP/gRPC one")
	for _, req := range traceRequests(sink) {
		assert.Equal(t, e2e.ProtocolGRPC, req.Protocol)
	}
	assert.Contains(t, r.col.Output(), "edge_profile moved a persistent queue to the preset's current exporter")
}
