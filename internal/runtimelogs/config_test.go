package runtimelogs

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, key string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(key)
	require.NoError(t, err)
	cfg := NewDefaultConfig()
	require.NoError(t, sub.Unmarshal(&cfg))
	return &cfg
}

func TestConfigValid(t *testing.T) {
	cfg := loadConfig(t, "valid")
	require.NoError(t, cfg.Validate())
	id := component.MustNewIDWithName("file_storage", "wasm")
	assert.Equal(t, &id, cfg.Storage)
	require.Len(t, cfg.Sources, 5)

	edge := cfg.Sources[1].withDefaults()
	assert.Equal(t, "edge_pods", edge.Name)
	assert.Equal(t, PresetWasmEdge, edge.Preset)
	assert.Equal(t, FormatContainer, edge.Format)
	assert.Equal(t, StartAtEnd, edge.StartAt)
	assert.Equal(t, 200*time.Millisecond, edge.PollInterval)
	assert.Equal(t, PresetWasmtime, cfg.Sources[4].withDefaults().Preset, "spin embeds wasmtime")
	assert.Equal(t, PresetGeneric, SourceConfig{Runtime: "crun"}.withDefaults().Preset)

	ops, err := cfg.Operators(nil)
	require.NoError(t, err)
	// Each source ends in the shared instance operator, which is last.
	assert.Equal(t, instanceOperatorID, ops[len(ops)-1].ID())
	ids := map[string]bool{}
	for _, op := range ops {
		assert.False(t, ids[op.ID()], "duplicate operator id %s", op.ID())
		ids[op.ID()] = true
	}
}

func TestConfigInvalid(t *testing.T) {
	err := loadConfig(t, "invalid").Validate()
	require.Error(t, err)
	for _, want := range []string{
		"logs.sources[0].runtime: must be set",
		`logs.sources[1].preset: unknown preset "nonsense"`,
		"logs.sources[1].include: at least one file glob",
		`logs.sources[1].start_at: "middle"`,
		`logs.sources[1].format: "journald"`,
		"logs.sources[1].pid_from_path: needs a named group pid",
		`logs.sources[2].name: "wasmtime" is also the name of logs.sources[1]`,
		"logs.sources[2].poll_interval: must be positive",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestNewLogsReceiverNeedsSources(t *testing.T) {
	cfg := NewDefaultConfig()
	_, err := NewLogsReceiver(t.Context(), testSettings(), &cfg, nil, nil)
	require.ErrorContains(t, err, "logs.sources: no log source is configured")
}
