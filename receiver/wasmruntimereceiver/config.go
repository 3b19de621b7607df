package wasmruntimereceiver

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
	"github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// Config is the wasm_runtime receiver configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	// MetricsBuilderConfig enables or disables each metric (metrics::<name>::enabled) and
	// resource attribute (resource_attributes::<name>::enabled); see documentation.md.
	metadata.MetricsBuilderConfig `mapstructure:",squash"`

	// Inventory names an instance_inventory extension whose instances the receiver reports,
	// shared with the virtualization_attributes processor and other receivers. Without it the
	// receiver discovers instances itself, with root_path, runtimes and max_open_files below,
	// once per collection interval for its metrics and logs pipelines together.
	Inventory *component.ID `mapstructure:"inventory"`

	// RootPath is where the host's / is mounted (e.g. /hostfs in a DaemonSet); /proc and /sys
	// are read below it. Empty means the collector's own root.
	RootPath string `mapstructure:"root_path"`

	// Runtimes are user-defined matchers, checked before the built-in catalog, so that embedders
	// (wazero hosts, custom VMMs) are discovered too.
	Runtimes []catalog.Matcher `mapstructure:"runtimes"`

	// Containers also reports every container (containerd, CRI-O, Docker, Podman, LXC,
	// nspawn cgroups) as an instance of kind container, as cAdvisor does; off, only Wasm, VM
	// and sandbox instances (and user-defined runtimes) are reported.
	Containers bool `mapstructure:"containers"`

	// MaxOpenFiles bounds the files (usage counters, /proc/<pid>/stat) kept open between
	// scrapes so that each is re-read with a single pread instead of open, read and close.
	// 0 disables the cache.
	MaxOpenFiles int `mapstructure:"max_open_files"`

	// Include, when not empty, keeps only the instances it matches; Exclude then drops the
	// instances it matches.
	Include Filter `mapstructure:"include"`
	Exclude Filter `mapstructure:"exclude"`

	// LinearMemory reads the linear memories of Wasm runtime processes from their mappings,
	// every linear_memory.every collections; see documentation.md.
	LinearMemory LinearMemoryConfig `mapstructure:"linear_memory"`

	// VM reads VM-grade figures of VM and micro-VM instances: per vCPU, guest against VMM,
	// taps, VMM I/O, and the opt-in VMM, KVM and Xen sources; see documentation.md.
	VM VMConfig `mapstructure:"vm"`

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
	return slices.Contains(f.Kinds, kind) || slices.Contains(f.Runtimes, runtime)
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
	if cfg.Inventory != nil {
		for field, set := range map[string]bool{"root_path": cfg.RootPath != "", "runtimes": len(cfg.Runtimes) > 0, "containers": cfg.Containers} {
			if set {
				errs = append(errs, fmt.Errorf("%s: the instances come from extension %s (inventory: %s); set %s on that extension instead", field, cfg.Inventory, cfg.Inventory, field))
			}
		}
	}
	errs = append(errs, catalog.ValidateMatchers("runtimes", cfg.Runtimes)...)
	errs = append(errs, cfg.LinearMemory.validate()...)
	errs = append(errs, cfg.VM.validate(cfg.CollectionInterval)...)
	if cfg.MaxOpenFiles < 0 {
		errs = append(errs, fmt.Errorf("max_open_files: must be 0 (no cache) or positive, got %d", cfg.MaxOpenFiles))
	}
	for _, nf := range [...]struct {
		name string
		f    Filter
	}{{"include", cfg.Include}, {"exclude", cfg.Exclude}} {
		for i, k := range nf.f.Kinds {
			if !slices.Contains(catalog.Kinds, k) {
				errs = append(errs, fmt.Errorf("%s.kinds[%d]: %q is not one of %s", nf.name, i, k, strings.Join(catalog.Kinds, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}
