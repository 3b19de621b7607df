package virtualizationattributesprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id      component.ID
		check   func(t *testing.T, cfg *Config)
		wantErr string
	}{
		{
			id: component.NewID(Type),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 5*time.Minute, cfg.RefreshInterval)
				assert.False(t, cfg.Override)
				assert.True(t, cfg.Association.Lookup)
				assert.False(t, cfg.ResourceAttributes.VirtualizationType.Enabled, "seed compatibility attributes are opt-in")
			},
		},
		{
			id: component.NewIDWithName(Type, "daemonset"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "/hostfs", cfg.RootPath)
				assert.Equal(t, time.Minute, cfg.RefreshInterval)
				assert.True(t, cfg.Override)
				assert.Equal(t, []string{SourcePodUID, SourceContainerID, SourceConnection}, cfg.Association.Sources)
				assert.Equal(t, 16384, cfg.Association.CacheSize)
				assert.False(t, cfg.ResourceAttributes.VirtualizationDetectionConfidence.Enabled)
				assert.True(t, cfg.ResourceAttributes.VirtualizationType.Enabled)
				assert.True(t, cfg.ResourceAttributes.VirtualizationHypervisorName.Enabled, "unlisted attributes keep their default")
			},
		},
		{
			id: component.NewIDWithName(Type, "edera"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "edera", cfg.Declared.IsolationTechnology)
				assert.Equal(t, []string{"hypervisor:xen", "guest:edera"}, cfg.Declared.Layers)
			},
		},
		{id: component.NewIDWithName(Type, "bad_source"), wantErr: "association::sources: unknown source \"host.ip\""},
		{id: component.NewIDWithName(Type, "bad_cache"), wantErr: "association::cache_size"},
		{id: component.NewIDWithName(Type, "bad_declared_level"), wantErr: "declared::isolation_level"},
		{id: component.NewIDWithName(Type, "bad_declared_layer"), wantErr: "declared::layers"},
		{id: component.NewIDWithName(Type, "bad_root"), wantErr: "root_path"},
		{id: component.NewIDWithName(Type, "bad_refresh"), wantErr: "refresh_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, cfg.(*Config))
		})
	}
}
