package edgeprofileconnector

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension"
)

// BenchmarkRoutingShare bounds, in one run, what routing through edge_profile adds to a
// preset's CPU: per request, the connector's own work (the active preset looked up and the
// request handed to its pipeline) against the OTLP protobuf encoding of the same request.
// Every preset's exporter encodes each request at least once (OTLP over gRPC or HTTP), and so
// does the stock pipeline it is compared with; the receiver's decoding, the sampler, the queue,
// compression and the network come on top in both. The reported share is therefore an upper
// bound of the routing's share of the whole. Requests are shaped like telemetrygen's (traces of
// two spans with two attributes each); larger spans only lower the share. Both are timed in
// every iteration, one after the other, so a change of the machine's speed hits both.
//
//	go test ./extension/edgeprofileextension/edgeprofileconnector -run '^$' -bench RoutingShare -count 6
func BenchmarkRoutingShare(b *testing.B) {
	for _, spans := range []int{2, 64, 512} {
		b.Run("spans="+strconv.Itoa(spans), func(b *testing.B) {
			c := startedTracesConnector(b)
			td := telemetrygenLikeTraces(spans)
			var enc ptrace.ProtoMarshaler
			ctx := context.Background()
			const routes = 64 // a route is ~100 ns: timed in bulk
			var routing, encoding time.Duration
			for b.Loop() {
				t0 := time.Now()
				for range routes {
					if err := c.ConsumeTraces(ctx, td); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				if _, err := enc.MarshalTraces(td); err != nil {
					b.Fatal(err)
				}
				routing += t1.Sub(t0) / routes
				encoding += time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(routing.Nanoseconds())/n, "route-ns/request")
			b.ReportMetric(float64(encoding.Nanoseconds())/n, "encode-ns/request")
			b.ReportMetric(100*float64(routing)/float64(encoding), "route-%-of-encode")
		})
	}
}

func startedTracesConnector(b *testing.B) connector.Traces {
	b.Helper()
	names := edgeprofileextension.Names{Extension: extID}
	router := connector.NewTracesRouter(map[pipeline.ID]consumer.Traces{
		names.Pipeline(pipeline.SignalTraces, "edge"):  consumertest.NewNop(),
		names.Pipeline(pipeline.SignalTraces, "cloud"): consumertest.NewNop(),
	})
	f := NewFactory()
	c, err := f.CreateTracesToTraces(context.Background(), connectortest.NewNopSettings(f.Type()), testConfig(), router)
	require.NoError(b, err)
	sw := &fakeSwitcher{cur: "cloud"}
	require.NoError(b, c.Start(context.Background(), host{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{extID: sw}}))
	b.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

// telemetrygenLikeTraces is one request of traces of two spans, a client parent "lets-go" and a
// server child "okey-dokey-0", each with the two attributes telemetrygen v0.161.0 gives them
// (cmd/telemetrygen/pkg/traces/worker.go simulateTraces).
func telemetrygenLikeTraces(spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "telemetrygen")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("telemetrygen")
	now := time.Now()
	for i := range spans {
		sp := ss.Spans().AppendEmpty()
		trace := i / 2
		sp.SetTraceID(pcommon.TraceID([16]byte{byte(trace >> 8), byte(trace), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}))
		sp.SetSpanID(pcommon.SpanID([8]byte{byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6}))
		peer := "telemetrygen-server"
		if i%2 == 1 {
			sp.SetParentSpanID(pcommon.SpanID([8]byte{byte((i - 1) >> 8), byte(i - 1), 1, 2, 3, 4, 5, 6}))
			sp.SetName("okey-dokey-0")
			sp.SetKind(ptrace.SpanKindServer)
			peer = "telemetrygen-client"
		} else {
			sp.SetName("lets-go")
			sp.SetKind(ptrace.SpanKindClient)
		}
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(123 * time.Microsecond)))
		sp.Attributes().PutStr("network.peer.address", "1.2.3.4")
		sp.Attributes().PutStr("service.peer.name", peer)
	}
	return td
}
