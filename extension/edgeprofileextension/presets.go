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
	Name               string         `json:"name"`
	BatchSize          int            `json:"batch_size"`
	FlushInterval      time.Duration  `json:"-"`
	Protocol           string         `json:"protocol"`
	Compression        string         `json:"compression"`
	SamplingPercentage float64        `json:"sampling_percentage"`
	Persistent         bool           `json:"persistent"`
	QueueSize          int            `json:"queue_size"`
	Exporter           map[string]any `json:"-"`
}

// Builtin returns the built-in presets (seed table: edge 32 / 5 s / OTLP-HTTP / gzip / 10 %,
// cloud 512 / 30 s / OTLP-gRPC / none / 100 %, hybrid 256 / 15 s with cloud's transport).
func Builtin() map[string]Preset {
	return map[string]Preset{
		ProfileEdge: {
			Name: ProfileEdge, BatchSize: 32, FlushInterval: 5 * time.Second, Protocol: ProtocolHTTP,
			Compression: "gzip", SamplingPercentage: 10, Persistent: true, QueueSize: 200_000,
		},
		ProfileCloud: {
			Name: ProfileCloud, BatchSize: 512, FlushInterval: 30 * time.Second, Protocol: ProtocolGRPC,
			Compression: "none", SamplingPercentage: 100, QueueSize: 200_000,
		},
		ProfileHybrid: {
			Name: ProfileHybrid, BatchSize: 256, FlushInterval: 15 * time.Second, Protocol: ProtocolGRPC,
			Compression: "none", SamplingPercentage: 100, QueueSize: 200_000,
		},
	}
}

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
		p.Exporter = nil
		var perr []error
		if pc.BatchSize != nil {
			if *pc.BatchSize < 1 {
				perr = append(perr, fmt.Errorf("%s.batch_size: must be at least 1, got %d", field, *pc.BatchSize))
			}
			p.BatchSize = *pc.BatchSize
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
			p.Exporter = pc.Exporter
		}
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
			for _, k := range []string{"min_size", "max_size"} {
				if _, ok := b[k]; ok && pc.BatchSize != nil {
					errs = append(errs, fmt.Errorf("%s.exporter.sending_queue.batch.%s: conflicts with %s.batch_size; set only one of them", field, k, field))
				}
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
