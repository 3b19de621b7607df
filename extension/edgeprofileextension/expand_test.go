package edgeprofileextension

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func userConf(ext map[string]any) *confmap.Conf {
	return confmap.NewFromStringMap(map[string]any{
		"receivers":  map[string]any{"otlp": map[string]any{}},
		"extensions": map[string]any{"edge_profile": ext, "health_check": nil},
		"service": map[string]any{
			"extensions": []any{"health_check", "edge_profile"},
			"pipelines": map[string]any{
				"traces":  map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"edge_profile"}},
				"metrics": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"edge_profile"}},
			},
		},
	})
}

func TestExpandWithBackend(t *testing.T) {
	conf := userConf(map[string]any{
		"profile":           "edge",
		"endpoint":          "http://127.0.0.1:5555",
		"storage_directory": "/var/tmp/ep",
		"headers":           map[string]any{"x-api-key": "k"},
	})
	ids, err := ExpandConfig(conf)
	require.NoError(t, err)
	require.Len(t, ids, 1)

	// One pipeline per preset and signal; the sampler only where sampling < 100 % and never on metrics.
	assert.Equal(t, map[string]any{
		"receivers":  []any{"edge_profile"},
		"processors": []any{"probabilistic_sampler/edge_profile-edge"},
		"exporters":  []any{"otlp_http/edge_profile-edge"},
	}, conf.Get("service::pipelines::traces/edge_profile-edge"))
	assert.Equal(t, []any{}, conf.Get("service::pipelines::metrics/edge_profile-edge::processors"))
	assert.Equal(t, []any{}, conf.Get("service::pipelines::traces/edge_profile-cloud::processors"))
	assert.Equal(t, []any{"otlp_grpc/edge_profile-hybrid"}, conf.Get("service::pipelines::traces/edge_profile-hybrid::exporters"))
	// The user's own pipelines are untouched.
	assert.Equal(t, []any{"edge_profile"}, conf.Get("service::pipelines::traces::exporters"))

	assert.Equal(t, "proportional", conf.Get("processors::probabilistic_sampler/edge_profile-edge::mode"))
	assert.InDelta(t, 10.0, conf.Get("processors::probabilistic_sampler/edge_profile-edge::sampling_percentage"), 0)
	assert.False(t, conf.IsSet("processors::probabilistic_sampler/edge_profile-cloud"))

	edge := "exporters::otlp_http/edge_profile-edge::"
	assert.Equal(t, "http://127.0.0.1:5555", conf.Get(edge+"endpoint"))
	assert.Equal(t, "gzip", conf.Get(edge+"compression"))
	assert.Equal(t, 32, conf.Get(edge+"sending_queue::batch::min_size"))
	assert.Equal(t, 4096, conf.Get(edge+"sending_queue::batch::max_size"), "32 makes a request leave; only above 4096 is one split")
	assert.Equal(t, "5s", conf.Get(edge+"sending_queue::batch::flush_timeout"))
	assert.Equal(t, "file_storage/edge_profile-edge", conf.Get(edge+"sending_queue::storage"))
	assert.Equal(t, "0s", conf.Get(edge+"retry_on_failure::max_elapsed_time"))
	assert.Equal(t, "k", conf.Get(edge+"headers::x-api-key"))

	cloud := "exporters::otlp_grpc/edge_profile-cloud::"
	assert.Equal(t, "none", conf.Get(cloud+"compression"), "otlp_grpc gzips by default, cloud must say none")
	assert.Equal(t, 512, conf.Get(cloud+"sending_queue::batch::min_size"))
	assert.Equal(t, 4096, conf.Get(cloud+"sending_queue::batch::max_size"))
	assert.Equal(t, "30s", conf.Get(cloud+"sending_queue::batch::flush_timeout"))
	assert.Equal(t, true, conf.Get(cloud+"tls::insecure"), "http:// means plaintext")
	assert.Equal(t, "file_storage/edge_profile-cloud", conf.Get(cloud+"sending_queue::storage"), "every preset queues on disk")
	assert.Equal(t, "0s", conf.Get(cloud+"retry_on_failure::max_elapsed_time"), "and retries without end")
	assert.Equal(t, "0s", conf.Get("exporters::otlp_grpc/edge_profile-hybrid::retry_on_failure::max_elapsed_time"))
	assert.Equal(t, 256, conf.Get("exporters::otlp_grpc/edge_profile-hybrid::sending_queue::batch::min_size"))

	assert.Equal(t, "/var/tmp/ep/queue/edge_profile-edge", conf.Get("extensions::file_storage/edge_profile-edge::directory"))
	assert.Equal(t, "/var/tmp/ep/queue/edge_profile-cloud", conf.Get("extensions::file_storage/edge_profile-cloud::directory"))
	assert.Equal(t, []any{"health_check", "edge_profile", "file_storage/edge_profile-cloud", "file_storage/edge_profile-edge", "file_storage/edge_profile-hybrid"}, conf.Get("service::extensions"))
	assert.Equal(t, "edge_profile", conf.Get("connectors::edge_profile::extension"))
	assert.Equal(t, []any{"cloud", "edge", "hybrid"}, conf.Get("connectors::edge_profile::presets"))
}

func TestExpandWithoutBackendUsesDebug(t *testing.T) {
	conf := userConf(map[string]any{"profile": "cloud"})
	_, err := ExpandConfig(conf)
	require.NoError(t, err)
	assert.Equal(t, []any{"debug/edge_profile-edge"}, conf.Get("service::pipelines::traces/edge_profile-edge::exporters"))
	assert.Equal(t, 512, conf.Get("exporters::debug/edge_profile-cloud::sending_queue::batch::min_size"))
	assert.False(t, conf.IsSet("extensions::file_storage/edge_profile-edge"), "no persistent queue without a backend")
	assert.False(t, conf.IsSet("exporters::debug/edge_profile-edge::retry_on_failure"), "debug does not retry")
	assert.Equal(t, []any{"health_check", "edge_profile"}, conf.Get("service::extensions"))
}

func TestExpandOverridesWin(t *testing.T) {
	conf := userConf(map[string]any{
		"profile":  "edge",
		"endpoint": "otlp.example.com",
		"presets": map[string]any{
			"edge": map[string]any{
				"batch_size": 64,
				"exporter": map[string]any{
					"timeout":          "3s",
					"retry_on_failure": map[string]any{"max_interval": "2s"},
				},
			},
			"tiny": map[string]any{"base": "edge", "sampling_percentage": 1, "compression": "zstd"},
		},
	})
	_, err := ExpandConfig(conf)
	require.NoError(t, err)
	edge := "exporters::otlp_http/edge_profile-edge::"
	assert.Equal(t, 64, conf.Get(edge+"sending_queue::batch::min_size"))
	assert.Equal(t, "3s", conf.Get(edge+"timeout"))
	assert.Equal(t, "2s", conf.Get(edge+"retry_on_failure::max_interval"), "explicit setting wins")
	assert.Equal(t, "0s", conf.Get(edge+"retry_on_failure::max_elapsed_time"), "the rest of the preset stays")
	tiny := "exporters::otlp_http/edge_profile-tiny::"
	assert.Equal(t, "zstd", conf.Get(tiny+"compression"))
	assert.Equal(t, 64, conf.Get(tiny+"sending_queue::batch::min_size"), "based on the overridden edge")
	assert.InDelta(t, 1.0, conf.Get("processors::probabilistic_sampler/edge_profile-tiny::sampling_percentage"), 0)
}

func TestExpandErrors(t *testing.T) {
	// A generated name already taken by the user.
	conf := userConf(map[string]any{"profile": "edge"})
	require.NoError(t, conf.Merge(confmap.NewFromStringMap(map[string]any{
		"exporters": map[string]any{"debug/edge_profile-edge": map[string]any{}},
	})))
	_, err := ExpandConfig(conf)
	require.ErrorContains(t, err, "exporters::debug/edge_profile-edge: already defined")

	// Invalid extension configuration is reported with the component and the field.
	_, err = ExpandConfig(userConf(map[string]any{"profile": "satellite"}))
	require.ErrorContains(t, err, `extensions::edge_profile: profile: unknown profile "satellite"`)

	// A pipeline exporting to edge_profile without the extension enabled.
	conf = confmap.NewFromStringMap(map[string]any{
		"service": map[string]any{
			"extensions": []any{"edge_profile/other"},
			"pipelines":  map[string]any{"traces": map[string]any{"exporters": []any{"edge_profile"}}},
		},
		"extensions": map[string]any{"edge_profile/other": map[string]any{"profile": "edge"}},
	})
	_, err = ExpandConfig(conf)
	require.ErrorContains(t, err, `exports to "edge_profile" but the edge_profile extension "edge_profile" is not configured`)
}

func TestExpandNoEdgeProfileIsNoop(t *testing.T) {
	in := map[string]any{
		"service": map[string]any{"pipelines": map[string]any{"traces": map[string]any{"exporters": []any{"debug"}}}},
	}
	conf := confmap.NewFromStringMap(in)
	ids, err := ExpandConfig(conf)
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.Equal(t, in, conf.ToStringMap())
}

func TestExpandIsIdempotent(t *testing.T) {
	conf := userConf(map[string]any{"profile": "edge", "endpoint": "otlp.example.com"})
	_, err := ExpandConfig(conf)
	require.NoError(t, err)
	once := conf.ToStringMap()
	again := confmap.NewFromStringMap(once)
	_, err = ExpandConfig(again)
	require.NoError(t, err)
	assert.Equal(t, once, again.ToStringMap())
}
