package edgeprofileextension

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"
)

// Preset is a fully resolved set of export settings.
type Preset struct {
	Name               string        `json:"name"`
	BatchSize          int           `json:"batch_size"`
	MaxBatchSize       int           `json:"max_batch_size"`
	FlushInterval      time.Duration `json:"-"`
	Protocol           string        `json:"protocol"`
	Compression        string        `json:"compression"`
	SamplingPercentage float64       `json:"sampling_percentage"`
	Persistent         bool          `json:"persistent"`
	QueueSize          int           `json:"queue_size"`
	LogsSampling       LogsSampling  `json:"logs_sampling"`
	// Exporter is the preset's own exporter block merged over its base's: what wins over the
	// shared exporter block.
	Exporter map[string]any `json:"-"`
	// compressionSet: compression was set on this preset or a base, so the shared exporter
	// block's compression does not apply to it (the more specific setting wins).
	compressionSet bool
}

// LogsSampling is the resolved logs sampling of a preset.
type LogsSampling struct {
	Enabled         bool   `json:"enabled"`
	AttributeSource string `json:"attribute_source"`
	FromAttribute   string `json:"from_attribute,omitempty"`
	FailClosed      bool   `json:"fail_closed"`
}

// defaultLogsSampling samples a record by its trace id and keeps the ones without: most logs
// carry no trace id, and a sampler that fails closed would drop them all.
var defaultLogsSampling = LogsSampling{Enabled: true, AttributeSource: LogsSourceTraceID}

// Builtin returns the built-in presets (seed table: edge 32 / 5 s / OTLP-HTTP / gzip / 10 %,
// cloud 512 / 30 s / OTLP-gRPC / none / 100 %, hybrid 256 / 15 s with cloud's transport). All
// three keep their queue on disk: a preset may be switched away from, or the process killed,
// while its queue still holds what it accepted.
//
// The batch size is when a request leaves (the stock batch processor's send_batch_size), not a
// cap: one scrape of 50 instances is ~800 data points, and cut into requests of 32 it cost an
// edge box 25 gzip requests every 10 s, a third of its idle CPU (hack/idle). A request is split
// only above MaxBatchSize (defaultMaxBatchSize).
func Builtin() map[string]Preset {
	return map[string]Preset{
		ProfileEdge: {
			Name: ProfileEdge, BatchSize: 32, MaxBatchSize: defaultMaxBatchSize, FlushInterval: 5 * time.Second, Protocol: ProtocolHTTP,
			Compression: "gzip", SamplingPercentage: 10, Persistent: true, QueueSize: 200_000,
			LogsSampling: defaultLogsSampling,
		},
		ProfileCloud: {
			Name: ProfileCloud, BatchSize: 512, MaxBatchSize: defaultMaxBatchSize, FlushInterval: 30 * time.Second, Protocol: ProtocolGRPC,
			Compression: "none", SamplingPercentage: 100, Persistent: true, QueueSize: 200_000,
			LogsSampling: defaultLogsSampling,
		},
		ProfileHybrid: {
			Name: ProfileHybrid, BatchSize: 256, MaxBatchSize: defaultMaxBatchSize, FlushInterval: 15 * time.Second, Protocol: ProtocolGRPC,
			Compression: "none", SamplingPercentage: 100, Persistent: true, QueueSize: 200_000,
			LogsSampling: defaultLogsSampling,
		},
	}
}

// defaultMaxBatchSize is the most items in one export request: 4,096 spans of up to 1 KiB
// stay under the 4 MiB an OTLP/gRPC receiver accepts by default (configgrpc
// max_recv_msg_size_mib), and a scrape of ~250 instances leaves as one request.
const defaultMaxBatchSize = 4096

var compressionByProtocol = map[string]map[string]bool{
	ProtocolGRPC: {"none": true, "gzip": true, "zstd": true, "snappy": true},
	ProtocolHTTP: {"none": true, "gzip": true, "zstd": true, "snappy": true, "zlib": true, "deflate": true, "lz4": true},
}

// presetNameRegexp keeps preset names usable inside component and pipeline IDs.
var presetNameRegexp = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ResolvePresets applies the configured presets over the built-in ones: a field set in the
// configuration always wins over the preset it is based on.
func (cfg *Config) ResolvePresets() (map[string]Preset, error) {
	out := Builtin()
	var errs []error
	// Built-ins first so that user presets can be based on overridden built-ins.
	order := make([]string, 0, len(cfg.Presets))
	for _, name := range sortedKeys(cfg.Presets) {
		if _, ok := out[name]; ok {
			order = append([]string{name}, order...)
		} else {
			order = append(order, name)
		}
	}
	resolving := map[string]bool{}
	var resolve func(name string) error
	resolve = func(name string) error {
		pc, configured := cfg.Presets[name]
		if !configured {
			if _, ok := out[name]; ok {
				return nil
			}
			return fmt.Errorf("unknown preset %q", name)
		}
		if resolving[name] {
			return fmt.Errorf("presets.%s.base: presets are based on each other in a cycle; break the cycle", name)
		}
		resolving[name] = true
		defer delete(resolving, name)
		field := "presets." + name
		if name == ProfileAuto {
			return errors.New("presets.auto: \"auto\" is reserved for automatic selection; rename the preset")
		}
		if !presetNameRegexp.MatchString(name) {
			return fmt.Errorf("%s: preset names must be lower case letters, digits and _ (at most 32), starting with a letter; rename it", field)
		}
		base, builtin := Builtin()[name]
		if !builtin || pc.Base != "" {
			baseName := pc.Base
			if baseName == "" {
				baseName = ProfileCloud
			}
			if baseName == name {
				return fmt.Errorf("%s.base: a preset cannot be based on itself", field)
			}
			if _, ok := cfg.Presets[baseName]; ok {
				if err := resolve(baseName); err != nil {
					return err
				}
			}
			b, ok := out[baseName]
			if !ok {
				return fmt.Errorf("%s.base: unknown preset %q; use edge, cloud, hybrid or a preset defined under presets", field, baseName)
			}
			base = b
		} else {
			base = out[name] // built-in, possibly already overridden
		}
		p := base
		p.Name = name
		// The base's exporter block is inherited; this preset's own block wins over it.
		p.Exporter = deepMerge(deepCopy(base.Exporter), deepCopy(pc.Exporter))
		var perr []error
		if pc.BatchSize != nil {
			if *pc.BatchSize < 1 {
				perr = append(perr, fmt.Errorf("%s.batch_size: must be at least 1, got %d", field, *pc.BatchSize))
			}
			p.BatchSize = *pc.BatchSize
		}
		if pc.MaxBatchSize != nil {
			m := *pc.MaxBatchSize
			switch {
			case m < 0:
				perr = append(perr, fmt.Errorf("%s.max_batch_size: must be 0 (never split a request) or at least batch_size, got %d", field, m))
			case m > 0 && m < p.BatchSize:
				perr = append(perr, fmt.Errorf("%s.max_batch_size: %d is below batch_size %d; raise it, or set 0 to never split a request", field, m, p.BatchSize))
			}
			p.MaxBatchSize = m
		} else if p.MaxBatchSize > 0 && p.MaxBatchSize < p.BatchSize {
			// A larger batch_size alone raises the inherited cap with it.
			p.MaxBatchSize = p.BatchSize
		}
		if pc.FlushInterval != nil {
			if *pc.FlushInterval <= 0 {
				perr = append(perr, fmt.Errorf("%s.flush_interval: must be positive, got %s; e.g. 5s", field, *pc.FlushInterval))
			}
			p.FlushInterval = *pc.FlushInterval
		}
		if pc.Protocol != nil {
			if *pc.Protocol != ProtocolHTTP && *pc.Protocol != ProtocolGRPC {
				perr = append(perr, fmt.Errorf("%s.protocol: unknown protocol %q; use otlp_http or otlp_grpc", field, *pc.Protocol))
			}
			p.Protocol = *pc.Protocol
			// A protocol change without an explicit compression keeps the base's only if valid.
			if pc.Compression == nil && !compressionByProtocol[p.Protocol][p.Compression] {
				p.Compression = "none"
			}
		}
		if pc.Compression != nil {
			p.compressionSet = true
			p.Compression = *pc.Compression
			if p.Compression == "" {
				p.Compression = "none"
			}
		}
		if allowed, ok := compressionByProtocol[p.Protocol]; ok && !allowed[p.Compression] {
			perr = append(perr, fmt.Errorf("%s.compression: %q is not supported by %s; use one of %v", field, p.Compression, p.Protocol, sortedKeys(allowed)))
		}
		if pc.SamplingPercentage != nil {
			s := *pc.SamplingPercentage
			if math.IsNaN(s) || s <= 0 || s > 100 {
				perr = append(perr, fmt.Errorf("%s.sampling_percentage: must be within (0, 100], got %g", field, s))
			}
			p.SamplingPercentage = s
		}
		if pc.Persistent != nil {
			p.Persistent = *pc.Persistent
		}
		if pc.QueueSize != nil {
			if *pc.QueueSize < p.BatchSize {
				perr = append(perr, fmt.Errorf("%s.queue_size: must be at least batch_size (%d), got %d", field, p.BatchSize, *pc.QueueSize))
			}
			p.QueueSize = *pc.QueueSize
		}
		if p.QueueSize < p.BatchSize {
			p.QueueSize = p.BatchSize
		}
		if len(pc.Exporter) > 0 {
			perr = append(perr, exporterOverrideConflicts(field, pc)...)
		}
		if _, ok := p.Exporter["compression"]; ok {
			p.compressionSet = true
		}
		var lerr error
		p.LogsSampling, lerr = resolveLogsSampling(field+".logs_sampling", p.LogsSampling, pc.LogsSampling)
		if lerr != nil {
			perr = append(perr, lerr)
		}
		perr = append(perr, endpointPortConflict(field+".exporter.endpoint", p.Protocol, p.Exporter["endpoint"])...)
		if len(perr) > 0 {
			return errors.Join(perr...)
		}
		out[name] = p
		return nil
	}
	for _, name := range order {
		if err := resolve(name); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, cfg.applySharedCompression(out)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// exporterOverrideConflicts reports raw exporter settings that say the same thing as a preset
// field: two places for one setting would leave the reader guessing which wins.
func exporterOverrideConflicts(field string, pc PresetConfig) []error {
	var errs []error
	conflict := func(key, presetField string, set bool) {
		if _, ok := pc.Exporter[key]; ok && set {
			errs = append(errs, fmt.Errorf("%s.exporter.%s: conflicts with %s.%s; set only one of them", field, key, field, presetField))
		}
	}
	conflict("compression", "compression", pc.Compression != nil)
	if q, ok := pc.Exporter["sending_queue"].(map[string]any); ok {
		if b, ok := q["batch"].(map[string]any); ok {
			if _, ok := b["min_size"]; ok && pc.BatchSize != nil {
				errs = append(errs, fmt.Errorf("%s.exporter.sending_queue.batch.min_size: conflicts with %s.batch_size; set only one of them", field, field))
			}
			if _, ok := b["max_size"]; ok && pc.MaxBatchSize != nil {
				errs = append(errs, fmt.Errorf("%s.exporter.sending_queue.batch.max_size: conflicts with %s.max_batch_size; set only one of them", field, field))
			}
			if _, ok := b["flush_timeout"]; ok && pc.FlushInterval != nil {
				errs = append(errs, fmt.Errorf("%s.exporter.sending_queue.batch.flush_timeout: conflicts with %s.flush_interval; set only one of them", field, field))
			}
		}
		if _, ok := q["storage"]; ok && pc.Persistent != nil {
			errs = append(errs, fmt.Errorf("%s.exporter.sending_queue.storage: conflicts with %s.persistent; set only one of them", field, field))
		}
	}
	return errs
}

// resolveLogsSampling applies a preset's logs_sampling over its base's.
func resolveLogsSampling(field string, base LogsSampling, c LogsSamplingConfig) (LogsSampling, error) {
	out := base
	if c.Enabled != nil {
		out.Enabled = *c.Enabled
	}
	if c.AttributeSource != nil {
		out.AttributeSource = *c.AttributeSource
	}
	if c.FromAttribute != nil {
		out.FromAttribute = *c.FromAttribute
	}
	if c.FailClosed != nil {
		out.FailClosed = *c.FailClosed
	}
	switch {
	case out.AttributeSource != LogsSourceTraceID && out.AttributeSource != LogsSourceRecord:
		return out, fmt.Errorf("%s.attribute_source: unknown source %q; use traceID or record", field, out.AttributeSource)
	case out.AttributeSource == LogsSourceRecord && out.FromAttribute == "":
		return out, fmt.Errorf("%s.from_attribute: attribute_source: record needs the name of a log record attribute to sample by", field)
	}
	return out, nil
}

// endpointPortConflict refuses an explicit exporter endpoint that sends OTLP/HTTP to the
// standard gRPC port or the reverse: the request would fail on every retry and fill the queue.
func endpointPortConflict(field, protocol string, v any) []error {
	ep, ok := v.(string)
	if !ok || ep == "" {
		return nil
	}
	want, wrong := PortHTTP, PortGRPC
	if protocol == ProtocolGRPC {
		want, wrong = PortGRPC, PortHTTP
	}
	if DialAddress(ep, want) == DialAddress(withPortFor(ep, want, wrong), want) {
		return nil
	}
	return []error{fmt.Errorf("%s: %q is the standard port of the other OTLP protocol, but this preset exports over %s; use port %s, or set endpoints.%s to send there on purpose", field, ep, protocol, want, protocol)}
}

// applySharedCompression makes the shared exporter block's compression the compression of
// every preset that does not set its own, so that /status and validation see what is sent.
func (cfg *Config) applySharedCompression(presets map[string]Preset) []error {
	v, ok := cfg.Exporter["compression"]
	if !ok {
		return nil
	}
	c, ok := v.(string)
	if !ok {
		return []error{fmt.Errorf("exporter.compression: must be a string such as gzip, got %v", v)}
	}
	if c == "" {
		c = "none"
	}
	var errs []error
	for _, name := range sortedKeys(presets) {
		p := presets[name]
		if p.compressionSet {
			continue
		}
		if !compressionByProtocol[p.Protocol][c] {
			errs = append(errs, fmt.Errorf("exporter.compression: %q is not supported by %s (preset %q); set presets.%s.compression, or use one both protocols support (none, gzip, zstd, snappy)", c, p.Protocol, name, name))
		}
		p.Compression = c
		presets[name] = p
	}
	return errs
}
