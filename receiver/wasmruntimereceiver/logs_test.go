package wasmruntimereceiver

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
)

func loadLogsConfig(t *testing.T, key string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "logs_config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(key)
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestLogsAndThreatsConfig(t *testing.T) {
	def := createDefaultConfig().(*Config)
	assert.Equal(t, threat.NewDefaultConfig(), def.Threats, "threat rules on by default")
	assert.Empty(t, def.Logs.Sources, "log sources are opt-in")

	cfg := loadLogsConfig(t, "wasm_runtime")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 0.5, cfg.Threats.CPU.Threshold)
	assert.Equal(t, 0.9, cfg.Threats.Memory.Threshold, "defaults kept")
	require.Len(t, cfg.Logs.Sources, 2)
	assert.Equal(t, runtimelogs.FormatContainer, cfg.Logs.Sources[1].Format)

	// The collector validates nested sections: errors name the full field.
	err := confmap.Validate(loadLogsConfig(t, "wasm_runtime/invalid"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "threats.memory.threshold")
	assert.Contains(t, err.Error(), "logs.sources[0].include")
}

func TestCreateLogs(t *testing.T) {
	f := NewFactory()
	set := receivertest.NewNopSettings(Type)

	cfg := createDefaultConfig().(*Config)
	cfg.Threats.Enabled = false
	_, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.ErrorContains(t, err, "add logs.sources or set threats.enabled: true")

	cfg = loadLogsConfig(t, "wasm_runtime")
	cfg.RootPath = t.TempDir() // an empty host: nothing to discover, nothing to read
	r, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	shared := r.(*signal).r
	require.Len(t, shared.parts, 2, "one scrape controller (metrics and threat rules) and the log sources")
	require.NoError(t, r.Shutdown(context.Background()))
}

// One receiver id in a metrics and a logs pipeline is one receiver: the second signal shares
// the first's scraper, and the shared state goes when both are shut down.
func TestMetricsAndLogsShareOneScraper(t *testing.T) {
	f := NewFactory()
	set := receivertest.NewNopSettings(Type)
	cfg := createDefaultConfig().(*Config)
	cfg.RootPath = t.TempDir()
	mr, err := f.CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	lr, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.Same(t, mr.(*signal).r, lr.(*signal).r, "both signals of one id share one receiver")
	host := componenttest.NewNopHost()
	require.NoError(t, mr.Start(context.Background(), host))
	require.NoError(t, lr.Start(context.Background(), host))
	shared := mr.(*signal).r
	require.Len(t, shared.parts, 1, "one scrape controller for both signals (no log sources configured)")
	require.NoError(t, mr.Shutdown(context.Background()))
	require.NotNil(t, shared.scraper, "still running for the logs pipeline")
	require.NoError(t, lr.Shutdown(context.Background()))
	require.Nil(t, shared.scraper)

	// Another factory (another collector in the same process) has receivers of its own.
	other, err := NewFactory().CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NotSame(t, shared, other.(*signal).r)
}
