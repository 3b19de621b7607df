package deploy

import (
	"context"
	"crypto/rand"
	"slices"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// TestAgentsSampleTracesAlike runs two agents with the edge overlay's configuration, as on two
// nodes, and sends each of them one span of every trace (a trace crossing both nodes). Both must
// keep exactly the same traces, about the preset's 10 %, because the sampler decides from the
// trace id alone.
func TestAgentsSampleTracesAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs two collectors")
	}
	bin := collectorBinary(t)
	const traces = 2000
	ids := make([]pcommon.TraceID, traces)
	for i := range ids {
		if _, err := rand.Read(ids[i][:]); err != nil {
			t.Fatal(err)
		}
	}

	kept := map[string][]string{}
	for _, node := range []string{"node-a", "node-b"} {
		sink := e2e.NewSink(t)
		grpcEndpoint := e2e.FreeEndpoint(t)
		c := e2e.StartCollector(t, e2e.Options{
			Binary:  bin,
			Configs: []string{repoPath(k8sDir, "overlays", "edge", "agent.yaml")},
			Set: []string{
				"extensions::health_check::endpoint=" + e2e.FreeEndpoint(t),
				"receivers::otlp::protocols::grpc::endpoint=" + grpcEndpoint,
				"receivers::otlp::protocols::http::endpoint=" + e2e.FreeEndpoint(t),
				"extensions::instance_inventory::root_path=/",
				"receivers::wasm_runtime::collection_interval=1h",
				"exporters::otlp_http/gateway::endpoint=" + sink.HTTPEndpoint,
				"exporters::prometheus::endpoint=" + e2e.FreeEndpoint(t),
			},
			Env: map[string]string{"K8S_POD_IP": "127.0.0.1", "K8S_NODE_NAME": node},
		})
		sendSpans(t, grpcEndpoint, node, ids)
		// Everything sent is through the batch processor (5 s timeout) once the collector stops.
		if err := c.Stop(); err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		var got []string
		for _, r := range sink.Requests() {
			if r.Signal != "traces" {
				continue
			}
			rss := r.Traces.ResourceSpans()
			for i := 0; i < rss.Len(); i++ {
				if v, _ := rss.At(i).Resource().Attributes().Get("k8s.node.name"); v.Str() != node {
					t.Errorf("%s: exported resource has k8s.node.name=%q", node, v.Str())
				}
				sss := rss.At(i).ScopeSpans()
				for j := 0; j < sss.Len(); j++ {
					spans := sss.At(j).Spans()
					for k := 0; k < spans.Len(); k++ {
						got = append(got, spans.At(k).TraceID().String())
					}
				}
			}
		}
		sort.Strings(got)
		kept[node] = got
	}

	a, b := kept["node-a"], kept["node-b"]
	t.Logf("kept %d and %d of %d traces", len(a), len(b), traces)
	if !slices.Equal(a, b) {
		t.Errorf("the agents kept different traces: %d on node-a, %d on node-b", len(a), len(b))
	}
	// Binomial(2000, 0.1): mean 200, sd 13.4; 120..280 is six standard deviations each way.
	if len(a) < 120 || len(a) > 280 {
		t.Errorf("kept %d of %d traces, want about 10 %%", len(a), traces)
	}
}

// sendSpans sends one span per trace id over OTLP/gRPC, in requests of 100 spans.
func sendSpans(t *testing.T, endpoint, node string, ids []pcommon.TraceID) {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	now := time.Now()
	for start := 0; start < len(ids); start += 100 {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "sampling-test-"+node)
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for i, id := range ids[start:min(start+100, len(ids))] {
			s := spans.AppendEmpty()
			s.SetTraceID(id)
			s.SetSpanID(pcommon.SpanID{byte(start >> 8), byte(start), byte(i), 1, 2, 3, 4, 5})
			s.SetName("hop on " + node)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		cancel()
		if err != nil {
			t.Fatalf("%s: export: %v", node, err)
		}
	}
}
