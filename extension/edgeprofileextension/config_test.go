package edgeprofileextension

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
		{id: component.NewID(Type), check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, ProfileEdge, cfg.Profile, "explicit default: auto only when asked for")
			assert.Equal(t, DefaultControlEndpoint, cfg.Control.NetAddr.Endpoint)
			assert.False(t, cfg.HasBackend())
		}},
		{id: component.NewIDWithName(Type, "edge"), check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, ProfileEdge, cfg.Profile)
			assert.Equal(t, "https://otlp.example.com:4318", cfg.BackendEndpoint(ProtocolHTTP))
			assert.Equal(t, "otlp.example.com:4317", cfg.BackendEndpoint(ProtocolGRPC))
		}},
		{
			id: component.NewIDWithName(Type, "custom"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "tiny", cfg.Profile)
				presets, err := cfg.ResolvePresets()
				require.NoError(t, err)
				tiny := presets["tiny"]
				assert.Equal(t, 8, tiny.BatchSize)
				assert.InDelta(t, 1.0, tiny.SamplingPercentage, 0)
				assert.Equal(t, ProtocolHTTP, tiny.Protocol, "inherited from its base")
				assert.Equal(t, 2*time.Second, tiny.FlushInterval, "inherited from the overridden edge")
				assert.Equal(t, 2*time.Second, presets[ProfileEdge].FlushInterval)
				assert.Equal(t, 32, presets[ProfileEdge].BatchSize, "fields not overridden keep the built-in value")
			},
		},
		{id: component.NewIDWithName(Type, "batch_cap"), check: func(t *testing.T, cfg *Config) {
			presets, err := cfg.ResolvePresets()
			require.NoError(t, err)
			assert.Equal(t, 10000, presets[ProfileCloud].MaxBatchSize, "a batch_size above the inherited cap raises it")
			assert.Equal(t, 0, presets[ProfileEdge].MaxBatchSize, "0: never split")
			assert.Equal(t, 32, presets[ProfileEdge].BatchSize)
			assert.Equal(t, 512, presets["bulk"].MaxBatchSize)
			assert.Equal(t, 256, presets["bulk"].BatchSize, "from hybrid")
			assert.Equal(t, defaultMaxBatchSize, presets[ProfileHybrid].MaxBatchSize)
		}},
		{id: component.NewIDWithName(Type, "bad_batch_cap"), wantErr: "presets.edge.max_batch_size: 16 is below batch_size 64"},
		{id: component.NewIDWithName(Type, "batch_cap_conflict"), wantErr: "presets.edge.exporter.sending_queue.batch.max_size: conflicts with presets.edge.max_batch_size"},
		{id: component.NewIDWithName(Type, "unknown"), wantErr: `profile: unknown profile "satellite"`},
		{id: component.NewIDWithName(Type, "bad_sampling"), wantErr: "presets.edge.sampling_percentage"},
		{id: component.NewIDWithName(Type, "bad_compression"), wantErr: `presets.cloud.compression: "lz4" is not supported by otlp_grpc`},
		{id: component.NewIDWithName(Type, "conflict"), wantErr: "presets.edge.exporter.compression: conflicts with presets.edge.compression"},
		{id: component.NewIDWithName(Type, "open_control"), wantErr: "control.endpoint: \"0.0.0.0:13134\" is reachable from other hosts; set control.bearer_token"},
		{id: component.NewIDWithName(Type, "open_control_token"), check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, "s3cret", string(cfg.Control.BearerToken))
		}},
		{id: component.NewIDWithName(Type, "missing_grpc"), wantErr: `endpoints.otlp_grpc: preset "cloud" exports over otlp_grpc but no endpoint is set`},
		{id: component.NewIDWithName(Type, "cycle"), wantErr: "cycle"},
		{id: component.NewIDWithName(Type, "shared"), check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, "https://otlp.example.com:4318", cfg.BackendEndpoint(ProtocolHTTP), "4317 is gRPC's: OTLP/HTTP goes to 4318")
			assert.Equal(t, "10s", cfg.Exporter["timeout"])
			presets, err := cfg.ResolvePresets()
			require.NoError(t, err)
			assert.Equal(t, LogsSampling{Enabled: true, AttributeSource: LogsSourceTraceID, FromAttribute: "log.record.uid"}, presets[ProfileEdge].LogsSampling)
			assert.Equal(t, defaultLogsSampling, presets[ProfileCloud].LogsSampling)
			for _, name := range builtinProfiles() {
				assert.True(t, presets[name].Persistent, name)
			}
		}},
		{id: component.NewIDWithName(Type, "bad_logs"), wantErr: "presets.cloud.logs_sampling.from_attribute: attribute_source: record needs"},
		{id: component.NewIDWithName(Type, "control_auth"), check: func(t *testing.T, cfg *Config) {
			c := cfg.Control
			require.True(t, c.Auth.HasValue())
			assert.Equal(t, "bearertokenauth/control", c.Auth.Get().Config.AuthenticatorID.String())
			assert.Equal(t, 3*time.Second, c.ReadTimeout)
			assert.Equal(t, 4*time.Second, c.WriteTimeout)
			assert.Equal(t, controlReadHeaderTimeout, c.ReadHeaderTimeout, "defaults stay for what is not set")
			require.True(t, c.Keepalive.HasValue())
			assert.Equal(t, 9*time.Second, c.Keepalive.Get().IdleTimeout)
			require.True(t, c.TLS.HasValue())
			assert.Equal(t, "/etc/otelcol-virt/tls/control.crt", c.TLS.Get().CertFile)
			assert.Equal(t, []string{"collector.example.internal"}, c.AllowedHosts)
		}},
		{id: component.NewIDWithName(Type, "control_cors"), wantErr: "control.cors: the control API never answers cross-origin requests"},
		{id: component.NewIDWithName(Type, "opamp"), check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, "wss://opamp.example.com/v1/opamp", cfg.OpAMP.Endpoint)
			assert.Equal(t, "Bearer fleet-key", string(cfg.OpAMP.Headers["Authorization"]))
			assert.Equal(t, "/etc/otelcol-virt/tls/opamp-ca.pem", cfg.OpAMP.TLS.CAFile)
		}},
		{id: component.NewIDWithName(Type, "opamp_bad"), wantErr: `opamp.endpoint: scheme "grpc" is not supported`},
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

func TestBackendEndpoint(t *testing.T) {
	for _, tt := range []struct {
		endpoint, http, grpc string
	}{
		{"otlp.example.com", "https://otlp.example.com:4318", "otlp.example.com:4317"},
		{"otlp.example.com:443", "https://otlp.example.com:443", "otlp.example.com:443"},
		{"http://127.0.0.1:5555", "http://127.0.0.1:5555", "http://127.0.0.1:5555"},
		{"https://otlp.example.com", "https://otlp.example.com:4318", "https://otlp.example.com:4317"},
		{"[::1]", "https://[::1]:4318", "[::1]:4317"},
	} {
		cfg := &Config{Endpoint: tt.endpoint}
		assert.Equal(t, tt.http, cfg.BackendEndpoint(ProtocolHTTP), tt.endpoint)
		assert.Equal(t, tt.grpc, cfg.BackendEndpoint(ProtocolGRPC), tt.endpoint)
	}
	cfg := &Config{Endpoint: "otlp.example.com", Endpoints: EndpointsConfig{OTLPGRPC: "grpc.example.com:9000"}}
	assert.Equal(t, "grpc.example.com:9000", cfg.BackendEndpoint(ProtocolGRPC), "endpoints win over endpoint")
	assert.Equal(t, "https://otlp.example.com:4318", cfg.BackendEndpoint(ProtocolHTTP))
	assert.Equal(t, "127.0.0.1:5555", DialAddress("http://127.0.0.1:5555/v1", "4318"))
}
