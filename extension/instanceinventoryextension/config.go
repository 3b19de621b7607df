package instanceinventoryextension

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
)

// Config configures the instance_inventory extension.
type Config struct {
	// RootPath is where the host's / is mounted (e.g. /hostfs in a DaemonSet); /proc and /sys
	// are read below it. Empty means the collector's own root.
	RootPath string `mapstructure:"root_path"`
	// Runtimes are user-defined matchers, checked before the built-in catalog.
	Runtimes []catalog.Matcher `mapstructure:"runtimes"`
	// Containers also makes every container cgroup an instance of kind container.
	Containers bool `mapstructure:"containers"`
	// RefreshInterval is how old the snapshot may grow before the extension walks the host
	// itself. Receivers that read the inventory walk it on their own collection interval; the
	// extension's walk only runs when nobody else asked within this interval (a collector with
	// only the virtualization_attributes processor).
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// MaxOpenFiles bounds the /proc/<pid>/stat files kept open between walks; 0 disables the
	// cache.
	MaxOpenFiles int `mapstructure:"max_open_files"`

	_ struct{}
}

// Validate checks the configuration and names the offending field in every error.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.RootPath != "" && !filepath.IsAbs(cfg.RootPath) {
		errs = append(errs, fmt.Errorf("root_path: must be an absolute path, got %q (e.g. root_path: /hostfs)", cfg.RootPath))
	}
	if cfg.RefreshInterval < time.Second {
		errs = append(errs, fmt.Errorf("refresh_interval: must be at least 1s, got %s (e.g. refresh_interval: 10s)", cfg.RefreshInterval))
	}
	if cfg.MaxOpenFiles < 0 {
		errs = append(errs, fmt.Errorf("max_open_files: must be 0 (no cache) or positive, got %d", cfg.MaxOpenFiles))
	}
	errs = append(errs, catalog.ValidateMatchers("runtimes", cfg.Runtimes)...)
	return errors.Join(errs...)
}
