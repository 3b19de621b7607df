package wasmruntimereceiver

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-virt/otelcol-virt/internal/threat"
	"github.com/otelcol-virt/otelcol-virt/internal/wasmmem"
)

func loadLinearMemoryConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "linear_memory.yaml"))
	require.NoError(t, err)
	id := component.NewID(Type)
	if name != "" {
		id = component.NewIDWithName(Type, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	if err = sub.Unmarshal(cfg); err == nil {
		err = confmap.Validate(cfg)
	}
	return cfg.(*Config), err
}

func TestLinearMemoryConfigLoad(t *testing.T) {
	def, err := loadLinearMemoryConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, LinearMemoryConfig{Enabled: true, Every: 3}, def.LinearMemory, "on, every third collection")
	assert.Equal(t, threat.LinearMemoryRule{Enabled: true, Threshold: 0.9, ClearThreshold: 0.8}, def.Threats.LinearMemory)
	assert.True(t, def.Metrics.WasmRuntimeLinearMemoryCount.Enabled)
	assert.True(t, def.Metrics.WasmRuntimeLinearMemoryLargestResident.Enabled)
	assert.True(t, def.Metrics.WasmRuntimeLinearMemoryLargestGrowth.Enabled)
	assert.True(t, def.Metrics.WasmRuntimeLinearMemoryTruncated.Enabled)
	assert.False(t, def.Metrics.WasmRuntimeLinearMemoryResident.Enabled, "per-memory series are opt-in")
	assert.False(t, def.Metrics.WasmRuntimeLinearMemoryCommitted.Enabled)

	custom, err := loadLinearMemoryConfig(t, "custom")
	require.NoError(t, err)
	lm := custom.LinearMemory
	assert.Equal(t, 6, lm.Every)
	assert.Equal(t, 65536, lm.MaxMappings)
	assert.Equal(t, threat.LinearMemoryRule{Enabled: true, Threshold: 0.95, ClearThreshold: 0.8, LimitMiB: 128}, custom.Threats.LinearMemory)

	l, ok := lm.layoutFor("my_embedder", "my_embedder")
	require.True(t, ok)
	assert.Equal(t, wasmmem.Wasmtime, l, "a user-defined runtime embedding wasmtime")
	l, ok = lm.layoutFor("tuned", "tuned")
	require.True(t, ok)
	assert.Equal(t, wasmmem.Layout{Engine: "wasmtime", GuardBefore: 0, Reservation: 1 << 30, GuardAfter: 64 << 10}, l)
	_, ok = lm.layoutFor("wasmer", "wasmer")
	assert.False(t, ok, "engine none overrides the built-in wasmer layout")

	off, err := loadLinearMemoryConfig(t, "off")
	require.NoError(t, err)
	assert.False(t, off.LinearMemory.Enabled)

	for name, want := range map[string]string{
		"bad_every":        "linear_memory.every: 0 must be between 1",
		"bad_max_mappings": "linear_memory.max_mappings: -1 must be between 0",
		"bad_engine":       `linear_memory.runtimes.myhost.engine: "wazero" is not one of wasmedge, wasmer, wasmtime, none`,
		"bad_sizes":        "linear_memory.runtimes.myhost.reservation: 1000 is not a multiple of the 4096-byte page",
		"bad_none":         "linear_memory.runtimes.myhost: engine none reads nothing",
		"bad_threat":       "threats.linear_memory.clear_threshold: 0.6 must be at least 0 and below threshold 0.5",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadLinearMemoryConfig(t, name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
	_, err = loadLinearMemoryConfig(t, "bad_sizes")
	assert.ErrorContains(t, err, "linear_memory.runtimes.myhost.guard_after: 12345 is not a multiple")
}

// The built-in mapping: wasmtime and the hosts that embed it with its default layout, WasmEdge
// and wasmer their own; wazero, WAMR and unknown runtimes are not read. A runwasi shim or a crun
// handler is found under the catalog entry runwasi / crun-wasm and named by its engine.
func TestLinearMemoryBuiltinEngines(t *testing.T) {
	var c LinearMemoryConfig
	for _, tc := range []struct {
		entry, runtime string
		want           *wasmmem.Layout
	}{
		{"wasmtime", "wasmtime", &wasmmem.Wasmtime},
		{"spin", "spin", &wasmmem.Wasmtime},
		{"wasmcloud", "wasmcloud", &wasmmem.Wasmtime},
		{"runwasi", "wasmtime", &wasmmem.Wasmtime},
		{"runwasi", "spin", &wasmmem.Wasmtime},
		{"runwasi", "wasmedge", &wasmmem.WasmEdge},
		{"crun-wasm", "wasmer", &wasmmem.Wasmer},
		{"wasmedge", "wasmedge", &wasmmem.WasmEdge},
		{"wasmer", "wasmer", &wasmmem.Wasmer},
		{"wazero", "wazero", nil},
		{"wamr", "wamr", nil},
		{"runwasi", "wamr", nil},
		{"runwasi", "runwasi", nil},
	} {
		l, ok := c.layoutFor(tc.entry, tc.runtime)
		if tc.want == nil {
			assert.False(t, ok, "%s/%s", tc.entry, tc.runtime)
			continue
		}
		assert.True(t, ok, "%s/%s", tc.entry, tc.runtime)
		assert.Equal(t, *tc.want, l, "%s/%s", tc.entry, tc.runtime)
	}
}
