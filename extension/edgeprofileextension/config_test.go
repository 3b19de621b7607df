package edgeprofileextension

import (
	"path/filepath"
	"testing"

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
		{id: component.NewID(Type), check: func(t *testing.T, cfg *Config) { assert.Equal(t, ProfileAuto, cfg.Profile) }},
		{id: component.NewIDWithName(Type, "edge"), check: func(t *testing.T, cfg *Config) { assert.Equal(t, ProfileEdge, cfg.Profile) }},
		{
			id: component.NewIDWithName(Type, "custom"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "tiny", cfg.Profile)
				assert.Equal(t, Preset{BatchSize: 8, SamplingRate: 1}, cfg.Presets["tiny"])
			},
		},
		{id: component.NewIDWithName(Type, "unknown"), wantErr: `profile: unknown profile "satellite"`},
		{id: component.NewIDWithName(Type, "bad_sampling"), wantErr: "presets.edge.sampling_percentage"},
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
