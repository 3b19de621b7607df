package virtualizationattributesprocessor

import (
	"context"
	"testing"

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
