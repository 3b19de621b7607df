package threat

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Names from the wasm_runtime receiver's metric contract (its metadata.yaml) that the rules read.
const (
	metricCPULimitUtilization = "wasm_runtime.cpu.limit.utilization"
	metricCPUUsage            = "wasm_runtime.cpu.usage"
	metricMemoryUtilization   = "wasm_runtime.memory.limit.utilization"
	metricOOMKills            = "wasm_runtime.memory.oom.kills"
	metricFDCount             = "wasm_runtime.file_descriptor.count"
	metricConnections         = "wasm_runtime.connection.count"
	metricLimitConfigured     = "wasm_runtime.limit.configured"
	metricLMCount             = "wasm_runtime.linear_memory.count"
	metricLMTruncated         = "wasm_runtime.linear_memory.truncated"
	metricLMCommitted         = "wasm_runtime.linear_memory.committed"
	metricLMResident          = "wasm_runtime.linear_memory.resident"
	metricLMCapacity          = "wasm_runtime.linear_memory.capacity"

	attrInstanceID    = "wasm_runtime.instance.id"
	attrLimitResource = "wasm_runtime.limit.resource"
	attrConnState     = "network.connection.state"
)

// RequiredMetrics returns the receiver metrics the enabled rules read; a scraper that feeds a
// Sampler must have them enabled. The connection count is only asked for when its rule is on:
// it costs a readlink per descriptor.
func (cfg *Config) RequiredMetrics() []string {
	if !cfg.Enabled {
		return nil
	}
	var out []string
	add := func(on bool, names ...string) {
		if on {
			out = append(out, names...)
		}
	}
	// The CPU rule needs to know whether a CPU limit applies (utilisation of the limit or of a core).
	add(cfg.CPU.Enabled, metricCPULimitUtilization, metricCPUUsage, metricLimitConfigured)
	add(cfg.Memory.Enabled, metricMemoryUtilization)
	add(cfg.OOMKill.Enabled, metricOOMKills)
	add(cfg.FileDescriptors.Enabled || cfg.FileCreation.Enabled, metricFDCount)
	add(cfg.Connections.Enabled, metricConnections)
	add(cfg.Limits.Enabled, metricLimitConfigured)
	add(cfg.LinearMemory.Enabled, metricLMCount, metricLMTruncated, metricLMCommitted, metricLMResident, metricLMCapacity)
	return out
}

// Sampler turns the wasm_runtime receiver's per-instance metrics into samples, so that the rules
// see exactly what the metrics show. It keeps the previous scrape's descriptor counts to derive
// the file creation rate. It is not safe for concurrent use.
type Sampler struct {
	prev map[string]fdPoint
}

type fdPoint struct {
	count int64
	at    time.Time
}

// NewSampler returns an empty sampler.
func NewSampler() *Sampler { return &Sampler{prev: map[string]fdPoint{}} }

// Samples maps one scrape's metrics to samples, one per resource with a wasm_runtime.instance.id
// (the receiver's self-metrics resource has none). now is the scrape time.
//
// CPUUtilization is wasm_runtime.cpu.limit.utilization, or wasm_runtime.cpu.usage (in CPUs, so a
// ratio of one core) when the instance has no CPU limit. FileCreationRate is the growth of open
// descriptors per second since the previous scrape: a lower bound of file creations, which Linux
// does not count per process. TCPConnections counts the sockets in every state but listen.
func (sp *Sampler) Samples(md pmetric.Metrics, now time.Time) []Sample {
	return sp.SamplesKeyed(md, nil, now)
}

// SamplesKeyed is Samples with the instance key of each resource given by its index in keys,
// for a scrape whose resources may not carry wasm_runtime.instance.id (the user disabled it);
// resources beyond keys, or with an empty key, fall back to the attribute.
func (sp *Sampler) SamplesKeyed(md pmetric.Metrics, keys []string, now time.Time) []Sample {
	var out []Sample
	seen := map[string]bool{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		key := ""
		if i < len(keys) {
			key = keys[i]
		}
		if key == "" {
			if idv, ok := rm.Resource().Attributes().Get(attrInstanceID); ok {
				key = idv.Str()
			}
		}
		if key == "" {
			continue
		}
		s := NewSample(key, rm.Resource().Attributes().AsRaw())
		cpuUsage := Unknown
		var limits Limits
		limitsSeen := false
		connSeen := false
		var conns int64
		var lm linearMemoryPoints
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				switch m.Name() {
				case metricCPULimitUtilization:
					s.CPUUtilization = lastGauge(m)
				case metricCPUUsage:
					cpuUsage = lastGauge(m)
				case metricMemoryUtilization:
					s.MemoryUtilization = lastGauge(m)
				case metricOOMKills:
					if v, ok := lastSumInt(m); ok {
						s.OOMKills = v
					}
				case metricFDCount:
					if v, ok := lastSumInt(m); ok {
						s.FileDescriptors = v
					}
				case metricConnections:
					dps := m.Sum().DataPoints()
					for d := 0; d < dps.Len(); d++ {
						dp := dps.At(d)
						if st, ok := dp.Attributes().Get(attrConnState); ok && st.Str() == "listen" {
							continue
						}
						conns += numberInt(dp)
						connSeen = true
					}
				case metricLMCount, metricLMTruncated, metricLMCommitted, metricLMResident, metricLMCapacity:
					lm.add(m)
				case metricLimitConfigured:
					dps := m.Gauge().DataPoints()
					for d := 0; d < dps.Len(); d++ {
						dp := dps.At(d)
						res, _ := dp.Attributes().Get(attrLimitResource)
						on := numberInt(dp) == 1
						switch res.Str() {
						case LimitCPU:
							limits.CPU, limitsSeen = on, true
						case LimitMemory:
							limits.Memory, limitsSeen = on, true
						case LimitPIDs:
							limits.PIDs, limitsSeen = on, true
						}
					}
				}
			}
		}
		if !isKnown(s.CPUUtilization) && !limits.CPU {
			s.CPUUtilization = cpuUsage // a ratio of one core
		}
		if connSeen {
			s.TCPConnections = conns
		}
		if limitsSeen {
			l := limits
			s.Limits = &l
		}
		s.LinearMemoryReads = lm.reads()
		if s.FileDescriptors >= 0 {
			if p, ok := sp.prev[key]; ok {
				if dt := now.Sub(p.at).Seconds(); dt > 0 {
					s.FileCreationRate = max(0, float64(s.FileDescriptors-p.count)/dt)
				}
			}
			sp.prev[key] = fdPoint{count: s.FileDescriptors, at: now}
		}
		seen[key] = true
		out = append(out, s)
	}
	for key := range sp.prev {
		if !seen[key] {
			delete(sp.prev, key)
		}
	}
	return out
}

func isKnown(v float64) bool { return v == v }

func lastGauge(m pmetric.Metric) float64 {
	if m.Type() != pmetric.MetricTypeGauge || m.Gauge().DataPoints().Len() == 0 {
		return Unknown
	}
	dp := m.Gauge().DataPoints().At(m.Gauge().DataPoints().Len() - 1)
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

func lastSumInt(m pmetric.Metric) (int64, bool) {
	if m.Type() != pmetric.MetricTypeSum || m.Sum().DataPoints().Len() == 0 {
		return 0, false
	}
	return numberInt(m.Sum().DataPoints().At(m.Sum().DataPoints().Len() - 1)), true
}

func numberInt(dp pmetric.NumberDataPoint) int64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeDouble {
		return int64(dp.DoubleValue())
	}
	return dp.IntValue()
}
