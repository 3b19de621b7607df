package edgeprofileextension

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
)

// Built-in profile names; ProfileAuto lets the extension pick one from the environment.
const (
	ProfileEdge   = "edge"
	ProfileCloud  = "cloud"
	ProfileHybrid = "hybrid"
	ProfileAuto   = "auto"
)

// Export protocols a preset can use; the names are the stock exporter types.
const (
	ProtocolHTTP = "otlp_http"
	ProtocolGRPC = "otlp_grpc"
)

// DefaultControlEndpoint is where the control and status API listens unless configured.
const DefaultControlEndpoint = "localhost:13134"

// Config is the edge_profile extension configuration.
type Config struct {
	// Profile is the preset applied at start: edge, cloud, hybrid, auto or a user-defined one.
	Profile string `mapstructure:"profile"`
	// Presets defines extra presets, or overrides fields of the built-in ones.
	Presets map[string]PresetConfig `mapstructure:"presets"`

	// Endpoint is the OTLP backend. Without a port the standard ports are used (4317 for
	// OTLP/gRPC, 4318 for OTLP/HTTP); an http:// scheme means plaintext. Empty: no backend,
	// every preset exports to the debug exporter.
	Endpoint string `mapstructure:"endpoint"`
	// Endpoints set the backend per protocol; they win over Endpoint.
	Endpoints EndpointsConfig `mapstructure:"endpoints"`
	// Headers are sent with every export request (API keys and the like).
	Headers map[string]configopaque.String `mapstructure:"headers"`
	// Exporter is merged over every preset's generated exporter (tls, auth, headers, timeout,
	// compression, ...): one place for what a real backend needs. A preset's own exporter block
	// wins over it.
	Exporter map[string]any `mapstructure:"exporter"`

	// StorageDirectory holds the persisted active profile and the persistent export queues.
	StorageDirectory string `mapstructure:"storage_directory"`
	// Control is the local HTTP API to read and set the active profile.
	Control ControlConfig `mapstructure:"control"`
	// WatchFile, when set, is a file whose content (a profile name) sets the active profile.
	WatchFile string `mapstructure:"watch_file"`
	// Auto tunes automatic selection (profile: auto).
	Auto AutoConfig `mapstructure:"auto"`
	// OpAMP, when its endpoint is set, connects the extension to an OpAMP server (opamp.go).
	OpAMP OpAMPConfig `mapstructure:"opamp"`
	// ReleaseStartupMemory, once the pipelines are ready, returns the heap start-up left free
	// and the executable's start-up code pages (footprint.go).
	ReleaseStartupMemory bool `mapstructure:"release_startup_memory"`

	_ struct{}
}

// EndpointsConfig is the backend per export protocol.
type EndpointsConfig struct {
	OTLPHTTP string `mapstructure:"otlp_http"`
	OTLPGRPC string `mapstructure:"otlp_grpc"`

	_ struct{}
}

// AutoConfig tunes automatic selection.
type AutoConfig struct {
	// Interval between two evaluations of the environment.
	Interval time.Duration `mapstructure:"interval"`
	// Confirmations is how many evaluations in a row must agree before a switch.
	Confirmations int `mapstructure:"confirmations"`
	// MinDwell is the least time a profile stays active before auto mode may switch again.
	MinDwell time.Duration `mapstructure:"min_dwell"`
	// Metered forces the uplink to be treated as metered (true) or not (false); unset: detect.
	Metered *bool `mapstructure:"metered"`

	_ struct{}
}

// PresetConfig is one set of export settings. In presets of the configuration every field is
// optional: unset fields come from the preset named by Base (or the built-in of the same name).
type PresetConfig struct {
	// Base is the preset this one starts from; user presets default to cloud.
	Base string `mapstructure:"base"`
	// BatchSize is how many spans, data points or log records make a request leave at once
	// (fewer leave after FlushInterval).
	BatchSize *int `mapstructure:"batch_size"`
	// MaxBatchSize is the most items in one request: larger ones are split; 0 never splits.
	MaxBatchSize *int `mapstructure:"max_batch_size"`
	// FlushInterval is the longest a partial batch waits before it is sent.
	FlushInterval *time.Duration `mapstructure:"flush_interval"`
	// Protocol is otlp_http or otlp_grpc.
	Protocol *string `mapstructure:"protocol"`
	// Compression is none, gzip, zstd, snappy (both protocols) or zlib, deflate, lz4 (HTTP only).
	Compression *string `mapstructure:"compression"`
	// SamplingPercentage is the share of traces and logs kept (consistent, proportional mode).
	SamplingPercentage *float64 `mapstructure:"sampling_percentage"`
	// Persistent keeps the export queue on disk and retries without ever giving up.
	Persistent *bool `mapstructure:"persistent"`
	// QueueSize is the export queue capacity in items.
	QueueSize *int `mapstructure:"queue_size"`
	// LogsSampling says how the sampler decides for log records (see LogsSamplingConfig).
	LogsSampling LogsSamplingConfig `mapstructure:"logs_sampling"`
	// Exporter is merged over the generated exporter configuration and the shared exporter
	// block: any stock setting (timeout, tls, retry_on_failure, ...) set here wins. A preset
	// based on another inherits its exporter block.
	Exporter map[string]any `mapstructure:"exporter"`

	_ struct{}
}

// Where the logs sampler takes a record's randomness from; the names are the stock sampler's.
const (
	LogsSourceTraceID = "traceID"
	LogsSourceRecord  = "record"
)

// LogsSamplingConfig is the probabilistic_sampler's logs settings for a preset. Unset fields
// come from the base preset; the built-ins sample a record by its trace id and keep records
// that have none.
type LogsSamplingConfig struct {
	// Enabled false keeps every log record (no sampler in the logs pipeline).
	Enabled *bool `mapstructure:"enabled"`
	// AttributeSource is traceID (the trace id, else FromAttribute) or record (FromAttribute only).
	AttributeSource *string `mapstructure:"attribute_source"`
	// FromAttribute is a log record attribute hashed when the trace id is absent (or always,
	// with attribute_source: record). Setting it switches the logs sampler to hash_seed mode.
	FromAttribute *string `mapstructure:"from_attribute"`
	// FailClosed drops records the sampler finds no randomness in; false keeps them.
	FailClosed *bool `mapstructure:"fail_closed"`

	_ struct{}
}

func builtinProfiles() []string { return []string{ProfileEdge, ProfileCloud, ProfileHybrid} }

// Validate checks the configuration and names the offending field in every error.
func (cfg *Config) Validate() error {
	var errs []error
	if _, err := cfg.ResolvePresets(); err != nil {
		errs = append(errs, err)
	}
	known := map[string]bool{ProfileAuto: true}
	for _, p := range builtinProfiles() {
		known[p] = true
	}
	for name := range cfg.Presets {
		known[name] = true
	}
	if !known[cfg.Profile] {
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		errs = append(errs, fmt.Errorf("profile: unknown profile %q; use one of %s, or define it under presets", cfg.Profile, strings.Join(names, ", ")))
	}
	if _, ok := cfg.Exporter["endpoint"]; ok {
		errs = append(errs, errors.New("exporter.endpoint: the shared exporter block serves both protocols; set the backend with endpoint, or endpoints.otlp_http and endpoints.otlp_grpc"))
	}
	if err := validateEndpoint("endpoint", cfg.Endpoint); err != nil {
		errs = append(errs, err)
	}
	if err := validateEndpoint("endpoints.otlp_http", cfg.Endpoints.OTLPHTTP); err != nil {
		errs = append(errs, err)
	}
	if err := validateEndpoint("endpoints.otlp_grpc", cfg.Endpoints.OTLPGRPC); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.validateBackendCoverage(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Control.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.OpAMP.validate(); err != nil {
		errs = append(errs, err)
	}
	if cfg.Auto.Interval <= 0 {
		errs = append(errs, fmt.Errorf("auto.interval: must be positive, got %s; e.g. 30s", cfg.Auto.Interval))
	}
	if cfg.Auto.Confirmations < 1 {
		errs = append(errs, fmt.Errorf("auto.confirmations: must be at least 1, got %d", cfg.Auto.Confirmations))
	}
	if cfg.Auto.MinDwell < 0 {
		errs = append(errs, fmt.Errorf("auto.min_dwell: must not be negative, got %s", cfg.Auto.MinDwell))
	}
	return errors.Join(errs...)
}

// validateBackendCoverage checks that, once any backend is set, every preset's protocol has
// one: a preset silently printing to stdout after a switch would lose the data.
func (cfg *Config) validateBackendCoverage() error {
	if !cfg.HasBackend() {
		return nil
	}
	presets, err := cfg.ResolvePresets()
	if err != nil {
		return nil // reported by ResolvePresets
	}
	var errs []error
	for _, name := range sortedKeys(presets) {
		p := presets[name]
		if cfg.BackendEndpoint(p.Protocol) == "" {
			errs = append(errs, fmt.Errorf("endpoints.%s: preset %q exports over %s but no endpoint is set for it; set endpoint, or endpoints.%s", p.Protocol, name, p.Protocol, p.Protocol))
		}
	}
	return errors.Join(errs...)
}

func validateEndpoint(field, ep string) error {
	if ep == "" {
		return nil
	}
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s: %q is not a valid URL; use e.g. https://otlp.example.com or otlp.example.com:4317", field, ep)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("%s: scheme %q is not supported; use http:// (plaintext) or https://", field, u.Scheme)
		}
		return nil
	}
	if strings.ContainsAny(ep, " /") {
		return fmt.Errorf("%s: %q is not host[:port]; use e.g. otlp.example.com:4317", field, ep)
	}
	return nil
}

// HasBackend reports whether any export endpoint is configured.
func (cfg *Config) HasBackend() bool {
	return cfg.Endpoint != "" || cfg.Endpoints.OTLPHTTP != "" || cfg.Endpoints.OTLPGRPC != ""
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
