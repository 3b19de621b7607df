package edgeprofileconverter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestConvert(t *testing.T) {
	conv := NewFactory().Create(confmap.ConverterSettings{})
	conf := confmap.NewFromStringMap(map[string]any{
		"extensions": map[string]any{"edge_profile": map[string]any{"profile": "edge"}},
		"service": map[string]any{
			"extensions": []any{"edge_profile"},
			"pipelines":  map[string]any{"logs": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"edge_profile"}}},
		},
	})
	require.NoError(t, conv.Convert(context.Background(), conf))
	assert.Equal(t, []any{"probabilistic_sampler/edge_profile-edge-logs"}, conf.Get("service::pipelines::logs/edge_profile-edge::processors"))
	assert.Equal(t, false, conf.Get("processors::probabilistic_sampler/edge_profile-edge-logs::fail_closed"), "records without a trace id are kept")
	assert.False(t, conf.IsSet("processors::probabilistic_sampler/edge_profile-edge"), "no traces pipeline, no traces sampler")
	assert.False(t, conf.IsSet("service::pipelines::traces/edge_profile-edge"), "only the signals in use")

	bad := confmap.NewFromStringMap(map[string]any{
		"extensions": map[string]any{"edge_profile": map[string]any{"profile": "edge", "presets": map[string]any{"edge": map[string]any{"batch_size": 0}}}},
		"service": map[string]any{
			"extensions": []any{"edge_profile"},
			"pipelines":  map[string]any{"traces": map[string]any{"exporters": []any{"edge_profile"}}},
		},
	})
	assert.ErrorContains(t, conv.Convert(context.Background(), bad), "extensions::edge_profile: presets.edge.batch_size: must be at least 1")
}
