package edgeprofileextension

import "strings"

// The settings edge_profile generates for a preset's stock components, and how user blocks are
// merged over them.

// httpWriteBufferSize is the generated otlp_http exporters' write buffer per connection.
const httpWriteBufferSize = 64 << 10

func exporterConfig(cfg *Config, p Preset, expType string, names Names, persistent bool) map[string]any {
	queue := map[string]any{
		"enabled":           true,
		"sizer":             "items",
		"queue_size":        p.QueueSize,
		"block_on_overflow": true,
		"batch": map[string]any{
			"sizer":         "items",
			"min_size":      p.BatchSize,
			"max_size":      p.MaxBatchSize,
			"flush_timeout": p.FlushInterval.String(),
		},
	}
	out := map[string]any{"sending_queue": queue}
	switch expType {
	case "debug":
		out["verbosity"] = "basic"
		return out // the shared block is for a real backend: tls, auth and headers mean nothing here
	case ProtocolHTTP, ProtocolGRPC:
		ep := cfg.BackendEndpoint(expType)
		out["endpoint"] = ep
		out["compression"] = p.Compression
		if expType == ProtocolGRPC && strings.HasPrefix(ep, "http://") {
			out["tls"] = map[string]any{"insecure": true}
		}
		if expType == ProtocolHTTP {
			// otlphttpexporter v0.165.0 (factory.go createDefaultConfig) gives every connection
			// a 512 KiB write buffer. Over HTTP/1.1 each concurrent queue consumer opens its own
			// connection, so a burst of small batches (a scrape split into batches of 32) held
			// megabytes of buffers for requests of a few KiB. Larger bodies are written through
			// in 64 KiB chunks: a few more write calls, no change on the wire.
			out["write_buffer_size"] = httpWriteBufferSize
		}
		if len(cfg.Headers) > 0 {
			h := map[string]any{}
			for k, v := range cfg.Headers {
				h[k] = string(v)
			}
			out["headers"] = h
		}
		// Never give up, for every preset: a preset may be switched away from while its queue
		// still holds what it accepted, and an outage should cost latency, not data. The queue
		// blocks when full, which pushes back on the receivers instead of dropping.
		out["retry_on_failure"] = map[string]any{"enabled": true, "max_elapsed_time": "0s", "max_interval": "30s"}
		if persistent {
			queue["storage"] = names.Storage(p.Name).String()
		}
	}
	shared := deepCopy(cfg.Exporter)
	delete(shared, "compression") // already in p.Compression, unless the preset set its own
	return deepMerge(deepMerge(out, shared), deepCopy(p.Exporter))
}

// logsSamplerConfig is the probabilistic_sampler of a preset's logs. Upstream (contrib
// v0.165.1, processor/probabilisticsamplerprocessor, logsprocessor.go randomnessFromLogRecord
// and sampler_mode.go commonShouldSampleLogic/makeSampler): in proportional mode a record's
// randomness is its sampling.randomness attribute or its trace id, and a record with neither
// is dropped when fail_closed is true, the factory default; from_attribute is only read in
// hash_seed mode, which hashes the trace id when present and the attribute otherwise.
func logsSamplerConfig(p Preset) map[string]any {
	ls := p.LogsSampling
	out := map[string]any{
		"sampling_percentage": p.SamplingPercentage,
		"fail_closed":         ls.FailClosed,
	}
	if ls.FromAttribute == "" {
		// Same decision as the record's trace: a log is kept exactly when its trace is.
		out["mode"] = "proportional"
		return out
	}
	out["mode"] = "hash_seed"
	out["attribute_source"] = ls.AttributeSource
	out["from_attribute"] = ls.FromAttribute
	return out
}

// deepMerge returns base with override merged in; override wins on every leaf.
func deepMerge(base, override map[string]any) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for k, v := range override {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = deepMerge(bm, om)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// deepCopy copies nested maps so that merging into a copy never changes a shared block.
func deepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if vm, ok := v.(map[string]any); ok {
			v = deepCopy(vm)
		}
		out[k] = v
	}
	return out
}
