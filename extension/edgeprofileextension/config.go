package edgeprofileextension

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Built-in profile names; ProfileAuto lets the extension pick one from the environment.
const (
	ProfileEdge   = "edge"
	ProfileCloud  = "cloud"
	ProfileHybrid = "hybrid"
	ProfileAuto   = "auto"
)

// Config is the edge_profile extension configuration.
type Config struct {
	// Profile is the preset applied at start: edge, cloud, hybrid, auto or a user-defined one.
	Profile string `mapstructure:"profile"`
	// Presets defines extra presets, or overrides fields of the built-in ones.
	Presets map[string]Preset `mapstructure:"presets"`

	_ struct{}
}

// Preset is one set of export settings.
type Preset struct {
	BatchSize    int     `mapstructure:"batch_size"`
	SamplingRate float64 `mapstructure:"sampling_percentage"`
}

func builtinProfiles() []string { return []string{ProfileEdge, ProfileCloud, ProfileHybrid} }

// Validate checks the configuration and names the offending field in every error.
func (cfg *Config) Validate() error {
	var errs []error
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
	for name, p := range cfg.Presets {
		if name == ProfileAuto {
			errs = append(errs, errors.New("presets.auto: \"auto\" is reserved for automatic selection; rename the preset"))
		}
		if p.BatchSize < 0 {
			errs = append(errs, fmt.Errorf("presets.%s.batch_size: must not be negative, got %d", name, p.BatchSize))
		}
		if p.SamplingRate < 0 || p.SamplingRate > 100 {
			errs = append(errs, fmt.Errorf("presets.%s.sampling_percentage: must be within 0..100, got %g", name, p.SamplingRate))
		}
	}
	return errors.Join(errs...)
}
