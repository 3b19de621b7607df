package edgeprofileextension

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pipeline"
)

// Signals the routing connector switches; profiles are not exported by the stock OTLP exporters
// at every preset's stability level, so they are left to ordinary pipelines.
var routedSignals = []pipeline.Signal{pipeline.SignalTraces, pipeline.SignalMetrics, pipeline.SignalLogs}

// Names ties the generated component and pipeline IDs to one edge_profile extension, so that
// the converter, the connector and the extension agree on them without passing them around.
type Names struct {
	Extension component.ID
}

func (n Names) base() string {
	return strings.ReplaceAll(n.Extension.String(), "/", "_")
}

// Connector is the ID of the routing connector; it shares the extension's ID (connectors and
// extensions have separate namespaces), so pipelines simply export to "edge_profile".
func (n Names) Connector() component.ID { return n.Extension }

// Pipeline is the generated pipeline of a preset for a signal.
func (n Names) Pipeline(signal pipeline.Signal, preset string) pipeline.ID {
	return pipeline.NewIDWithName(signal, n.base()+"-"+preset)
}

// Exporter is the generated exporter of a preset.
func (n Names) Exporter(exporterType, preset string) component.ID {
	return component.MustNewIDWithName(exporterType, n.base()+"-"+preset)
}

// Sampler is the generated probabilistic sampler of a preset.
func (n Names) Sampler(preset string) component.ID {
	return component.MustNewIDWithName("probabilistic_sampler", n.base()+"-"+preset)
}

// LogsSampler is the generated probabilistic sampler of a preset's logs pipeline: logs have
// settings of their own (logs_sampling).
func (n Names) LogsSampler(preset string) component.ID {
	return component.MustNewIDWithName("probabilistic_sampler", n.base()+"-"+preset+"-logs")
}

// Storage is the generated file_storage extension holding a preset's persistent queues. Its ID
// and directory depend on the preset only, never on its protocol or endpoint, so a changed
// configuration finds what the previous one queued (see migrateQueues).
func (n Names) Storage(preset string) component.ID {
	return component.MustNewIDWithName("file_storage", n.base()+"-"+preset)
}

// QueueDirectory is the directory of a preset's persistent queues.
func (n Names) QueueDirectory(stateDir, preset string) string {
	return filepath.Join(stateDir, "queue", n.base()+"-"+preset)
}

// ExporterType is the stock exporter a preset uses: its protocol, or debug without a backend.
func (cfg *Config) ExporterType(p Preset) string {
	if !cfg.HasBackend() {
		return "debug"
	}
	return p.Protocol
}

// ExpandConfig rewrites a collector configuration: for every enabled edge_profile extension
// whose connector is used as an exporter, it adds one stock pipeline per preset and signal
// (probabilistic_sampler -> exporter with batching, compression and queue), the routing
// connector's configuration and, for persistent presets, a file_storage extension.
// Only keys are added; existing user settings are never changed. It returns the IDs of the
// expanded extensions.
func ExpandConfig(conf *confmap.Conf) ([]component.ID, error) {
	extIDs, err := enabledEdgeProfiles(conf)
	if err != nil || len(extIDs) == 0 {
		return nil, err
	}
	users := connectorUsers(conf)
	delta := map[string]any{}
	var expanded []component.ID
	var errs []error
	for _, id := range extIDs {
		signals := users[id]
		if len(signals) == 0 {
			continue // the extension runs without routing (status and control only)
		}
		if ext, _ := conf.Get("connectors::" + id.String() + "::extension").(string); ext == id.String() {
			continue // already expanded (a configuration printed after conversion): idempotent
		}
		if err := expandOne(conf, id, signals, delta); err != nil {
			errs = append(errs, fmt.Errorf("extensions::%s: %w", id, err))
			continue
		}
		expanded = append(expanded, id)
	}
	// Pipelines that export to an edge_profile connector whose extension is not enabled.
	for id := range users {
		found := false
		for _, e := range extIDs {
			found = found || e == id
		}
		if !found {
			errs = append(errs, fmt.Errorf("service::pipelines: a pipeline exports to %q but the edge_profile extension %q is not configured and listed in service::extensions; add it", id, id))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(delta) == 0 {
		return nil, nil
	}
	return expanded, conf.Merge(confmap.NewFromStringMap(delta))
}

// LoadConfig decodes and validates the configuration of one edge_profile extension.
func LoadConfig(conf *confmap.Conf, id component.ID) (*Config, error) {
	cfg := createDefaultConfig().(*Config)
	sub, err := conf.Sub("extensions::" + id.String())
	if err != nil {
		return nil, err
	}
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func expandOne(conf *confmap.Conf, id component.ID, signals []pipeline.Signal, delta map[string]any) error {
	cfg, err := LoadConfig(conf, id)
	if err != nil {
		return err
	}
	presets, err := cfg.ResolvePresets()
	if err != nil {
		return err
	}
	names := Names{Extension: id}
	var errs []error
	add := func(section, key string, value any) {
		if conf.IsSet(section + "::" + key) {
			errs = append(errs, fmt.Errorf("%s::%s: already defined, but edge_profile generates it; rename yours", section, key))
			return
		}
		m, _ := delta[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
			delta[section] = m
		}
		m[key] = value
	}
	var storages []any
	presetNames := sortedKeys(presets)
	for _, name := range presetNames {
		p := presets[name]
		expType := cfg.ExporterType(p)
		expID := names.Exporter(expType, name)
		persistent := p.Persistent && expType != "debug"
		if persistent {
			storages = append(storages, names.Storage(name).String())
			add("extensions", names.Storage(name).String(), map[string]any{
				"directory":        names.QueueDirectory(cfg.StateDirectory(), name),
				"create_directory": true,
				"fsync":            true,
			})
		}
		add("exporters", expID.String(), exporterConfig(cfg, p, expType, names, persistent))
		sampled := p.SamplingPercentage < 100
		logsSampled := sampled && p.LogsSampling.Enabled && containsSignal(signals, pipeline.SignalLogs)
		if sampled && containsSignal(signals, pipeline.SignalTraces) {
			add("processors", names.Sampler(name).String(), map[string]any{
				"mode":                "proportional",
				"sampling_percentage": p.SamplingPercentage,
			})
		}
		if logsSampled {
			add("processors", names.LogsSampler(name).String(), logsSamplerConfig(p))
		}
		for _, sig := range signals {
			processors := []any{}
			switch {
			case sig == pipeline.SignalTraces && sampled:
				processors = append(processors, names.Sampler(name).String())
			case sig == pipeline.SignalLogs && logsSampled:
				processors = append(processors, names.LogsSampler(name).String())
			}
			add("service::pipelines", names.Pipeline(sig, name).String(), map[string]any{
				"receivers":  []any{names.Connector().String()},
				"processors": processors,
				"exporters":  []any{expID.String()},
			})
		}
	}
	add("connectors", names.Connector().String(), map[string]any{
		"extension": id.String(),
		"presets":   toAnySlice(presetNames),
	})
	if len(storages) > 0 {
		svc, _ := delta["service"].(map[string]any)
		if svc == nil {
			svc = map[string]any{}
			delta["service"] = svc
		}
		exts, ok := svc["extensions"].([]any)
		if !ok {
			list, _ := conf.Get("service::extensions").([]any)
			exts = append([]any{}, list...)
		}
		svc["extensions"] = append(exts, storages...)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// confmap keys with "::" inside a map are not split, so nest the pipelines properly.
	if pl, ok := delta["service::pipelines"].(map[string]any); ok {
		svc, _ := delta["service"].(map[string]any)
		if svc == nil {
			svc = map[string]any{}
			delta["service"] = svc
		}
		existing, _ := svc["pipelines"].(map[string]any)
		if existing == nil {
			existing = map[string]any{}
			svc["pipelines"] = existing
		}
		for k, v := range pl {
			existing[k] = v
		}
		delete(delta, "service::pipelines")
	}
	return nil
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// enabledEdgeProfiles returns the edge_profile extensions listed in service::extensions.
func enabledEdgeProfiles(conf *confmap.Conf) ([]component.ID, error) {
	list, _ := conf.Get("service::extensions").([]any)
	var ids []component.ID
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var id component.ID
		if err := id.UnmarshalText([]byte(s)); err != nil {
			continue // reported by the collector itself
		}
		if id.Type() == Type {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// connectorUsers maps each edge_profile connector ID used as an exporter to the signals of the
// pipelines using it.
func connectorUsers(conf *confmap.Conf) map[component.ID][]pipeline.Signal {
	out := map[component.ID][]pipeline.Signal{}
	pipelines, _ := conf.Get("service::pipelines").(map[string]any)
	for _, pname := range sortedKeys(pipelines) {
		var pid pipeline.ID
		if err := pid.UnmarshalText([]byte(pname)); err != nil {
			continue
		}
		p, _ := pipelines[pname].(map[string]any)
		exps, _ := p["exporters"].([]any)
		for _, e := range exps {
			s, _ := e.(string)
			var id component.ID
			if id.UnmarshalText([]byte(s)) != nil || id.Type() != Type {
				continue
			}
			if !containsSignal(out[id], pid.Signal()) && isRouted(pid.Signal()) {
				out[id] = append(out[id], pid.Signal())
			}
		}
	}
	return out
}

func isRouted(s pipeline.Signal) bool { return containsSignal(routedSignals, s) }

func containsSignal(list []pipeline.Signal, s pipeline.Signal) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
