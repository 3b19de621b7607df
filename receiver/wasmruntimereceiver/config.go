package wasmruntimereceiver

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
	"github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// Instance kinds the receiver reports in wasm_runtime.instance.kind.
const (
	KindWasm      = "wasm"
	KindMicroVM   = "microvm"
	KindVM        = "vm"
	KindSandbox   = "sandbox"
	KindContainer = "container"
)

var validKinds = map[string]bool{KindWasm: true, KindMicroVM: true, KindVM: true, KindSandbox: true, KindContainer: true}

// Config is the wasm_runtime receiver configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`

	// RootPath is where the host's / is mounted (e.g. /hostfs in a DaemonSet); /proc and /sys
	// are read below it. Empty means the collector's own root.
	RootPath string `mapstructure:"root_path"`

	// Runtimes are user-defined matchers, checked before the built-in catalog, so that embedders
	// (wazero hosts, custom VMMs) are discovered too.
	Runtimes []RuntimeMatcher `mapstructure:"runtimes"`

	// MaxOpenFiles bounds the files (usage counters, /proc/<pid>/stat) kept open between
	// scrapes so that each is re-read with a single pread instead of open, read and close.
	// 0 disables the cache.
	MaxOpenFiles int `mapstructure:"max_open_files"`

	// Include, when not empty, keeps only the instances it matches; Exclude then drops the
	// instances it matches.
	Include Filter `mapstructure:"include"`
	Exclude Filter `mapstructure:"exclude"`

	// Metrics enables or disables each metric (metrics::<name>::enabled), as in mdatagen-built
	// receivers; see documentation.md for the defaults.
	Metrics metadata.MetricsConfig `mapstructure:"metrics"`
	// ResourceAttributes enables or disables each resource attribute.
	ResourceAttributes metadata.ResourceAttributesConfig `mapstructure:"resource_attributes"`

	// Logs follows the runtimes' own log files (logs pipelines only); see internal/runtimelogs.
	Logs runtimelogs.Config `mapstructure:"logs"`
	// Threats are the threat event rules evaluated on each scrape (logs pipelines only); see
	// docs/threat-events.md.
	Threats threat.Config `mapstructure:"threats"`

	_ struct{}
}

// Filter selects instances by kind and runtime name. An empty Filter matches nothing.
type Filter struct {
	Kinds    []string `mapstructure:"kinds"`
	Runtimes []string `mapstructure:"runtimes"`
}

func (f Filter) empty() bool { return len(f.Kinds) == 0 && len(f.Runtimes) == 0 }

func (f Filter) matches(kind, runtime string) bool {
	for _, k := range f.Kinds {
		if k == kind {
			return true
		}
	}
	for _, r := range f.Runtimes {
		if r == runtime {
			return true
		}
	}
	return false
}

// RuntimeMatcher recognises one runtime from a process's comm, exe or command line.
type RuntimeMatcher struct {
	Name string `mapstructure:"name"`
	Kind string `mapstructure:"kind"`
	// Comm, Exe and Cmdline are regular expressions; a process matches when every one that is
	// set matches.
	Comm    string `mapstructure:"comm"`
	Exe     string `mapstructure:"exe"`
	Cmdline string `mapstructure:"cmdline"`
	// Attributes extract resource attributes from the command line (its arguments joined by
	// spaces): attribute name to a regular expression whose first capture group is the value,
	// e.g. wasm_runtime.wasm.module: '([^ /]+\.wasm)'.
	Attributes map[string]string `mapstructure:"attributes"`
}

// Validate checks the configuration and names the offending field in every error.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.CollectionInterval <= 0 {
		errs = append(errs, fmt.Errorf("collection_interval: must be positive, got %s (e.g. collection_interval: 10s)", cfg.CollectionInterval))
	}
	if cfg.RootPath != "" && !filepath.IsAbs(cfg.RootPath) {
		errs = append(errs, fmt.Errorf("root_path: must be an absolute path, got %q (e.g. root_path: /hostfs)", cfg.RootPath))
	}
	seen := map[string]bool{}
	for i, rt := range cfg.Runtimes {
		field := fmt.Sprintf("runtimes[%d]", i)
		if rt.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: must not be empty", field))
		} else if seen[rt.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is defined twice; runtime names must be unique", field, rt.Name))
		}
		seen[rt.Name] = true
		if !validKinds[rt.Kind] {
			errs = append(errs, fmt.Errorf("%s.kind: %q is not one of wasm, microvm, vm, sandbox, container", field, rt.Kind))
		}
		if rt.Comm == "" && rt.Exe == "" && rt.Cmdline == "" {
			errs = append(errs, fmt.Errorf("%s: set at least one of comm, exe or cmdline to match processes", field))
		}
		for name, expr := range map[string]string{"comm": rt.Comm, "exe": rt.Exe, "cmdline": rt.Cmdline} {
			if expr == "" {
				continue
			}
			if _, err := regexp.Compile(expr); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: invalid regular expression: %w", field, name, err))
			}
		}
		for attr, expr := range rt.Attributes {
			re, err := regexp.Compile(expr)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s.attributes.%s: invalid regular expression: %w", field, attr, err))
			case re.NumSubexp() < 1:
				errs = append(errs, fmt.Errorf("%s.attributes.%s: the expression needs a capture group for the value, e.g. '--name=(\\S+)'", field, attr))
			}
		}
	}
	if cfg.MaxOpenFiles < 0 {
		errs = append(errs, fmt.Errorf("max_open_files: must be 0 (no cache) or positive, got %d", cfg.MaxOpenFiles))
	}
	for name, f := range map[string]Filter{"include": cfg.Include, "exclude": cfg.Exclude} {
		for i, k := range f.Kinds {
			if !validKinds[k] {
				errs = append(errs, fmt.Errorf("%s.kinds[%d]: %q is not one of wasm, microvm, vm, sandbox, container", name, i, k))
			}
		}
	}
	if err := cfg.Metrics.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.ResourceAttributes.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
