package virtualizationattributesprocessor

import (
	"errors"
	"fmt"
	"go.opentelemetry.io/collector/component"
	"path/filepath"
	"strings"
	"time"
)

// Association sources, tried in the configured order for each resource.
const (
	SourceContainerID       = "container.id"
	SourcePodUID            = "k8s.pod.uid"
	SourceProcessPID        = "process.pid"
	SourceServiceInstanceID = "service.instance.id"
	// SourceConnection is the client's loopback TCP connection: the process that sent the data.
	SourceConnection = "connection"
)

var validSources = []string{SourceContainerID, SourcePodUID, SourceProcessPID, SourceServiceInstanceID, SourceConnection}

// Config is the virtualization_attributes processor configuration.
type Config struct {
	// RootPath is where the host's / is mounted (e.g. /hostfs in a DaemonSet).
	RootPath string `mapstructure:"root_path"`
	// RefreshInterval is how often host detection is repeated; 0 detects once at start.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// Override replaces attributes the application already set; by default they are kept.
	Override bool `mapstructure:"override"`
	// Declared replaces detected host values with what the operator knows (e.g. an Edera zone,
	// which looks like a plain Xen PV guest from inside); the detected layers stay as evidence.
	Declared DeclaredConfig `mapstructure:"declared"`
	// Association configures how a resource is matched to a local instance.
	Association AssociationConfig `mapstructure:"association"`
	// Inventory names the instance_inventory extension whose instances resources are matched
	// against. Unset, the one instance_inventory extension of the collector is used when there
	// is exactly one; without any, the processor's own lookup (association::lookup) answers.
	Inventory *component.ID `mapstructure:"inventory"`
	// ResourceAttributes switches each attribute on or off.
	ResourceAttributes ResourceAttributesConfig `mapstructure:"resource_attributes"`

	_ struct{}
}

// DeclaredConfig holds operator-declared host values; empty fields keep the detected value.
type DeclaredConfig struct {
	HypervisorName      string   `mapstructure:"hypervisor_name"`
	HypervisorType      string   `mapstructure:"hypervisor_type"`
	VMMName             string   `mapstructure:"vmm_name"`
	IsolationLevel      string   `mapstructure:"isolation_level"`
	IsolationTechnology string   `mapstructure:"isolation_technology"`
	Layers              []string `mapstructure:"layers"`

	_ struct{}
}

func (d DeclaredConfig) isSet() bool {
	return d.HypervisorName != "" || d.HypervisorType != "" || d.VMMName != "" || d.IsolationLevel != "" ||
		d.IsolationTechnology != "" || len(d.Layers) > 0
}

// AssociationConfig configures instance association.
type AssociationConfig struct {
	// Sources are the resource attributes tried, in order, to find the emitting instance.
	Sources []string `mapstructure:"sources"`
	// InventoryMaxAge is how old the instance inventory's snapshot may be and still be used;
	// an older one (its collector stopped walking) falls back to this processor's own lookup.
	InventoryMaxAge time.Duration `mapstructure:"inventory_max_age"`
	// Lookup enables the processor's own bounded /proc lookup when the inventory cannot answer.
	Lookup bool `mapstructure:"lookup"`
	// CacheSize bounds the number of remembered associations (hits and misses).
	CacheSize int `mapstructure:"cache_size"`
	// CacheTTL is how long a looked-up association is trusted.
	CacheTTL time.Duration `mapstructure:"cache_ttl"`
	// MaxProcesses bounds one scan of /proc when looking up container ids and pod uids.
	MaxProcesses int `mapstructure:"max_processes"`
	// RescanInterval is the minimum time between two scans of /proc.
	RescanInterval time.Duration `mapstructure:"rescan_interval"`
	// KernelReleaseHeuristic marks a resource whose os.description names a kernel release other
	// than the node's as running on its own kernel (vm, or sandbox for gVisor's 4.4.0), when no
	// instance was found for it. Only right when every sender is local.
	KernelReleaseHeuristic bool `mapstructure:"kernel_release_heuristic"`

	_ struct{}
}

// Validate checks the configuration and names the offending field in every error.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.RootPath != "" && !filepath.IsAbs(cfg.RootPath) {
		errs = append(errs, fmt.Errorf("root_path: must be an absolute path, got %q (e.g. root_path: /hostfs)", cfg.RootPath))
	}
	if cfg.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("refresh_interval: must not be negative, got %s (use 0 to detect once at start)", cfg.RefreshInterval))
	}
	a := cfg.Association
	seen := map[string]bool{}
	for _, s := range a.Sources {
		if !contains(validSources, s) {
			errs = append(errs, fmt.Errorf("association::sources: unknown source %q (use any of %s)", s, strings.Join(validSources, ", ")))
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("association::sources: %q is listed twice (list each source once)", s))
		}
		seen[s] = true
	}
	if a.InventoryMaxAge < 0 {
		errs = append(errs, fmt.Errorf("association::inventory_max_age: must not be negative, got %s", a.InventoryMaxAge))
	}
	if a.CacheSize <= 0 {
		errs = append(errs, fmt.Errorf("association::cache_size: must be positive, got %d (e.g. 4096)", a.CacheSize))
	}
	if a.CacheTTL <= 0 {
		errs = append(errs, fmt.Errorf("association::cache_ttl: must be positive, got %s (e.g. 1m)", a.CacheTTL))
	}
	if a.Lookup && a.MaxProcesses <= 0 {
		errs = append(errs, fmt.Errorf("association::max_processes: must be positive when lookup is on, got %d (e.g. 8192)", a.MaxProcesses))
	}
	if a.RescanInterval < 0 {
		errs = append(errs, fmt.Errorf("association::rescan_interval: must not be negative, got %s", a.RescanInterval))
	}
	d := cfg.Declared
	if d.IsolationLevel != "" && !contains(isolationLevels, d.IsolationLevel) {
		errs = append(errs, fmt.Errorf("declared::isolation_level: unknown level %q (use one of %s)", d.IsolationLevel, strings.Join(isolationLevels, ", ")))
	}
	switch {
	case d.HypervisorType == "hosted":
		errs = append(errs, fmt.Errorf("declared::hypervisor_type: %q is ambiguous and no longer accepted (use type2 for a hypervisor hosted on an OS, emulated for software emulation such as QEMU TCG)", d.HypervisorType))
	case d.HypervisorType != "" && !contains([]string{"type1", "type2", "emulated"}, d.HypervisorType):
		errs = append(errs, fmt.Errorf("declared::hypervisor_type: unknown type %q (use type1, type2 or emulated)", d.HypervisorType))
	}
	for _, l := range d.Layers {
		kind, name, ok := strings.Cut(l, ":")
		if !ok || name == "" || !contains(layerKinds, kind) {
			errs = append(errs, fmt.Errorf("declared::layers: %q is not kind:name with kind one of %s (e.g. hypervisor:xen)", l, strings.Join(layerKinds, ", ")))
		}
	}
	return errors.Join(errs...)
}

var (
	isolationLevels = []string{"none", "container", "sandbox", "microvm", "vm", "wasm", "process"}
	layerKinds      = []string{"hypervisor", "vmm", "guest", "sandbox", "container"}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
