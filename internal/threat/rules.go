package threat

import (
	"fmt"
	"math"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Rule ids; the event name is EventNamePrefix + id.
const (
	RuleCPUExhaustion    = "cpu_exhaustion"
	RuleMemoryExhaustion = "memory_exhaustion"
	RuleOOMKill          = "oom_kill"
	RuleFDExhaustion     = "fd_exhaustion"
	RuleFileSpam         = "file_spam"
	RuleConnectionFlood  = "connection_flood"
	RuleMissingLimits    = "missing_limits"

	EventNamePrefix = "wasm_runtime.threat."
)

// Attack vectors of arXiv 2509.11242, plus the posture that leaves them open.
const (
	VectorCPU        = "cpu"
	VectorMemory     = "memory"
	VectorFilesystem = "filesystem"
	VectorNetwork    = "network"
	VectorPosture    = "posture"
)

// rule is one threat rule: how to measure it on a sample and when it holds.
type rule struct {
	id       string
	vector   string
	severity plog.SeverityNumber
	unit     string
	// above: the rule holds when value > bound; otherwise when value >= bound.
	above bool
	// measure returns the rule's value for the sample, false when it is unknown.
	measure func(s Sample, prev *instanceState) (float64, bool)
	// settings returns whether the rule is on, its bound, and the scrapes in a row it must hold
	// to fire and must not hold to clear.
	settings func(cfg *Config) (on bool, bound float64, fire, clear int)
	describe func(v, bound float64, s Sample) string
}

func ratio(v float64) (float64, bool) { return v, !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }
func count(v int64) (float64, bool)   { return float64(v), v >= 0 }

func threshold(r ThresholdRule) (bool, float64, int, int) {
	return r.Enabled, r.Threshold, r.ConsecutiveScrapes, r.ClearScrapes
}

// rules, in the order their events are emitted within an instance.
var rules = []rule{
	{
		id: RuleCPUExhaustion, vector: VectorCPU, severity: plog.SeverityNumberWarn, unit: "1",
		measure:  func(s Sample, _ *instanceState) (float64, bool) { return ratio(s.CPUUtilization) },
		settings: func(c *Config) (bool, float64, int, int) { return threshold(c.CPU) },
		describe: func(v, b float64, s Sample) string {
			basis := "one core (no CPU limit)"
			if s.Limits != nil && s.Limits.CPU {
				basis = "its CPU limit"
			}
			return fmt.Sprintf("CPU use at %.0f%% of %s, bound %.0f%%", v*100, basis, b*100)
		},
	},
	{
		id: RuleMemoryExhaustion, vector: VectorMemory, severity: plog.SeverityNumberError, unit: "1",
		measure:  func(s Sample, _ *instanceState) (float64, bool) { return ratio(s.MemoryUtilization) },
		settings: func(c *Config) (bool, float64, int, int) { return threshold(c.Memory) },
		describe: func(v, b float64, _ Sample) string {
			return fmt.Sprintf("memory at %.0f%% of its limit, bound %.0f%%", v*100, b*100)
		},
	},
	{
		id: RuleOOMKill, vector: VectorMemory, severity: plog.SeverityNumberError, unit: "{process}", above: true,
		// The kills since the previous scrape; the first scrape of an instance is the baseline.
		measure: func(s Sample, prev *instanceState) (float64, bool) {
			if s.OOMKills < 0 || prev == nil || prev.oomKills < 0 {
				return 0, false
			}
			if s.OOMKills < prev.oomKills { // the cgroup was recreated
				return 0, true
			}
			return float64(s.OOMKills - prev.oomKills), true
		},
		settings: func(c *Config) (bool, float64, int, int) { return c.OOMKill.Enabled, 0, 1, 1 },
		describe: func(v, _ float64, _ Sample) string {
			return fmt.Sprintf("%.0f process(es) of the instance killed by the OOM killer since the last scrape", v)
		},
	},
	{
		id: RuleFDExhaustion, vector: VectorFilesystem, severity: plog.SeverityNumberWarn, unit: "{file_descriptor}", above: true,
		measure:  func(s Sample, _ *instanceState) (float64, bool) { return count(s.FileDescriptors) },
		settings: func(c *Config) (bool, float64, int, int) { return threshold(c.FileDescriptors) },
		describe: func(v, b float64, _ Sample) string {
			return fmt.Sprintf("%.0f open file descriptors, bound %.0f", v, b)
		},
	},
	{
		id: RuleFileSpam, vector: VectorFilesystem, severity: plog.SeverityNumberWarn, unit: "{file}/s", above: true,
		measure:  func(s Sample, _ *instanceState) (float64, bool) { return ratio(s.FileCreationRate) },
		settings: func(c *Config) (bool, float64, int, int) { return threshold(c.FileCreation) },
		describe: func(v, b float64, _ Sample) string {
			return fmt.Sprintf("%.1f files created per second, bound %.1f", v, b)
		},
	},
	{
		id: RuleConnectionFlood, vector: VectorNetwork, severity: plog.SeverityNumberWarn, unit: "{connection}", above: true,
		measure:  func(s Sample, _ *instanceState) (float64, bool) { return count(s.TCPConnections) },
		settings: func(c *Config) (bool, float64, int, int) { return threshold(c.Connections) },
		describe: func(v, b float64, _ Sample) string {
			return fmt.Sprintf("%.0f TCP connections, bound %.0f", v, b)
		},
	},
	{
		id: RuleMissingLimits, vector: VectorPosture, severity: plog.SeverityNumberWarn, unit: "{limit}", above: true,
		// Filled in by the engine, which knows the required limits.
		settings: func(c *Config) (bool, float64, int, int) { return c.Limits.Enabled, 0, 1, 1 },
		describe: func(v, _ float64, s Sample) string {
			return fmt.Sprintf("instance runs without %s limit(s)", strings.Join(missingLimits(s.Limits, nil), ", "))
		},
	},
}

// missingLimits lists the required limits the instance lacks (all when require is nil).
func missingLimits(l *Limits, require []string) []string {
	if l == nil {
		return nil
	}
	if require == nil {
		require = []string{LimitCPU, LimitMemory, LimitPIDs}
	}
	var out []string
	for _, r := range require {
		switch {
		case r == LimitCPU && !l.CPU, r == LimitMemory && !l.Memory, r == LimitPIDs && !l.PIDs:
			out = append(out, r)
		}
	}
	return out
}
