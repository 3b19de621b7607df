package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The Kubernetes gateway tier on loopback: two gateway processes (examples/kubernetes/base/
// gateway.yaml, each with its own persistent queue) behind one cloud agent
// (overlays/cloud/agent.yaml) whose exporter resolves the headless Service name with the gRPC
// dns:/// resolver and balances round_robin, as in the cluster. The name resolves to two
// loopback addresses through an /etc/hosts bind-mounted into the agent's own mount namespace,
// the way the headless Service answers with one A record per ready pod.

const headlessName = "otelcol-virt-gateway-headless.otelcol-virt.svc.cluster.local"

type gatewayRig struct {
	sink      *CountingSink
	port      int
	gateways  [2]*gatewayProc
	agentOTLP string
	agentTel  string
}

type gatewayProc struct {
	ip, telemetry, queue string
	set                  []string
	env                  map[string]string
	c                    *Collector
}

// agentInNamespace writes a wrapper that runs the collector in a private mount namespace where
// /etc/hosts resolves the headless Service name to the given addresses.
func agentInNamespace(t *testing.T, addrs ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a private mount namespace with its own /etc/hosts needs root")
	}
	for _, tool := range []string{"unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux)", tool)
		}
	}
	dir := t.TempDir()
	hosts := "127.0.0.1 localhost\n"
	for _, a := range addrs {
		hosts += a + " " + headlessName + "\n"
	}
	hostsFile := filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(hostsFile, []byte(hosts), 0o644))
	wrapper := filepath.Join(dir, "otelcol-virt-in-ns")
	script := fmt.Sprintf(`#!/bin/sh
exec unshare --mount --propagation private sh -c 'mount --bind %s /etc/hosts && exec %s "$@"' otelcol-virt "$@"
`, hostsFile, CollectorBinary(t))
	require.NoError(t, os.WriteFile(wrapper, []byte(script), 0o755))
	return wrapper
}

func newGatewayRig(t *testing.T) *gatewayRig {
	t.Helper()
	sink, err := StartCountingSink(CountingSinkOptions{TrackIDs: true})
	require.NoError(t, err)
	t.Cleanup(sink.Close)
	r := &gatewayRig{sink: sink, port: FreePort(t)}
	root := RepoRoot()
	for i, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		queue := t.TempDir()
		g := &gatewayProc{ip: ip, telemetry: FreeEndpoint(t), queue: queue}
		g.set = []string{
			"receivers::otlp::protocols::grpc::endpoint=" + ip + ":" + strconv.Itoa(r.port),
			"receivers::otlp::protocols::http::endpoint=" + FreeEndpoint(t),
			"extensions::health_check::endpoint=" + FreeEndpoint(t),
			"extensions::file_storage/queue::directory=" + queue,
			"extensions::file_storage/queue::compaction::directory=" + queue,
		}
		g.env = map[string]string{
			"K8S_POD_IP":                    ip,
			"K8S_NODE_NAME":                 "node-" + strconv.Itoa(i),
			"K8S_POD_NAME":                  "otelcol-virt-gateway-" + strconv.Itoa(i),
			"OTELCOL_VIRT_BACKEND_ENDPOINT": sink.GRPCEndpoint,
			"OTELCOL_VIRT_BACKEND_INSECURE": "true",
		}
		r.gateways[i] = g
		g.start(t, filepath.Join(root, "examples", "kubernetes", "base", "gateway.yaml"))
	}

	wrapper := agentInNamespace(t, "127.0.0.1", "127.0.0.2")
	r.agentOTLP, r.agentTel = FreeEndpoint(t), FreeEndpoint(t)
	StartCollector(t, Options{
		Binary:  wrapper,
		Configs: []string{filepath.Join(root, "examples", "kubernetes", "overlays", "cloud", "agent.yaml")},
		Set: []string{
			// The agent's own exporter as shipped, only the port moved off 4317.
			"exporters::otlp_grpc/gateway::endpoint=dns:///" + headlessName + ":" + strconv.Itoa(r.port),
			"receivers::otlp::protocols::grpc::endpoint=" + r.agentOTLP,
			"receivers::otlp::protocols::http::endpoint=" + FreeEndpoint(t),
			"extensions::health_check::endpoint=" + FreeEndpoint(t),
			"exporters::prometheus::endpoint=" + FreeEndpoint(t),
			"extensions::edge_profile::storage_directory=" + t.TempDir(),
			"extensions::instance_inventory::root_path=/",
			// The cloud preset flushes partial batches after 30 s; the test does not wait that long.
			"processors::batch::timeout=1s",
		},
		Env: map[string]string{
			"K8S_POD_IP": "127.0.0.1", "K8S_NODE_NAME": "node-a", "K8S_POD_NAME": "otelcol-virt-agent-a",
			"K8S_POD_NAMESPACE": "otelcol-virt", "K8S_POD_UID": "00000000-0000-0000-0000-00000000000a",
		},
		TelemetryEndpoint: r.agentTel,
	})
	return r
}

func (g *gatewayProc) start(t *testing.T, config string) {
	t.Helper()
	g.c = StartCollector(t, Options{Configs: []string{config}, Set: g.set, Env: g.env, TelemetryEndpoint: g.telemetry})
}

func (g *gatewayProc) accepted(t *testing.T) float64 {
	t.Helper()
	m, err := ScrapeMetrics(g.telemetry)
	require.NoError(t, err)
	v, _ := m.Get("otelcol_receiver_accepted_spans_total")
	return v
}

// sendSpans sends n spans of unique ids to the agent, 100 per request, spread over d; it fails
// on a refusal (the agent must accept everything) and counts what it sent.
func (r *gatewayRig) sendSpans(t *testing.T, n int, d time.Duration, sent *atomic.Int64) error {
	conn, err := grpc.NewClient(r.agentOTLP, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	requests := (n + 99) / 100
	tick := time.NewTicker(d / time.Duration(requests))
	defer tick.Stop()
	for i := 0; i < n; i += 100 {
		td := testTraces(min(100, n-i), 0)
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for j := 0; j < spans.Len(); j++ {
			var tid [16]byte
			_, _ = rand.Read(tid[:])
			spans.At(j).SetTraceID(tid)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		cancel()
		if err != nil {
			return fmt.Errorf("the agent refused spans %d..%d: %w", i, i+spans.Len(), err)
		}
		sent.Add(int64(spans.Len()))
		<-tick.C
	}
	return nil
}

// TestGatewayRoundRobinAndKill: the agent spreads its batches over both gateways (each gets at
// least 30 %); one gateway is SIGKILLed mid-run and the agent moves to the other without
// refusing anything; the killed one restarts on its own queue (a StatefulSet pod on its claim)
// and delivers what it had accepted. Every span accepted reaches the backend; replays after
// the kill are counted as duplicates.
func TestGatewayRoundRobinAndKill(t *testing.T) {
	skipShort(t)
	r := newGatewayRig(t)
	a, b := r.gateways[0], r.gateways[1]
	var sent atomic.Int64

	// Phase 1: both gateways up.
	const phase1 = 20000
	require.NoError(t, r.sendSpans(t, phase1, 5*time.Second, &sent))
	require.True(t, r.sink.WaitForSpans(phase1, 60*time.Second), "phase 1 delivered: %d of %d", r.sink.Spans(), phase1)
	accA, accB := a.accepted(t), b.accepted(t)
	total := accA + accB
	t.Logf("phase 1: %d spans sent, gateway %s accepted %.0f (%.1f %%), gateway %s %.0f (%.1f %%)",
		phase1, a.ip, accA, 100*accA/total, b.ip, accB, 100*accB/total)
	assert.GreaterOrEqual(t, total, float64(phase1), "the gateways accepted every span")
	assert.GreaterOrEqual(t, accA/total, 0.30, "gateway %s gets at least 30 %% of the load", a.ip)
	assert.GreaterOrEqual(t, accB/total, 0.30, "gateway %s gets at least 30 %% of the load", b.ip)

	// Phase 2: gateway b is killed while the load runs.
	const phase2 = 40000
	errc := make(chan error, 1)
	go func() { errc <- r.sendSpans(t, phase2, 10*time.Second, &sent) }()
	require.Eventually(t, func() bool { return b.accepted(t) > accB+2000 }, 30*time.Second, 50*time.Millisecond,
		"gateway %s takes part of phase 2 before it is killed", b.ip)
	b.c.Kill()
	killedAt := sent.Load()
	require.NoError(t, <-errc, "the agent accepts everything while a gateway is down")
	t.Logf("gateway %s SIGKILLed after %d spans had been sent", b.ip, killedAt)

	// The agent delivers the rest through gateway a alone.
	time.Sleep(3 * time.Second)
	deliveredBeforeRestart := r.sink.Spans()

	// The StatefulSet restarts the pod on the same claim: its queue is sent.
	b.start(t, filepath.Join(RepoRoot(), "examples", "kubernetes", "base", "gateway.yaml"))
	want := int64(phase1 + phase2)
	require.Equal(t, want, sent.Load())
	require.True(t, r.sink.WaitForSpans(want, 90*time.Second), "every accepted span arrives: %d unique of %d", uniq(r.sink), want)
	time.Sleep(2 * time.Second) // late replays
	unique, dups := r.sink.UniqueSpans()
	t.Logf("kill: %d spans at the backend before gateway %s restarted; after: %d unique of %d sent, %d duplicates (replayed from its queue)",
		deliveredBeforeRestart, b.ip, unique, want, dups)
	assert.Equal(t, want, unique, "nothing accepted is lost")
	// At least once: a replay can only repeat what gateway b had accepted, and it accepted
	// nothing sent to the agent after its death (by its restart, the agent had delivered the
	// rest through gateway a).
	assert.LessOrEqual(t, dups, killedAt, "duplicates stay within what the killed gateway can have held")
	m, err := ScrapeMetrics(r.agentTel)
	require.NoError(t, err)
	refused, _ := m.Get("otelcol_receiver_refused_spans_total")
	assert.Zero(t, refused, "the agent refused nothing")
}

func uniq(s *CountingSink) int64 { u, _ := s.UniqueSpans(); return u }
