package threat

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, key string) Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(key)
	require.NoError(t, err)
	cfg := NewDefaultConfig()
	require.NoError(t, sub.Unmarshal(&cfg))
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "defaults")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, NewDefaultConfig(), cfg)
	assert.Equal(t, 0.8, cfg.CPU.Threshold, "seed: CPU > 80 %")
	assert.Equal(t, 0.9, cfg.Memory.Threshold, "memory close to its limit")
	assert.Equal(t, []string{"cpu", "memory", "pids"}, cfg.Limits.Require)
}

func TestConfigCustom(t *testing.T) {
	cfg := loadConfig(t, "custom")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, ThresholdRule{Enabled: true, Threshold: 0.5, ConsecutiveScrapes: 3, ClearScrapes: 5}, cfg.CPU)
	assert.Equal(t, ThresholdRule{Enabled: true, Threshold: 0.75, ConsecutiveScrapes: 1, ClearScrapes: 1}, cfg.Memory, "unset fields keep their default")
	assert.False(t, cfg.OOMKill.Enabled)
	assert.Equal(t, 2, cfg.Connections.ConsecutiveScrapes)
	assert.Equal(t, []string{"memory"}, cfg.Limits.Require)
}

func TestConfigInvalid(t *testing.T) {
	invalid := loadConfig(t, "invalid")
	err := invalid.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"threats.cpu.threshold: 0 is out of range",
		"threats.cpu.consecutive_scrapes: 0 must be between 1 and 10000",
		"threats.cpu.clear_scrapes: 0 must be between 1 and 10000",
		"threats.memory.threshold: 1.2 is out of range (0, 1]",
		"threats.connections.threshold: -5 is out of range",
		`threats.limits.require[1]: "disk" is not one of cpu, memory, pids`,
		`threats.limits.require[2]: "cpu" is listed twice`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	none := loadConfig(t, "no_limits_required")
	require.ErrorContains(t, none.Validate(), "threats.limits.require: list at least one")

	// A disabled rule is not checked.
	cfg := NewDefaultConfig()
	cfg.Memory = ThresholdRule{Enabled: false, Threshold: 7}
	require.NoError(t, cfg.Validate())
}
