package virtualizationattributesprocessor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
)

func TestCreateStartShutdown(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	set := processortest.NewNopSettings(Type)
	host := componenttest.NewNopHost()

	tp, err := f.CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, tp.Start(context.Background(), host))
	require.NoError(t, tp.Shutdown(context.Background()))

	mp, err := f.CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, mp.Start(context.Background(), host))
	require.NoError(t, mp.Shutdown(context.Background()))

	lp, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, lp.Start(context.Background(), host))
	require.NoError(t, lp.Shutdown(context.Background()))
}

// TestAllSignalsCarryHostLayers runs metrics and logs through the factory-made processors.
func TestAllSignalsCarryHostLayers(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.RootPath, _ = filepath.Abs(filepath.Join(fixturesDir, "kata-in-kvm", "root"))
	set := processortest.NewNopSettings(Type)
	ctx := context.Background()

	metrics := new(consumertest.MetricsSink)
	mp, err := f.CreateMetrics(ctx, set, cfg, metrics)
	require.NoError(t, err)
	require.NoError(t, mp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, mp.Shutdown(ctx)) }()
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	require.NoError(t, mp.ConsumeMetrics(ctx, md))
	got := metrics.AllMetrics()[0].ResourceMetrics().At(0).Resource().Attributes()
	assert.Equal(t, []string{"hypervisor:kvm", "vmm:qemu", "guest:kata", "container:containerd"}, sliceAttr(got, attrLayers))

	logs := new(consumertest.LogsSink)
	lp, err := f.CreateLogs(ctx, set, cfg, logs)
	require.NoError(t, err)
	require.NoError(t, lp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, lp.Shutdown(ctx)) }()
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("x")
	require.NoError(t, lp.ConsumeLogs(ctx, ld))
	lattrs := logs.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes()
	assert.Equal(t, "microvm", strAttr(t, lattrs, attrHostIsolationLevel))
	assert.Equal(t, "kata", strAttr(t, lattrs, attrHostIsolationTechnology))
}

func TestSignalsShareOneProcessor(t *testing.T) {
	f, shared := newFactory()
	cfg := f.CreateDefaultConfig()
	set := processortest.NewNopSettings(Type)
	ctx := context.Background()
	tp, err := f.CreateTraces(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	mp, err := f.CreateMetrics(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	shared.mu.Lock()
	s := shared.byCfg[cfg.(*Config)]
	shared.mu.Unlock()
	require.NotNil(t, s)
	assert.Equal(t, 2, s.refs, "one detector and cache for both signals")
	require.NoError(t, tp.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, mp.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, tp.Shutdown(ctx))
	select {
	case <-s.p.stop:
		t.Fatal("stopped while the metrics processor still runs")
	default:
	}
	require.NoError(t, mp.Shutdown(ctx))
	<-s.p.stop
	shared.mu.Lock()
	_, still := shared.byCfg[cfg.(*Config)]
	shared.mu.Unlock()
	assert.False(t, still, "released after the last shutdown")
}
