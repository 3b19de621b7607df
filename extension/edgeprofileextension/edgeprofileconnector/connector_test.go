package edgeprofileconnector

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension"
)

// fakeSwitcher stands in for the extension: it only has to hand out the active preset.
type fakeSwitcher struct {
	component.StartFunc
	component.ShutdownFunc
	mu   sync.Mutex
	subs []func(string)
	cur  string
}

func (f *fakeSwitcher) Presets() []string { return []string{"cloud", "edge"} }

func (f *fakeSwitcher) Subscribe(fn func(string)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, fn)
	fn(f.cur)
	return func() {}
}

func (f *fakeSwitcher) set(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = p
	for _, fn := range f.subs {
		fn(p)
	}
}

type host struct {
	component.Host
	ext map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.ext }

var extID = component.NewID(edgeprofileextension.Type)

func testConfig() *Config {
	return &Config{Extension: extID, Presets: []string{"cloud", "edge"}}
}

func TestTracesFollowTheActivePreset(t *testing.T) {
	names := edgeprofileextension.Names{Extension: extID}
	edge, cloud := new(consumertest.TracesSink), new(consumertest.TracesSink)
	router := connector.NewTracesRouter(map[pipeline.ID]consumer.Traces{
		names.Pipeline(pipeline.SignalTraces, "edge"):  edge,
		names.Pipeline(pipeline.SignalTraces, "cloud"): cloud,
	})
	f := NewFactory()
	c, err := f.CreateTracesToTraces(context.Background(), connectortest.NewNopSettings(f.Type()), testConfig(), router)
	require.NoError(t, err)
	sw := &fakeSwitcher{cur: "edge"}
	require.NoError(t, c.Start(context.Background(), host{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{extID: sw}}))
	defer func() { require.NoError(t, c.Shutdown(context.Background())) }()

	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	require.NoError(t, c.ConsumeTraces(context.Background(), td))
	sw.set("cloud")
	require.NoError(t, c.ConsumeTraces(context.Background(), td))
	require.NoError(t, c.ConsumeTraces(context.Background(), td))
	assert.Equal(t, 1, edge.SpanCount())
	assert.Equal(t, 2, cloud.SpanCount())
	assert.False(t, c.Capabilities().MutatesData)
}

func TestMetricsAndLogsRoute(t *testing.T) {
	names := edgeprofileextension.Names{Extension: extID}
	f := NewFactory()
	sw := &fakeSwitcher{cur: "cloud"}
	h := host{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{extID: sw}}

	mEdge, mCloud := new(consumertest.MetricsSink), new(consumertest.MetricsSink)
	mc, err := f.CreateMetricsToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), testConfig(),
		connector.NewMetricsRouter(map[pipeline.ID]consumer.Metrics{
			names.Pipeline(pipeline.SignalMetrics, "edge"):  mEdge,
			names.Pipeline(pipeline.SignalMetrics, "cloud"): mCloud,
		}))
	require.NoError(t, err)
	require.NoError(t, mc.Start(context.Background(), h))
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	require.NoError(t, mc.ConsumeMetrics(context.Background(), md))
	assert.Equal(t, 1, mCloud.DataPointCount())
	assert.Zero(t, mEdge.DataPointCount())

	lEdge, lCloud := new(consumertest.LogsSink), new(consumertest.LogsSink)
	lc, err := f.CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(f.Type()), testConfig(),
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{
			names.Pipeline(pipeline.SignalLogs, "edge"):  lEdge,
			names.Pipeline(pipeline.SignalLogs, "cloud"): lCloud,
		}))
	require.NoError(t, err)
	require.NoError(t, lc.Start(context.Background(), h))
	sw.set("edge")
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	require.NoError(t, lc.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, 1, lEdge.LogRecordCount())
}

func TestStartErrors(t *testing.T) {
	names := edgeprofileextension.Names{Extension: extID}
	f := NewFactory()
	router := connector.NewTracesRouter(map[pipeline.ID]consumer.Traces{
		names.Pipeline(pipeline.SignalTraces, "edge"):  consumertest.NewNop(),
		names.Pipeline(pipeline.SignalTraces, "cloud"): consumertest.NewNop(),
	})
	c, err := f.CreateTracesToTraces(context.Background(), connectortest.NewNopSettings(f.Type()), testConfig(), router)
	require.NoError(t, err)
	err = c.Start(context.Background(), componenttest.NewNopHost())
	assert.ErrorContains(t, err, "list it under service::extensions")

	// A preset without a generated pipeline is a configuration error, reported at creation.
	cfg := testConfig()
	cfg.Presets = append(cfg.Presets, "tiny")
	_, err = f.CreateTracesToTraces(context.Background(), connectortest.NewNopSettings(f.Type()), cfg, router)
	assert.ErrorContains(t, err, `preset "tiny"`)

	assert.ErrorContains(t, (&Config{Extension: component.MustNewID("health_check"), Presets: []string{"edge"}}).Validate(), "not an edge_profile extension")
	assert.ErrorContains(t, (&Config{Extension: extID}).Validate(), "presets: empty")
}

// BenchmarkRoute measures what the routing adds per batch: one atomic load and an indirect call.
func BenchmarkRoute(b *testing.B) {
	names := edgeprofileextension.Names{Extension: extID}
	router := connector.NewTracesRouter(map[pipeline.ID]consumer.Traces{
		names.Pipeline(pipeline.SignalTraces, "edge"):  consumertest.NewNop(),
		names.Pipeline(pipeline.SignalTraces, "cloud"): consumertest.NewNop(),
	})
	f := NewFactory()
	c, err := f.CreateTracesToTraces(context.Background(), connectortest.NewNopSettings(f.Type()), testConfig(), router)
	require.NoError(b, err)
	sw := &fakeSwitcher{cur: "edge"}
	require.NoError(b, c.Start(context.Background(), host{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{extID: sw}}))
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = c.ConsumeTraces(ctx, td)
	}
}
