package runtimelogs

import (
	"fmt"

	"go.opentelemetry.io/collector/confmap"

	// Registers every stanza operator type (file_input, regex_parser, recombine, container...).
	_ "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/adapter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	_ "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/input/file"
)

// Operators returns the stanza operators of all sources, in pipeline order: for each source its
// file_input, then its parsers, ending in the instance operator that feeds the emitter. Every
// operator names its output, so the sources stay independent inside one pipeline, and every
// operator id starts with the source name, so checkpoints of different sources never mix.
func (cfg *Config) Operators(resolver Resolver) ([]operator.Config, error) {
	var ops []operator.Config
	inst := newInstanceConfig(instanceOperatorID, resolver)
	for _, raw := range cfg.Sources {
		s := raw.withDefaults()
		maps := sourceOperatorMaps(s)
		for i, m := range maps {
			if i < len(maps)-1 {
				m["output"] = []string{maps[i+1]["id"].(string)}
			} else {
				m["output"] = []string{instanceOperatorID}
			}
			var oc operator.Config
			if err := oc.Unmarshal(confmap.NewFromStringMap(m)); err != nil {
				return nil, fmt.Errorf("logs source %q: operator %v: %w", s.Name, m["id"], err)
			}
			ops = append(ops, oc)
		}
		if err := inst.addSource(s); err != nil {
			return nil, fmt.Errorf("logs source %q: %w", s.Name, err)
		}
	}
	// The shared last operator has no output: the adapter connects it to its emitter.
	return append(ops, operator.NewConfig(inst)), nil
}

// sourceOperatorMaps returns the source's operators, up to its last parser, in the format of a
// stanza `operators:` list, so that what a preset does can be written by hand in filelog too.
func sourceOperatorMaps(s SourceConfig) []map[string]any {
	p := presets[s.Preset]
	resource := map[string]any{"wasm_runtime.runtime": s.Runtime}
	for k, v := range s.Resource {
		resource[k] = v
	}
	input := map[string]any{
		"type":              "file_input",
		"resource":          resource,
		"attributes":        map[string]any{sourceAttr: s.Name},
		"id":                s.Name,
		"include":           s.Include,
		"start_at":          s.StartAt,
		"poll_interval":     s.PollInterval,
		"include_file_path": true,
		"include_file_name": false,
		// The instance operator uses and removes it (see replayGuard).
		"include_file_record_offset": true,
		// Indentation tells continuation lines (backtraces) apart.
		"preserve_leading_whitespaces": true,
	}
	if len(s.Exclude) > 0 {
		input["exclude"] = s.Exclude
	}
	maps := []map[string]any{input}

	if s.Format == FormatContainer {
		maps = append(maps, map[string]any{
			"type":                       "container",
			"id":                         s.Name + "_container",
			"add_metadata_from_filepath": true,
		})
	}
	if p.continuation != "" {
		maps = append(maps, map[string]any{
			"type":               "recombine",
			"id":                 s.Name + "_multiline",
			"combine_field":      "body",
			"is_first_entry":     "!(body matches " + quoteExpr(p.continuation) + ")",
			"source_identifier":  `attributes["log.file.path"]`,
			"force_flush_period": s.MultilineFlushPeriod,
			"max_log_size":       "1MiB",
		})
	}
	for i, sh := range p.shapes {
		m := map[string]any{
			"type":       "regex_parser",
			"id":         fmt.Sprintf("%s_shape%d", s.Name, i),
			"regex":      sh.regex,
			"parse_from": "body",
			"parse_to":   "attributes",
			"on_error":   "send_quiet",
		}
		if i > 0 {
			// A record takes the first shape that matches: later shapes skip parsed records.
			m["if"] = `attributes["` + tempPrefix + `parsed"] == nil`
		}
		// Every shape marks the records it parsed (an empty group matches anywhere).
		m["regex"] = `(?P<` + tempPrefix + `parsed>)` + sh.regex
		if sh.timeLayout != "" {
			m["timestamp"] = map[string]any{
				"parse_from":  `attributes.` + tempPrefix + `time`,
				"layout_type": "gotime",
				"layout":      sh.timeLayout,
			}
		}
		if sh.severity != nil {
			sev := map[string]any{"parse_from": `attributes.` + tempPrefix + `level`, "overwrite_text": true}
			if len(sh.severity) > 0 {
				sev["mapping"] = sh.severity
			}
			m["severity"] = sev
		}
		maps = append(maps, m)
	}
	for i, ex := range p.extracts {
		maps = append(maps, map[string]any{
			"type":       "regex_parser",
			"id":         fmt.Sprintf("%s_extract%d", s.Name, i),
			"regex":      ex.regex,
			"parse_from": "body",
			"parse_to":   "attributes",
			"on_error":   "send_quiet",
			"if":         "body contains " + quoteExpr(ex.marker),
		})
	}
	return maps
}
