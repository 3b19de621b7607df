// Package threat turns per-instance resource samples into threat events: log records that say
// when one of the Wasm resource-isolation attack vectors (CPU exhaustion, memory exhaustion and
// OOM kills, filesystem abuse, network abuse) or a missing-limits posture starts on an instance,
// and when it stops. The wasm_runtime receiver embeds Config under `threats:` and evaluates the
// rules on each scrape.
package threat

import (
	"errors"
	"fmt"
	"math"
)

// Limit names of LimitsRule.Require.
const (
	LimitCPU    = "cpu"
	LimitMemory = "memory"
	LimitPIDs   = "pids"
)

// Config is the `threats:` section of the wasm_runtime receiver.
type Config struct {
	// Enabled turns threat events on (default true; they only flow in logs pipelines).
	Enabled bool `mapstructure:"enabled"`

	CPU             ThresholdRule `mapstructure:"cpu"`
	Memory          ThresholdRule `mapstructure:"memory"`
	OOMKill         RuleToggle    `mapstructure:"oom_kill"`
	FileDescriptors ThresholdRule `mapstructure:"file_descriptors"`
	FileCreation    ThresholdRule `mapstructure:"file_creation"`
	Connections     ThresholdRule `mapstructure:"connections"`
	Limits          LimitsRule    `mapstructure:"limits"`
	// LinearMemory is memory_exhaustion per linear memory of a Wasm runtime process
	// (linearmemory.go).
	LinearMemory LinearMemoryRule `mapstructure:"linear_memory"`

	_ struct{}
}

// ThresholdRule fires when a measurement is beyond Threshold for ConsecutiveScrapes scrapes in a
// row, and clears after ClearScrapes scrapes in a row within it (like Prometheus' for and
// keep_firing_for), so that a value hovering around the bound does not flap.
type ThresholdRule struct {
	Enabled            bool    `mapstructure:"enabled"`
	Threshold          float64 `mapstructure:"threshold"`
	ConsecutiveScrapes int     `mapstructure:"consecutive_scrapes"`
	ClearScrapes       int     `mapstructure:"clear_scrapes"`
}

// RuleToggle is a rule without parameters.
type RuleToggle struct {
	Enabled bool `mapstructure:"enabled"`
}

// LimitsRule fires while an instance runs without one of the required limits.
type LimitsRule struct {
	Enabled bool     `mapstructure:"enabled"`
	Require []string `mapstructure:"require"`
}

// NewDefaultConfig returns the rules with the bounds the Wasm isolation study recommends
// (arXiv 2509.11242): CPU above 80 % of its quota for a minute at a 10 s interval, memory at 90 %
// of its limit, any OOM kill, and CPU, memory and pids limits on every instance. The file and
// connection bounds are an order of magnitude above what a single request handler holds. A
// linear memory fires at 90 % of its engine's reservation and clears below 80 %.
func NewDefaultConfig() Config {
	return Config{
		Enabled:         true,
		CPU:             ThresholdRule{Enabled: true, Threshold: 0.8, ConsecutiveScrapes: 6, ClearScrapes: 3},
		Memory:          ThresholdRule{Enabled: true, Threshold: 0.9, ConsecutiveScrapes: 1, ClearScrapes: 1},
		OOMKill:         RuleToggle{Enabled: true},
		FileDescriptors: ThresholdRule{Enabled: true, Threshold: 1000, ConsecutiveScrapes: 1, ClearScrapes: 1},
		FileCreation:    ThresholdRule{Enabled: true, Threshold: 100, ConsecutiveScrapes: 1, ClearScrapes: 1},
		Connections:     ThresholdRule{Enabled: true, Threshold: 500, ConsecutiveScrapes: 1, ClearScrapes: 1},
		Limits:          LimitsRule{Enabled: true, Require: []string{LimitCPU, LimitMemory, LimitPIDs}},
		LinearMemory:    LinearMemoryRule{Enabled: true, Threshold: 0.9, ClearThreshold: 0.8},
	}
}

// Validate checks the rules; every error names the field and how to fix it.
func (cfg *Config) Validate() error {
	var errs []error
	// Ratios must be positive; counts and rates may be 0 ("any socket at all is a threat").
	check := func(field string, r ThresholdRule, lo, hi float64, example string) {
		if !r.Enabled {
			return
		}
		low, bracket := r.Threshold <= lo, "("
		if lo < 0 {
			low, bracket = r.Threshold < 0, "["
			lo = 0
		}
		if math.IsNaN(r.Threshold) || low || r.Threshold > hi {
			errs = append(errs, fmt.Errorf("threats.%s.threshold: %v is out of range %s%v, %v] (e.g. threshold: %s)", field, r.Threshold, bracket, lo, hi, example))
		}
		if r.ConsecutiveScrapes < 1 || r.ConsecutiveScrapes > 10000 {
			errs = append(errs, fmt.Errorf("threats.%s.consecutive_scrapes: %d must be between 1 and 10000 (e.g. consecutive_scrapes: 3)", field, r.ConsecutiveScrapes))
		}
		if r.ClearScrapes < 1 || r.ClearScrapes > 10000 {
			errs = append(errs, fmt.Errorf("threats.%s.clear_scrapes: %d must be between 1 and 10000 (e.g. clear_scrapes: 3)", field, r.ClearScrapes))
		}
	}
	// A ratio of a CPU quota may exceed 1 briefly (accounting lags), never 10.
	check("cpu", cfg.CPU, 0, 10, "0.8")
	check("memory", cfg.Memory, 0, 1, "0.9")
	check("file_descriptors", cfg.FileDescriptors, -1, math.MaxInt32, "1000")
	check("file_creation", cfg.FileCreation, -1, math.MaxInt32, "100")
	check("connections", cfg.Connections, -1, math.MaxInt32, "500")
	if cfg.Limits.Enabled {
		if len(cfg.Limits.Require) == 0 {
			errs = append(errs, errors.New("threats.limits.require: list at least one of cpu, memory, pids, or set threats.limits.enabled: false"))
		}
		seen := map[string]bool{}
		for i, l := range cfg.Limits.Require {
			switch {
			case l != LimitCPU && l != LimitMemory && l != LimitPIDs:
				errs = append(errs, fmt.Errorf("threats.limits.require[%d]: %q is not one of cpu, memory, pids", i, l))
			case seen[l]:
				errs = append(errs, fmt.Errorf("threats.limits.require[%d]: %q is listed twice; remove one", i, l))
			}
			seen[l] = true
		}
	}
	errs = append(errs, cfg.LinearMemory.validate()...)
	return errors.Join(errs...)
}
