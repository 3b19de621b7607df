package edgeprofileextension

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// allSignalsConf is a user configuration whose traces, metrics and logs export to edge_profile.
func allSignalsConf(ext map[string]any) *confmap.Conf {
	pl := func() map[string]any {
		return map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"edge_profile"}}
	}
	return confmap.NewFromStringMap(map[string]any{
		"receivers":  map[string]any{"otlp": map[string]any{}},
		"extensions": map[string]any{"edge_profile": ext},
		"service": map[string]any{
			"extensions": []any{"edge_profile"},
			"pipelines":  map[string]any{"traces": pl(), "metrics": pl(), "logs": pl()},
		},
	})
}

func expand(t *testing.T, ext map[string]any) *confmap.Conf {
	t.Helper()
	conf := allSignalsConf(ext)
	_, err := ExpandConfig(conf)
	require.NoError(t, err)
	return conf
}

func expandErr(ext map[string]any) error {
	_, err := ExpandConfig(allSignalsConf(ext))
	return err
}

func TestSharedExporterBlockReachesEveryPreset(t *testing.T) {
	conf := expand(t, map[string]any{
		"profile":  "edge",
		"endpoint": "otlp.example.com",
		"exporter": map[string]any{
			"tls":     map[string]any{"ca_file": "/etc/ca.pem", "cert_file": "/etc/c.pem", "key_file": "/etc/k.pem"},
			"auth":    map[string]any{"authenticator": "bearertokenauth"},
			"headers": map[string]any{"x-tenant": "a"},
			"timeout": "7s",
		},
		"presets": map[string]any{
			"edge":      map[string]any{"exporter": map[string]any{"timeout": "3s", "headers": map[string]any{"x-site": "b"}}},
			"satellite": map[string]any{"base": "edge", "sampling_percentage": 1},
		},
	})
	for _, exp := range []string{"otlp_http/edge_profile-edge", "otlp_grpc/edge_profile-cloud", "otlp_grpc/edge_profile-hybrid", "otlp_http/edge_profile-satellite"} {
		pre := "exporters::" + exp + "::"
		assert.Equal(t, "/etc/ca.pem", conf.Get(pre+"tls::ca_file"), exp)
		assert.Equal(t, "/etc/k.pem", conf.Get(pre+"tls::key_file"), exp)
		assert.Equal(t, "bearertokenauth", conf.Get(pre+"auth::authenticator"), exp)
		assert.Equal(t, "a", conf.Get(pre+"headers::x-tenant"), exp)
	}
	assert.Equal(t, "7s", conf.Get("exporters::otlp_grpc/edge_profile-cloud::timeout"), "shared block")
	assert.Equal(t, "3s", conf.Get("exporters::otlp_http/edge_profile-edge::timeout"), "the preset's block wins")
	assert.Equal(t, "3s", conf.Get("exporters::otlp_http/edge_profile-satellite::timeout"), "inherited from the base preset's block")
	assert.Equal(t, "b", conf.Get("exporters::otlp_http/edge_profile-satellite::headers::x-site"))
	assert.False(t, conf.IsSet("exporters::otlp_grpc/edge_profile-cloud::headers::x-site"), "a preset's block stays its own")
	// The generated settings the shared block does not name stay.
	assert.Equal(t, "gzip", conf.Get("exporters::otlp_http/edge_profile-edge::compression"))
	assert.Equal(t, "0s", conf.Get("exporters::otlp_grpc/edge_profile-cloud::retry_on_failure::max_elapsed_time"))
}

func TestSharedCompression(t *testing.T) {
	conf := expand(t, map[string]any{
		"endpoint": "otlp.example.com",
		"exporter": map[string]any{"compression": "zstd"},
		"presets":  map[string]any{"hybrid": map[string]any{"compression": "snappy"}},
	})
	assert.Equal(t, "zstd", conf.Get("exporters::otlp_http/edge_profile-edge::compression"), "the shared block wins over a preset's default")
	assert.Equal(t, "zstd", conf.Get("exporters::otlp_grpc/edge_profile-cloud::compression"))
	assert.Equal(t, "snappy", conf.Get("exporters::otlp_grpc/edge_profile-hybrid::compression"), "a preset's own setting wins over the shared block")

	err := expandErr(map[string]any{"endpoint": "otlp.example.com", "exporter": map[string]any{"compression": "lz4"}})
	require.ErrorContains(t, err, `exporter.compression: "lz4" is not supported by otlp_grpc (preset "cloud")`)
	err = expandErr(map[string]any{"endpoint": "otlp.example.com", "exporter": map[string]any{"endpoint": "x:4317"}})
	require.ErrorContains(t, err, "exporter.endpoint: the shared exporter block serves both protocols")
}

func TestPortRule(t *testing.T) {
	for _, tt := range []struct{ endpoint, http, grpc string }{
		{"otlp.example.com:4317", "https://otlp.example.com:4318", "otlp.example.com:4317"},
		{"https://otlp.example.com:4317", "https://otlp.example.com:4318", "https://otlp.example.com:4317"},
		{"http://10.0.0.1:4318/", "http://10.0.0.1:4318/", "http://10.0.0.1:4317/"},
		{"[::1]:4317", "https://[::1]:4318", "[::1]:4317"},
		{"otlp.example.com:443", "https://otlp.example.com:443", "otlp.example.com:443"},
	} {
		cfg := &Config{Endpoint: tt.endpoint}
		assert.Equal(t, tt.http, cfg.BackendEndpoint(ProtocolHTTP), tt.endpoint)
		assert.Equal(t, tt.grpc, cfg.BackendEndpoint(ProtocolGRPC), tt.endpoint)
	}
	cfg := &Config{Endpoints: EndpointsConfig{OTLPHTTP: "https://gw.example.com:4317"}}
	assert.Equal(t, "https://gw.example.com:4317", cfg.BackendEndpoint(ProtocolHTTP), "endpoints.otlp_http says so on purpose")

	err := expandErr(map[string]any{
		"endpoint": "otlp.example.com",
		"presets":  map[string]any{"edge": map[string]any{"exporter": map[string]any{"endpoint": "https://other.example.com:4317"}}},
	})
	require.ErrorContains(t, err, `presets.edge.exporter.endpoint: "https://other.example.com:4317" is the standard port of the other OTLP protocol, but this preset exports over otlp_http`)
	require.NoError(t, expandErr(map[string]any{
		"endpoint": "otlp.example.com",
		"presets":  map[string]any{"cloud": map[string]any{"exporter": map[string]any{"endpoint": "other.example.com:4317"}}},
	}))
}

func TestLogsSamplerConfig(t *testing.T) {
	conf := expand(t, map[string]any{
		"endpoint": "otlp.example.com",
		"presets": map[string]any{
			"byid":  map[string]any{"base": "edge", "logs_sampling": map[string]any{"from_attribute": "log.record.uid"}},
			"child": map[string]any{"base": "byid", "logs_sampling": map[string]any{"fail_closed": true}},
			"rec":   map[string]any{"base": "edge", "logs_sampling": map[string]any{"attribute_source": "record", "from_attribute": "host.name"}},
			"keep":  map[string]any{"base": "edge", "logs_sampling": map[string]any{"enabled": false}},
		},
	})
	edge := "processors::probabilistic_sampler/edge_profile-edge-logs::"
	assert.Equal(t, "proportional", conf.Get(edge+"mode"), "by trace id, as the record's trace is")
	assert.Equal(t, false, conf.Get(edge+"fail_closed"), "records without a trace id are kept")
	assert.InDelta(t, 10.0, conf.Get(edge+"sampling_percentage"), 0)
	assert.False(t, conf.IsSet(edge+"from_attribute"))
	assert.Equal(t, []any{"probabilistic_sampler/edge_profile-edge-logs"}, conf.Get("service::pipelines::logs/edge_profile-edge::processors"))
	assert.Equal(t, []any{"probabilistic_sampler/edge_profile-edge"}, conf.Get("service::pipelines::traces/edge_profile-edge::processors"))
	assert.False(t, conf.IsSet("processors::probabilistic_sampler/edge_profile-edge::fail_closed"), "traces keep the stock settings")

	byid := "processors::probabilistic_sampler/edge_profile-byid-logs::"
	assert.Equal(t, "hash_seed", conf.Get(byid+"mode"), "from_attribute is only read in hash_seed mode")
	assert.Equal(t, "traceID", conf.Get(byid+"attribute_source"))
	assert.Equal(t, "log.record.uid", conf.Get(byid+"from_attribute"))
	child := "processors::probabilistic_sampler/edge_profile-child-logs::"
	assert.Equal(t, "log.record.uid", conf.Get(child+"from_attribute"), "inherited from the base")
	assert.Equal(t, true, conf.Get(child+"fail_closed"))
	assert.Equal(t, "record", conf.Get("processors::probabilistic_sampler/edge_profile-rec-logs::attribute_source"))

	assert.False(t, conf.IsSet("processors::probabilistic_sampler/edge_profile-keep-logs"))
	assert.Equal(t, []any{}, conf.Get("service::pipelines::logs/edge_profile-keep::processors"), "every log kept")
	assert.False(t, conf.IsSet("processors::probabilistic_sampler/edge_profile-cloud-logs"), "100 %: no sampler")

	require.ErrorContains(t, expandErr(map[string]any{"presets": map[string]any{"edge": map[string]any{"logs_sampling": map[string]any{"attribute_source": "record"}}}}),
		"presets.edge.logs_sampling.from_attribute: attribute_source: record needs the name of a log record attribute")
	require.ErrorContains(t, expandErr(map[string]any{"presets": map[string]any{"edge": map[string]any{"logs_sampling": map[string]any{"attribute_source": "span"}}}}),
		`presets.edge.logs_sampling.attribute_source: unknown source "span"; use traceID or record`)
}

// TestStorageIDIsStablePerPreset: the storage a preset's queue lives in does not depend on its
// protocol or endpoint, only on the preset.
func TestStorageIDIsStablePerPreset(t *testing.T) {
	before := expand(t, map[string]any{"endpoint": "a.example.com", "storage_directory": "/s"})
	after := expand(t, map[string]any{
		"endpoints":         map[string]any{"otlp_grpc": "b.example.com:9000", "otlp_http": "https://c.example.com"},
		"storage_directory": "/s",
		"presets":           map[string]any{"edge": map[string]any{"protocol": "otlp_grpc"}, "cloud": map[string]any{"protocol": "otlp_http"}},
	})
	for _, tt := range []struct{ preset, before, after string }{
		{"edge", "otlp_http/edge_profile-edge", "otlp_grpc/edge_profile-edge"},
		{"cloud", "otlp_grpc/edge_profile-cloud", "otlp_http/edge_profile-cloud"},
	} {
		storage := "file_storage/edge_profile-" + tt.preset
		assert.Equal(t, storage, before.Get("exporters::"+tt.before+"::sending_queue::storage"))
		assert.Equal(t, storage, after.Get("exporters::"+tt.after+"::sending_queue::storage"))
		assert.Equal(t, before.Get("extensions::"+storage+"::directory"), after.Get("extensions::"+storage+"::directory"))
		assert.Equal(t, "/s/queue/edge_profile-"+tt.preset, after.Get("extensions::"+storage+"::directory"))
	}
}

func TestMigrateQueues(t *testing.T) {
	state := t.TempDir()
	names := Names{Extension: component.NewID(Type)}
	legacy := filepath.Join(state, "queue")
	presetDir := names.QueueDirectory(state, "edge")
	require.NoError(t, os.MkdirAll(presetDir, 0o700))
	write := func(path, content string) { require.NoError(t, os.WriteFile(path, []byte(content), 0o600)) }
	// traces: queued by otlp_http in the preset's directory; logs: by the one-directory layout.
	write(filepath.Join(presetDir, "exporter_otlp_http_edge_profile-edge_traces"), "t")
	write(filepath.Join(legacy, "exporter_otlp_http_edge_profile-edge_logs"), "l")
	// metrics: both the old and the current exporter hold a queue: never merged.
	write(filepath.Join(presetDir, "exporter_otlp_http_edge_profile-edge_metrics"), "old")
	write(filepath.Join(presetDir, "exporter_otlp_grpc_edge_profile-edge_metrics"), "new")
	// Another preset's file is not touched.
	write(filepath.Join(legacy, "exporter_otlp_http_edge_profile-cloud_traces"), "c")

	moved, err := migratePresetQueue(state, names, "edge", ProtocolGRPC)
	require.ErrorContains(t, err, "exporter_otlp_grpc_edge_profile-edge_metrics already exists")
	assert.Len(t, moved, 2)
	read := func(path string) string {
		raw, err := os.ReadFile(path)
		if err != nil {
			return ""
		}
		return string(raw)
	}
	assert.Equal(t, "t", read(filepath.Join(presetDir, "exporter_otlp_grpc_edge_profile-edge_traces")))
	assert.Equal(t, "l", read(filepath.Join(presetDir, "exporter_otlp_grpc_edge_profile-edge_logs")))
	assert.Empty(t, read(filepath.Join(presetDir, "exporter_otlp_http_edge_profile-edge_traces")))
	assert.Equal(t, "old", read(filepath.Join(presetDir, "exporter_otlp_http_edge_profile-edge_metrics")))
	assert.Equal(t, "new", read(filepath.Join(presetDir, "exporter_otlp_grpc_edge_profile-edge_metrics")))
	assert.Equal(t, "c", read(filepath.Join(legacy, "exporter_otlp_http_edge_profile-cloud_traces")))

	again, err := migratePresetQueue(state, names, "edge", ProtocolGRPC)
	assert.Empty(t, again, "nothing left to move")
	require.Error(t, err, "the conflict is reported again, not resolved by guessing")
}
